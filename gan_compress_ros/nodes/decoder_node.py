"""decoder_node: latent CompressedImage on ``image_raw/gan`` -> 64x64 rgb8 on ``image_decoded``.

The encoder's CameraInfo, fitted to the 64x64 frame, is republished beside the images on
``image_decoded/camera_info`` (``camera_info.py``).

Every intra payload decodes alone, so the node may join a stream (or a bag) at any point,
and a lost, repeated or reordered message affects that frame only: repeats and late frames
are still decoded and published, and counted (``duplicates``, ``out_of_order`` in
/diagnostics). Inter payloads of temporal mode decode once their key frame has arrived; until
then they are counted (``waiting_for_key``) and nothing is published for them.
Payloads that are corrupt, from other weights or another format are counted and logged,
never fatal.
"""

from __future__ import annotations

import time
from typing import Any

import cv2
from rclpy.node import Node
from rclpy.qos import QoSProfile, qos_profile_sensor_data, qos_profile_system_default
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import CompressedImage, Image

from ..codec import BitstreamError
from .camera_info import decoded_camera_info
from .convert import LATENT_FORMAT, rgb_to_image, stamp_ns
from .declare import declare, load_codec, on_change, open_codec
from .diagnostics import Diagnostics
from .runner import main_for

INPUT_TOPIC = "image_raw/gan"
#: Name of the node's status in /diagnostics.
STATUS_NAME = "gan_compress decoder"
OUTPUT_TOPIC = "image_decoded"


class DecoderNode(Node):
    """Decodes latent messages back into images."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("decoder", **kwargs)
        self.codec = load_codec(self)
        self.stream = self.codec.stream_decoder()
        self.output_size = int(declare(self, "output_size"))
        on_change(self, {"output_size": self._set_size, "weights": self._set_weights})
        self.diag = Diagnostics(self, STATUS_NAME)
        self.diag.stats.extra = self._temporal_figures
        overrides = QoSOverridingOptions.with_default_policies()
        self.pub = self.create_publisher(Image, OUTPUT_TOPIC, qos_profile_system_default,
                                         qos_overriding_options=overrides)
        self.camera_info = decoded_camera_info(self, INPUT_TOPIC, OUTPUT_TOPIC,
                                               lambda: self.output_size)
        # Sensor-data QoS (REP 2003) matches reliable and best-effort publishers alike; a
        # queue of 10 lets a burst after a link stall be decoded, not collapsed to one.
        sub_qos = QoSProfile(history=qos_profile_sensor_data.history, depth=10,
                             reliability=qos_profile_sensor_data.reliability,
                             durability=qos_profile_sensor_data.durability)
        self.sub = self.create_subscription(CompressedImage, INPUT_TOPIC, self.on_latent,
                                            sub_qos, qos_overriding_options=overrides)

    def _set_size(self, value: int) -> None:
        self.output_size = value
        self.camera_info.refresh()

    def _set_weights(self, value: str) -> None:
        self.codec = open_codec(self, value)  # ValueError refuses it, old codec kept
        self.stream = self.codec.stream_decoder()
        self.get_logger().info(self.codec.describe())

    def _temporal_figures(self) -> dict[str, float]:
        """Temporal mode's figures for /diagnostics (once an inter frame has come)."""
        stream = self.stream
        if not stream.inter_bytes:
            return {}
        return {"waiting_for_key": stream.waiting,
                "key_byte_share": stream.key_bytes / (stream.key_bytes + stream.inter_bytes)}

    def on_latent(self, msg: CompressedImage) -> None:
        """Decode and publish one payload; bad payloads are counted and logged (throttled)."""
        if not msg.format.startswith(LATENT_FORMAT):
            self.diag.bad_input("format", f"format {msg.format[:40]!r} is not {LATENT_FORMAT}")
            return
        start = time.perf_counter()
        try:
            rgb = self.stream.decode(bytes(msg.data))
        except BitstreamError as exc:
            self.diag.bad_input("payload", str(exc))
            return
        if rgb is None:  # an inter frame whose key frame has not arrived (counted)
            return
        ms = (time.perf_counter() - start) * 1000
        if self.output_size and self.output_size != rgb.shape[0]:
            rgb = cv2.resize(rgb, (self.output_size, self.output_size),
                             interpolation=cv2.INTER_NEAREST)
        if not self.diag.publish(self.pub, rgb_to_image(rgb, msg.header)):
            return
        self.diag.stats.served(len(msg.data), ms)
        self.diag.stats.order.observe(stamp_ns(msg))


main = main_for(DecoderNode, "decoder_node")

if __name__ == "__main__":
    main()
