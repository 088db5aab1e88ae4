"""encoder_node: sensor_msgs/Image on ``image_raw`` -> latent CompressedImage on ``image_raw/gan``.

The output lies beside the input, as image_transport puts it: with ``image_raw`` remapped to
``/usb_cam/image_raw`` the latents go to ``/usb_cam/image_raw/gan``. ``quality``,
``max_bytes_per_frame``, ``max_rate_hz``, ``resize_mode`` and ``weights`` change at run time.

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
from .params import declare, load_codec, on_change, open_codec
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
        self.max_rate_hz = float(declare(self, "max_rate_hz"))
        self.max_bytes = int(declare(self, "max_bytes_per_frame"))
        try:
            self._check_rate_control(self.codec, self.quality, self.max_bytes)
        except ValueError as exc:
            raise StartupError(str(exc)) from None
        on_change(self, {"quality": self._set_quality, "max_bytes_per_frame": self._set_cap,
                         "max_rate_hz": self._set_rate, "resize_mode": self._set_resize,
                         "weights": self._set_weights})
        self.diag = Diagnostics(self, STATUS_NAME)
        self._last = 0.0
        sub_qos = QoSProfile(history=qos_profile_sensor_data.history, depth=1,
                             reliability=qos_profile_sensor_data.reliability,
                             durability=qos_profile_sensor_data.durability)
        overrides = QoSOverridingOptions.with_default_policies()
        self.pub = self.create_publisher(CompressedImage, self.output_topic(),
                                         qos_profile_system_default,
                                         qos_overriding_options=overrides)
        self.sub = self.create_subscription(Image, INPUT_TOPIC, self.on_image, sub_qos,
                                            qos_overriding_options=overrides)

    def output_topic(self) -> str:
        """``image_raw/gan``, or beside the input where the input is remapped."""
        source = self.resolve_topic_name(INPUT_TOPIC)
        if source == self.resolve_topic_name(INPUT_TOPIC, only_expand=True):
            return OUTPUT_TOPIC  # not remapped: a remap of image_raw/gan still applies
        return f"{source}/gan"

    @staticmethod
    def _check_rate_control(codec: object, quality: float, max_bytes: int) -> None:
        if getattr(codec, "variable_rate", False):
            return
        path = getattr(codec, "path", None)
        if quality != -1.0:
            raise ValueError(f"bad parameter quality={quality}: the weights {path} are a "
                             "fixed-rate model; leave quality at -1")
        if max_bytes:
            raise ValueError(f"bad parameter max_bytes_per_frame={max_bytes}: the weights "
                             f"{path} are a fixed-rate model")

    def _set_quality(self, value: float) -> None:
        self._check_rate_control(self.codec, value, self.max_bytes)
        self.quality = value

    def _set_cap(self, value: int) -> None:
        self._check_rate_control(self.codec, self.quality, value)
        self.max_bytes = value

    def _set_rate(self, value: float) -> None:
        self.max_rate_hz = value

    def _set_resize(self, value: str) -> None:
        self.resize_mode = value

    def _set_weights(self, value: str) -> None:
        codec = open_codec(self, value)  # ValueError refuses the change, old codec kept
        self._check_rate_control(codec, self.quality, self.max_bytes)
        self.codec = codec
        self.get_logger().info(codec.describe())

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
