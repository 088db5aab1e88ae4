"""Start, spin and stop a node the same way everywhere: clean exit on Ctrl-C (even twice).

rclpy's own SIGINT handler is replaced: the first SIGINT/SIGTERM asks the spin loop to stop,
later ones (a terminal plus ``ros2 launch`` forwarding it) are ignored, so shutdown runs once
and the process exits 0 without a traceback. A node that cannot start (bad weights or
parameters) prints why and exits 1.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from ..codec.errors import WeightsError


class StartupError(RuntimeError):
    """A node cannot start; the message says why (shown to the user, exit code 1)."""


def _install_stop_handlers(stop: threading.Event) -> None:
    def handler(signum: int, frame: object) -> None:
        stop.set()  # idempotent: a second signal changes nothing
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def run_nodes(factories: list[Callable[[], Node]], args: list[str] | None = None,
              name: str = "gan_compress_ros", until: Callable[[], bool] | None = None) -> int:
    """Create the nodes, spin them in one executor until a signal (or ``until()``), exit code."""
    stop = threading.Event()
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    _install_stop_handlers(stop)
    nodes: list[Node] = []
    executor = SingleThreadedExecutor()
    try:
        try:
            for factory in factories:
                nodes.append(factory())
        except (StartupError, WeightsError, ValueError) as exc:
            print(f"{name}: cannot start: {exc}", file=sys.stderr)
            return 1
        for node in nodes:
            executor.add_node(node)
        while not stop.is_set() and rclpy.ok() and not (until and until()):
            executor.spin_once(timeout_sec=0.1)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for node in nodes:
            executor.remove_node(node)
            node.destroy_node()
        executor.shutdown()
        rclpy.try_shutdown()


def usage(factory: Callable[[], Node], name: str) -> str:
    """What ``NAME --help`` prints: what the node does and its parameters table."""
    from .parameters import NODES, help_text

    doc = (sys.modules[factory.__module__].__doc__ or "").strip().split("\n\n")[0]
    node = name.removesuffix("_node")
    table = help_text(node) if node in NODES else ""
    return (f"usage: {name} [--ros-args -r FROM:=TO -p NAME:=VALUE ...]\n\n{doc}\n\n"
            f"{table}").rstrip()


def _own_args(argv: list[str], factory: Callable[[], Node], name: str) -> int | None:
    """Handle the arguments before ``--ros-args``: --help (0), anything else (2), none."""
    own = argv[1:argv.index("--ros-args")] if "--ros-args" in argv else argv[1:]
    if "-h" in own or "--help" in own:
        print(usage(factory, name))
        return 0
    if own:
        flag = own[0]
        hint = f" -p {flag.lstrip('-').replace('-', '_')}:=VALUE" if flag.startswith("-") \
            else " -p NAME:=VALUE"
        print(f"{name}: unknown argument {flag!r}: parameters go after --ros-args, as"
              f"{hint} (see {name} --help)", file=sys.stderr)
        return 2
    return None


def main_for(factory: Callable[[], Node], name: str) -> Callable[..., None]:
    """A console-script ``main`` that runs one node (``--help``: its parameters)."""
    def main(args: list[str] | None = None) -> None:
        argv = args if args is not None else sys.argv
        code = _own_args(argv, factory, name)
        sys.exit(code if code is not None else run_nodes([factory], argv, name))
    return main
