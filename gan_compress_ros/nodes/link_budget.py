"""link_send's hand-over of the link's budget to an encoder, checked and kept up.

Every ``CHECK_S`` the sender reads the encoder's ``max_bitrate`` and
``max_bitrate_overhead``; when they differ from the link's (at start, or after the encoder
restarted with its defaults), it sets them and logs the encoder's answer: "set ..." only
when the encoder accepted, its reason when it refused. An encoder that does not answer is
reported after ``ABSENT_WARN_S`` (and again when one that answered goes away).
"""

from __future__ import annotations

import time
from typing import Any

from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient

CHECK_S = 1.0
ABSENT_WARN_S = 5.0


class BudgetHandover:
    """Keeps ``encoder``'s max_bitrate at the link's ``bitrate`` with ``overhead`` bytes."""

    def __init__(self, node: Node, encoder: str, bitrate: int, overhead: int) -> None:
        self.node, self.encoder = node, encoder
        self.wanted = {"max_bitrate": bitrate, "max_bitrate_overhead": overhead}
        self.client = AsyncParameterClient(node, encoder)
        self.present = False
        self.confirmed = False
        self.refused: str | None = None
        self.warned_absent = False
        self._start = time.monotonic()
        self._busy: Any = None
        self.timer = node.create_timer(CHECK_S, self.check)

    def check(self) -> None:
        """Read the encoder's values (when it answers), then set them if they differ."""
        if self._busy is not None and not self._busy.done():
            return
        log = self.node.get_logger()
        if not self.client.services_are_ready():
            if self.present:
                log.warning(f"encoder {self.encoder} went away: the budget is handed over "
                            "again when it is back")
                self.present = self.confirmed = False
                self.refused = None
            elif not self.warned_absent and time.monotonic() - self._start > ABSENT_WARN_S:
                log.warning(f"no encoder {self.encoder} answers (is the name right? "
                            "`ros2 node list`): frames go out as they come, and the budget "
                            "is handed over when it appears")
                self.warned_absent = True
            return
        self.present = True
        self._busy = self.client.get_parameters(list(self.wanted))
        self._busy.add_done_callback(self._got)

    def _got(self, future: Any) -> None:
        try:
            values = future.result().values
        except Exception:  # noqa: BLE001 - the encoder went away mid-call: next check
            return
        have = [v.integer_value for v in values]
        if len(have) == len(self.wanted) and have == list(self.wanted.values()):
            if not self.confirmed:
                self._log_set(already=True)
            self.confirmed = True
            return
        self.confirmed = False
        if self.refused is not None:
            return  # refused once: asked again only after the encoder restarts
        self._busy = self.client.set_parameters(
            [Parameter(k, value=v) for k, v in self.wanted.items()])
        self._busy.add_done_callback(self._set)

    def _set(self, future: Any) -> None:
        try:
            results = future.result().results
        except Exception:  # noqa: BLE001
            return
        reasons = [r.reason for r in results if not r.successful]
        if reasons:
            self.refused = "; ".join(reasons) or "no reason given"
            self.node.get_logger().error(
                f"encoder {self.encoder} refused max_bitrate {self.wanted['max_bitrate']} "
                f"bit/s: {self.refused}")
            return
        self.confirmed = True
        self._log_set(already=False)

    def _log_set(self, already: bool) -> None:
        what = (f"max_bitrate {self.wanted['max_bitrate']} bit/s with "
                f"{self.wanted['max_bitrate_overhead']} bytes of framing per frame")
        self.node.get_logger().info(f"encoder {self.encoder} already has {what}" if already
                                    else f"set {self.encoder} {what} (the encoder accepted)")
