"""link_receive: link frames from a serial radio or UDP in, ``image_raw/gan`` out.

Publishes each intact frame as a CompressedImage (same format, stamp to the millisecond and
frame_id) for ``decoder_node``. With a ``key_file``, only frames whose tag verifies and
whose stamp is new are published. What is refused is counted (``crc_errors``,
``auth_failed``, ``replayed``, ``bad_datagrams``, ``waiting_for_table``, ... in
/diagnostics, which turns WARN while they grow) and never published. Work per call is
bounded: at most ``READ_DATAGRAMS`` datagrams (or 4 KiB of a serial line) are read and at
most ``MAX_PUBLISH`` frames published; the rest waits for the next call.
"""

from __future__ import annotations

import time
from typing import Any

from rclpy.node import Node
from rclpy.qos import qos_profile_system_default
from sensor_msgs.msg import CompressedImage

from ..codec.bitstream import MESSAGE_FORMAT
from ..link.deframer import Deframer, Received
from .declare import declare
from .diagnostics import Diagnostics
from .link_common import LinkNodeStats, load_link_key, open_link_from_params
from .link_send import POLL_S, TOPIC
from .runner import main_for

#: Datagrams read per call at most (each holds one frame).
READ_DATAGRAMS = 16
#: Frames published per call at most.
MAX_PUBLISH = 16


class LinkReceiver(Node):
    """Link frames in, latent messages out; damaged or forged frames counted, never published."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("link_receive", **kwargs)
        self.link = open_link_from_params(self, receive=True)
        key = load_link_key(self)
        self.deframer = Deframer(int(declare(self, "max_payload")), key)
        self.diag = Diagnostics(self, "gan_compress link_receive")
        self.diag.stats = self.stats = LinkNodeStats(self.diag.stats.name, self._counters,
                                                     receiver=True)
        self.pub = self.create_publisher(CompressedImage, TOPIC, qos_profile_system_default)
        self.timer = self.create_timer(POLL_S, self.pump)
        self.get_logger().info(f"receiving on {self.link.describe()}"
                               f"{' (authenticated)' if key else ''}, publishing "
                               f"{self.pub.topic_name}")

    def _counters(self) -> dict[str, float]:
        counts = {k: float(v) for k, v in vars(self.deframer.stats).items() if k != "frames"}
        counts["foreign_datagrams"] = float(getattr(self.link, "foreign", 0))
        return counts

    def pump(self) -> None:
        """Publish the intact frames that have arrived, at most MAX_PUBLISH."""
        got: list[Received] = []
        for chunk in self.link.read(READ_DATAGRAMS):
            self.stats.bytes_in_t = time.monotonic()
            if self.link.datagrams:
                got += self.deframer.datagram(chunk)
            else:
                self.deframer.buffer += chunk
        if not self.link.datagrams:
            got += self.deframer.frames(MAX_PUBLISH)
        for frame in got[:MAX_PUBLISH]:
            self.stats.frame_t = time.monotonic()
            msg = CompressedImage(format=MESSAGE_FORMAT, data=frame.payload)
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(frame.stamp_ns, 10**9)
            msg.header.frame_id = frame.frame_id
            if self.diag.publish(self.pub, msg):
                self.diag.stats.served(len(frame.payload), 0.0)

    def destroy_node(self) -> None:
        """Close the link with the node."""
        self.link.close()
        super().destroy_node()


main = main_for(LinkReceiver, "link_receive")

if __name__ == "__main__":
    main()
