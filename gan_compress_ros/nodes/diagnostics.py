"""Periodic /diagnostics and summary log line for a codec node, and throttled error logs."""

from __future__ import annotations

from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node

from .declare import declare
from .stats import NodeStats

LOG_THROTTLE_S = 5.0
#: The kind under which failed publishes are counted (``errors.publish failed``).
PUBLISH_FAILED = "publish failed"


def try_publish(node: Node, pub: Any, msg: Any) -> str | None:
    """Publish ``msg``; None, or why it failed, logged at most once per LOG_THROTTLE_S.

    A DDS writer can refuse a sample (Fast DDS's write returns an error, e.g. with its
    pools used up; rclpy raises RCLError, a RuntimeError): the frame is lost, the node
    must not be.
    """
    try:
        pub.publish(msg)
    except RuntimeError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        node.get_logger().warning(f"could not publish on {pub.topic_name}: {reason}",
                                  throttle_duration_sec=LOG_THROTTLE_S)
        return reason
    return None


class Diagnostics:
    """Owns a node's NodeStats, its /diagnostics publisher and its summary timer."""

    def __init__(self, node: Node, name: str) -> None:
        self.node = node
        self.stats = NodeStats(name)
        period = float(declare(node, "diagnostics_period"))
        self.pub = node.create_publisher(DiagnosticArray, "/diagnostics", 10)
        if period > 0:
            node.create_timer(period, self.report)

    def report(self) -> None:
        """Publish diagnostics and log the summary line."""
        now = self.node.get_clock().now().to_msg()
        self.pub.publish(self.stats.diagnostics(now, self.node.get_fully_qualified_name()))
        if self.stats.frames or self.stats.errors:
            self.node.get_logger().info(self.stats.summary())

    def publish(self, pub: Any, msg: Any) -> bool:
        """Publish ``msg``; a refused sample is counted (``errors.publish failed``), not raised."""
        if try_publish(self.node, pub, msg) is None:
            return True
        self.stats.error(PUBLISH_FAILED)
        return False

    def bad_input(self, kind: str, reason: str) -> None:
        """Count a bad input and log it, at most once per LOG_THROTTLE_S."""
        self.stats.error(kind)
        self.node.get_logger().warning(f"skipped bad {kind} ({self.stats.errors[kind]} so "
                                       f"far): {reason}", throttle_duration_sec=LOG_THROTTLE_S)
