"""What both link nodes share: opening the link and its key, and their status and summary.

A link node's summary and /diagnostics say what the link did (frames, bytes, what was
refused and why), not the codec nodes' fields. The status is WARN while authentication,
CRC or replay counters grew within the last ``WARN_WINDOW_S``, and ERROR while bytes arrive
but no valid frame has for ``SILENT_ERROR_S``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.node import Node

from ..link import auth
from ..link.transports import open_link
from .declare import declare
from .runner import StartupError
from .stats import NodeStats

#: Seconds over which a growing refusal counter makes the status WARN.
WARN_WINDOW_S = 30.0
#: Seconds of bytes without a valid frame after which the status is ERROR.
SILENT_ERROR_S = 30.0
#: Counters whose growth means someone or something is sending bad frames.
ALARMS = ("auth_failed", "replayed", "crc_errors", "need_key", "bad_datagrams",
          "tables_rejected", "foreign_datagrams")
NO_KEY_WARNING = ("no key_file: the link is not authenticated, anyone who can reach it can "
                  "inject images (gan-compress-link keygen PATH, then the same key on both "
                  "ends)")


def open_link_from_params(node: Node, receive: bool) -> Any:
    """Declare the link parameters and open the link they name; StartupError if it fails."""
    port, baud, udp = (declare(node, name) for name in ("serial_port", "baud", "udp"))
    peer = declare(node, "peer") if receive else ""
    try:
        return open_link(port, int(baud), udp, receive, peer)
    except (ValueError, ImportError) as exc:
        raise StartupError(str(exc)) from None


def load_link_key(node: Node) -> bytes | None:
    """The key ``key_file`` names (None: none, after one warning); StartupError if bad."""
    path = declare(node, "key_file")
    if not path:
        node.get_logger().warning(NO_KEY_WARNING)
        return None
    try:
        key = auth.load_key(path)
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    if not auth.key_is_private(path):
        node.get_logger().warning(f"link key {path} is readable by other users: chmod 600 it")
    return key


class LinkNodeStats(NodeStats):
    """NodeStats for a link node: its own counters in the summary and the status level."""

    def __init__(self, name: str, counters: Callable[[], dict[str, float]],
                 receiver: bool) -> None:
        super().__init__(name)
        self.extra = counters
        self.receiver = receiver
        self.bytes_in_t: float | None = None  # last time bytes arrived (receiver)
        self.frame_t: float | None = None  # last time a valid frame came out (receiver)
        self._start = time.monotonic()
        self._history: list[tuple[float, dict[str, float]]] = []

    def snapshot(self) -> dict[str, float]:
        """Figures without the decoder's stream-order counts (a link node has none)."""
        s = super().snapshot()
        for key in ("duplicates", "out_of_order"):
            s.pop(key, None)
        return s

    def level(self, s: dict[str, float], now: float) -> tuple[int, str]:
        """The status: ERROR (bytes but no frames), WARN (refusals growing) or OK."""
        self._history.append((now, {k: float(s.get(k, 0.0)) for k in ALARMS}))
        while self._history and self._history[0][0] < now - WARN_WINDOW_S:
            self._history.pop(0)
        if self.receiver and self.bytes_in_t is not None:
            since = now - (self.frame_t if self.frame_t is not None else self._start)
            if self.bytes_in_t > now - SILENT_ERROR_S and since > SILENT_ERROR_S:
                return (DiagnosticStatus.ERROR, f"bytes arrive but no valid frame for "
                        f"{since:.0f} s (wrong key, baud or a foreign sender?)")
        first = self._history[0][1]
        grown = [k for k in ALARMS if s.get(k, 0.0) > first[k]]
        if grown:
            return DiagnosticStatus.WARN, "refused frames: " + ", ".join(
                f"{k} +{s[k] - first[k]:.0f}" for k in grown) + f" in {WARN_WINDOW_S:.0f} s"
        if self.errors:
            return DiagnosticStatus.WARN, "errors seen"
        return DiagnosticStatus.OK, "ok"

    def diagnostics(self, stamp: object, hardware_id: str) -> DiagnosticArray:
        """The codec nodes' message with the link's level and message."""
        msg = super().diagnostics(stamp, hardware_id)
        status = msg.status[0]
        status.level, status.message = self.level(self.snapshot(), time.monotonic())
        return msg

    def summary(self) -> str:
        """One log line: what crossed the link and what was refused."""
        s = self.snapshot()
        errors = ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items())) or "none"
        if not self.receiver:
            return (f"{s['frames']} frames sent, {s['fps']:.1f} fps, "
                    f"{s['bytes_per_frame']:.0f} B/frame on the link, "
                    f"{s['bitrate_kbps']:.2f} kbit/s, dropped for the link "
                    f"{s.get('dropped_for_link', 0):.0f}, errors: {errors}")
        refused = ", ".join(f"{k} {s[k]:.0f}" for k in (*ALARMS, "waiting_for_table",
                                                         "bad_lengths", "skipped_bytes")
                            if s.get(k)) or "none"
        return (f"{s['frames']} frames published, {s['fps']:.1f} fps, "
                f"{s['bytes_per_frame']:.0f} B/frame, tables {s.get('tables', 0):.0f}, "
                f"refused: {refused}, errors: {errors}")
