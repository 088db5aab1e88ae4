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


def main_for(factory: Callable[[], Node], name: str) -> Callable[..., None]:
    """A console-script ``main`` that runs one node."""
    def main(args: list[str] | None = None) -> None:
        sys.exit(run_nodes([factory], args if args is not None else sys.argv, name))
    return main
