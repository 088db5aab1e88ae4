"""encoder_node: sensor_msgs/Image on ``image_raw`` -> latent CompressedImage on ``image_raw/gan``.

QoS as image_pipeline does it (REP 2003): the subscription uses sensor-data QoS with a
history of one, so when encoding falls behind the newest frame is kept and older ones are
dropped; the publisher uses system-default (reliable). Both are overridable through
``qos_overrides.<topic>.subscription/publisher.*`` parameters.
"""

from __future__ import annotations

import time
from typing import Any

from rclpy.node import Node
from rclpy.qos import QoSProfile, qos_profile_sensor_data, qos_profile_system_default
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import CompressedImage, Image

from ..codec import ByteCapError
from .convert import LATENT_FORMAT, FrameError, fit, image_to_rgb
from .diagnostics import Diagnostics
from .params import declare, load_codec
from .runner import StartupError, main_for

INPUT_TOPIC = "image_raw"
#: Name of the node's status in /diagnostics.
STATUS_NAME = "gan_compress encoder"
OUTPUT_TOPIC = "image_raw/gan"


class EncoderNode(Node):
    """Encodes each camera frame into a self-contained payload."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("encoder", **kwargs)
        self.codec = load_codec(self)
        self.resize_mode = declare(self, "resize_mode")
        self.quality = float(declare(self, "quality"))
        if self.quality != -1.0 and not self.codec.variable_rate:
            raise StartupError(f"bad parameter quality={self.quality}: the weights "
                               f"{self.codec.path} are a fixed-rate model; leave quality at -1")
        self.max_rate_hz = float(declare(self, "max_rate_hz"))
        self.max_bytes = int(declare(self, "max_bytes_per_frame"))
        if self.max_bytes and not self.codec.variable_rate:
            raise StartupError(f"bad parameter max_bytes_per_frame={self.max_bytes}: the "
                               f"weights {self.codec.path} are a fixed-rate model")
        self.diag = Diagnostics(self, STATUS_NAME)
        self._last = 0.0
        sub_qos = QoSProfile(history=qos_profile_sensor_data.history, depth=1,
                             reliability=qos_profile_sensor_data.reliability,
                             durability=qos_profile_sensor_data.durability)
        overrides = QoSOverridingOptions.with_default_policies()
        self.pub = self.create_publisher(CompressedImage, OUTPUT_TOPIC,
                                         qos_profile_system_default,
                                         qos_overriding_options=overrides)
        self.sub = self.create_subscription(Image, INPUT_TOPIC, self.on_image, sub_qos,
                                            qos_overriding_options=overrides)

    def on_image(self, msg: Image) -> None:
        """Encode and publish one frame; bad frames are counted and logged (throttled)."""
        now = time.monotonic()
        if self.max_rate_hz and now - self._last < 1.0 / self.max_rate_hz:
            self.diag.stats.dropped += 1
            return
        try:
            frame = fit(image_to_rgb(msg), self.resize_mode)
        except FrameError as exc:
            self.diag.bad_input("frame", str(exc))
            return
        start = time.perf_counter()
        quality = None if self.quality < 0 else self.quality
        try:
            payload = self.codec.encode(frame, quality=quality,
                                        max_bytes=self.max_bytes or None)[0]
        except ByteCapError as exc:
            self.diag.bad_input("frame over max_bytes_per_frame", str(exc))
            return
        out = CompressedImage(header=msg.header, format=LATENT_FORMAT, data=payload)
        self.pub.publish(out)
        self._last = now
        self.diag.stats.served(len(payload), (time.perf_counter() - start) * 1000)


main = main_for(EncoderNode, "encoder_node")

if __name__ == "__main__":
    main()
