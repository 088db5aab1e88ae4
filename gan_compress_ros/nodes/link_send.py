"""link_send: latent messages on ``image_raw/gan`` out over a serial radio or UDP, no DDS.

Each payload becomes one link frame (``link/framing.py``: 8 bytes of framing, 12 with a
``key_file``; stamp and frame_id restored on the other side), paced to the link's rate: a
message that cannot go in time is replaced by the newer one and counted. With ``encoder``
set, the encoder's ``max_bitrate`` is kept at the link's rate (``link_budget.py``), so it
makes only what the link can carry.
"""

from __future__ import annotations

import time
from typing import Any

from rclpy.node import Node
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage

from ..codec.bitstream import MESSAGE_FORMAT
from ..link.framing import Framer
from ..link.pacer import Pacer
from .convert import stamp_ns
from .declare import declare
from .diagnostics import Diagnostics
from .link_budget import BudgetHandover
from .link_common import LinkNodeStats, load_link_key, open_link_from_params
from .runner import StartupError, main_for

TOPIC = "image_raw/gan"
#: How often the link is serviced (seconds).
POLL_S = 0.005


class LinkSender(Node):
    """Latent messages in, link frames out, at the link's pace."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("link_send", **kwargs)
        self.link = open_link_from_params(self, receive=False)
        key = load_link_key(self)
        rate = float(declare(self, "rate_bytes_per_s")) or self.link.bytes_per_s
        self.framer = Framer(float(declare(self, "table_every")), key, rate)
        self._last_stamp: dict[str, int] = {}
        self.pacer = Pacer(rate)
        self.diag = Diagnostics(self, "gan_compress link_send")
        self.diag.stats = LinkNodeStats(
            self.diag.stats.name, lambda: {"link_bytes_per_s": rate,
                                           "dropped_for_link": self.pacer.dropped,
                                           "link_bytes_sent": self.pacer.bytes_sent},
            receiver=False)
        encoder = declare(self, "encoder")
        if encoder and not rate:
            raise StartupError(f"encoder {encoder}: no link rate to hand over; set "
                               "rate_bytes_per_s (udp has no rate of its own)")
        self.budget = (BudgetHandover(self, encoder, int(rate * 8), self.framer.overhead)
                       if encoder else None)
        self.sub = self.create_subscription(CompressedImage, TOPIC, self.on_latent,
                                            QoSProfile(depth=10,
                                                       reliability=qos_profile_sensor_data
                                                       .reliability))
        self.timer = self.create_timer(POLL_S, self.pump)
        self.get_logger().info(
            f"sending {self.resolve_topic_name(TOPIC)} on {self.link.describe()} "
            f"({f'{rate:.0f} bytes/s' if rate else 'no rate limit'}, {self.framer.overhead} "
            f"bytes of framing per frame{', authenticated' if key else ''})")

    def on_latent(self, msg: CompressedImage) -> None:
        """Frame one payload and hand it to the pacer (newest wins)."""
        if not msg.format.startswith(MESSAGE_FORMAT):
            self.diag.bad_input("format", f"format {msg.format[:40]!r} is not {MESSAGE_FORMAT}")
            return
        stamp = stamp_ns(msg)
        if self.framer.key is not None:  # the receiver takes each stamp once, newest first
            last = self._last_stamp.get(msg.header.frame_id)
            if last is not None and stamp // 1_000_000 <= last // 1_000_000:
                self.diag.bad_input("stamp", f"stamp {stamp} ns is not newer than the last "
                                    f"sent ({last} ns): with a key the receiver refuses it as "
                                    "a replay (does the camera set header.stamp?)")
                return
            self._last_stamp[msg.header.frame_id] = stamp
        try:
            frames = self.framer.frames(bytes(msg.data), stamp, msg.header.frame_id)
        except ValueError as exc:
            self.diag.bad_input("payload", str(exc))
            return
        self.pacer.offer(frames)
        self.pump()

    def pump(self) -> None:
        """Write the waiting message when the link has time for it."""
        frames = self.pacer.poll(time.monotonic())
        if frames is None:
            return
        start = time.perf_counter()
        for frame in frames:
            self.link.write(frame)
        self.diag.stats.served(sum(len(f) for f in frames), (time.perf_counter() - start) * 1e3)

    def destroy_node(self) -> None:
        """Close the link with the node."""
        self.link.close()
        super().destroy_node()


main = main_for(LinkSender, "link_send")

if __name__ == "__main__":
    main()
