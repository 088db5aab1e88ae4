"""Helpers for integration tests: node processes and a probe node in the test process."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
import rclpy
from rclpy.node import Node
from rclpy.parameter import Parameter, parameter_value_to_python
from rclpy.parameter_client import AsyncParameterClient
from sensor_msgs.msg import Image

from gan_compress_ros.nodes.convert import stamp_ns  # noqa: F401 (tests import it from here)
from gan_compress_ros.tools import pipeline_bench

from .files import without_torch  # noqa: F401 (tests import it from here)


def reliable_input(topic: str, depth: int = 50) -> list[str]:
    """The nodes' reliable-input override with the tests' deeper default queue."""
    return pipeline_bench.reliable_input(topic, depth)


class NodeProcess:
    """A node as its own process, its output collected by a reader thread."""

    def __init__(self, executable: str, *ros_args: str, env: dict[str, str] | None = None) \
            -> None:
        cmd = [sys.executable, "-m", f"gan_compress_ros.nodes.{executable}", "--ros-args",
               *ros_args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def log(self) -> str:
        """Everything the process printed so far."""
        return "".join(self.lines)

    def poll(self) -> int | None:
        """Exit code, or None while running."""
        return self.proc.poll()

    def send_signal(self, signum: int) -> None:
        """Send ``signum`` to the process."""
        self.proc.send_signal(signum)

    def wait_for(self, text: str, timeout: float = 60.0) -> bool:
        """Wait until ``text`` appears in the output (or the process ends)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text in self.log:
                return True
            if self.proc.poll() is not None:
                self._reader.join(5)
                return text in self.log
            time.sleep(0.05)
        return False


def start_node(executable: str, *ros_args: str, env: dict[str, str] | None = None) \
        -> NodeProcess:
    """Start ``gan_compress_ros.nodes.<executable>`` with ROS arguments (and ``env``)."""
    return NodeProcess(executable, *ros_args, env=env)


def wait_exit(node: NodeProcess, timeout: float = 120.0) -> tuple[int, str]:
    """Wait for a node that should end by itself; (exit code, output)."""
    try:
        node.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    return stop_node(node)


def stop_node(node: NodeProcess, timeout: float = 20.0) -> tuple[int, str]:
    """SIGINT (if still running), wait; returns (exit code, output)."""
    if node.proc.poll() is None:
        node.proc.send_signal(signal.SIGINT)
    try:
        node.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        node.proc.kill()
        node.proc.wait()
    node._reader.join(5)
    return node.proc.returncode, node.log


def spin_until(node: Node, condition: Callable[[], bool], timeout: float) -> bool:
    """Spin ``node`` until ``condition()`` or ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)
        if condition():
            return True
    return False


def image_msg(rgb: np.ndarray, stamp: int, frame_id: str = "camera",
              encoding: str = "rgb8") -> Image:
    """A sensor_msgs/Image of ``rgb`` (any dtype/channels as the encoding says)."""
    msg = Image()
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 10**9)
    msg.header.frame_id = frame_id
    msg.height, msg.width = rgb.shape[:2]
    msg.encoding = encoding
    msg.step = rgb.shape[1] * rgb.itemsize * (rgb.shape[2] if rgb.ndim == 3 else 1)
    msg.data = np.ascontiguousarray(rgb).tobytes()
    return msg



class DiagnosticsWatch:
    """Keeps the newest /diagnostics values of each status name (node counters)."""

    def __init__(self, node: Node) -> None:
        from diagnostic_msgs.msg import DiagnosticArray

        self.node = node
        self.latest: dict[str, dict[str, str]] = {}
        self.by_node: dict[str, dict[str, str]] = {}  # keyed by hardware_id (node name)
        self.sub = node.create_subscription(DiagnosticArray, "/diagnostics", self._on, 50)

    def _on(self, msg) -> None:
        for status in msg.status:
            self.latest[status.name] = {kv.key: kv.value for kv in status.values}
            self.by_node[status.hardware_id] = self.latest[status.name]

    def value(self, name: str, key: str) -> int:
        """Newest integer counter ``key`` of status ``name`` (0 before any message)."""
        return int(float(self.latest.get(name, {}).get(key, 0)))

    def wait(self, name: str, expected: dict[str, int], timeout: float = 15.0) -> bool:
        """Spin until every counter in ``expected`` has its value; False on timeout."""
        return spin_until(self.node, lambda: all(self.value(name, k) == v
                                                 for k, v in expected.items()), timeout)

    def wait_node(self, node: str, expected: dict[str, int], timeout: float = 15.0) -> bool:
        """``wait`` for one node (its fully qualified name) where several share a status."""
        return spin_until(self.node, lambda: all(
            int(float(self.by_node.get(node, {}).get(k, -1))) == v
            for k, v in expected.items()), timeout)

    def close(self) -> None:
        """Remove the subscription."""
        self.node.destroy_subscription(self.sub)


class NodeUnderTest:
    """A node process with the test's publisher and subscription on it and a diagnostics watch.

    Subclasses set ``ros``, ``proc``, ``pub``, ``sub`` and ``diag``.
    """

    ros: Node
    proc: NodeProcess

    def close(self) -> tuple[int, str]:
        """Remove the endpoints and stop the node; (exit code, output)."""
        self.ros.destroy_subscription(self.sub)
        self.ros.destroy_publisher(self.pub)
        self.diag.close()
        return stop_node(self.proc)


class Remote:
    """`ros2 param get/set` on a node from the test's probe node."""

    def __init__(self, ros: Node, name: str) -> None:
        self.ros = ros
        self.client = AsyncParameterClient(ros, name)
        assert self.client.wait_for_services(30.0), f"no parameter services on {name}"

    def _wait(self, future):
        assert spin_until(self.ros, future.done, 30.0), "no answer from the parameter service"
        return future.result()

    def get(self, name: str) -> object:
        """The parameter's value (``ros2 param get``)."""
        return parameter_value_to_python(
            self._wait(self.client.get_parameters([name])).values[0])

    def set(self, name: str, value: object) -> tuple[bool, str]:
        """(accepted, reason) of ``ros2 param set``."""
        result = self._wait(self.client.set_parameters([Parameter(name, value=value)]))
        return result.results[0].successful, result.results[0].reason
