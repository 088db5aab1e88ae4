"""link_receive: link frames from a serial radio or UDP in, ``image_raw/gan`` out.

Publishes each intact frame as a CompressedImage (same format, stamp to the millisecond and
frame_id) for ``decoder_node``. Damaged stretches of the stream cost only the frames they
touch; they are counted (``crc_errors``, ``skipped_bytes``, ``waiting_for_table`` in
/diagnostics) and never published.
"""

from __future__ import annotations

from typing import Any

from rclpy.node import Node
from rclpy.qos import qos_profile_system_default
from sensor_msgs.msg import CompressedImage

from ..codec.bitstream import MESSAGE_FORMAT
from ..link.framing import Deframer
from .diagnostics import Diagnostics
from .link_params import open_link_from_params
from .link_send import POLL_S, TOPIC
from .runner import main_for


class LinkReceiver(Node):
    """Link frames in, latent messages out; damaged frames counted, never published."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("link_receive", **kwargs)
        self.link = open_link_from_params(self, receive=True)
        self.deframer = Deframer()
        self.diag = Diagnostics(self, "gan_compress link_receive")
        self.diag.stats.extra = lambda: {k: float(v) for k, v in vars(self.deframer.stats)
                                         .items()}
        self.pub = self.create_publisher(CompressedImage, TOPIC, qos_profile_system_default)
        self.timer = self.create_timer(POLL_S, self.pump)
        self.get_logger().info(f"receiving on {self.link.describe()}, publishing "
                               f"{self.pub.topic_name}")

    def pump(self) -> None:
        """Publish every intact frame that has arrived."""
        for chunk in self.link.read():
            for got in self.deframer.feed(chunk, datagram=self.link.datagrams):
                msg = CompressedImage(format=MESSAGE_FORMAT, data=got.payload)
                msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(got.stamp_ns, 10**9)
                msg.header.frame_id = got.frame_id
                if self.diag.publish(self.pub, msg):
                    self.diag.stats.served(len(got.payload), 0.0)

    def destroy_node(self) -> None:
        """Close the link with the node."""
        self.link.close()
        super().destroy_node()


main = main_for(LinkReceiver, "link_receive")

if __name__ == "__main__":
    main()
