"""encoder_node: sensor_msgs/Image on ``image_raw`` -> latent CompressedImage on ``image_raw/gan``.

The output lies beside the input, as image_transport puts it (``image_raw`` remapped to
``/usb_cam/image_raw``: latents on ``/usb_cam/image_raw/gan``). Rate policy (quality, effort,
key interval, byte cap, bit budget, frame rate) is ``RateEncoder``'s; the dynamic parameters
are the table's (``parameters.py``).

QoS: the subscription keeps a history of one (the newest frame); its reliability follows the
camera (``input_reliability`` auto): reliable when every publisher offers it, so a large
frame is not lost whole for one lost UDP fragment, else best effort (REP 2003's sensor-data
QoS). The publisher uses system-default (reliable). Both take ``qos_overrides``. Large frames
are taken into heap memory, not fresh pages (``heap.py``).
"""

from __future__ import annotations

import time
from typing import Any

from rclpy.node import Node
from rclpy.qos import (
    QoSPolicyKind,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
    qos_profile_system_default,
)
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import CompressedImage, Image

from ..codec import Codec
from ..rate_encoder import SKIP_CAP, SKIP_WINDOW, RateEncoder
from .camera_info import fitted_camera_info
from .convert import LATENT_FORMAT, FrameError, fit, image_to_rgb, latent_overhead
from .declare import declare, load_codec, on_change, open_codec
from .diagnostics import LOG_THROTTLE_S, Diagnostics
from .heap import keep_frames_in_heap
from .runner import StartupError, main_for

try:  # Jazzy and later
    from rclpy.event_handler import SubscriptionEventCallbacks
except ImportError:  # Humble
    from rclpy.qos_event import SubscriptionEventCallbacks  # type: ignore[no-redef,unused-ignore]

INPUT_TOPIC = "image_raw"
#: Name of the node's status in /diagnostics.
STATUS_NAME = "gan_compress encoder"
OUTPUT_TOPIC = "image_raw/gan"
#: How often input_reliability auto looks at the publishers (seconds).
AUTO_QOS_CHECK_S = 0.5
#: More frames than DDS can have lost between two of its reports (9 hours at 30 fps).
MAX_LOST_REPORT = 1 << 20


class EncoderNode(Node):
    """Encodes each camera frame into a self-contained payload (policy: ``RateEncoder``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("encoder", **kwargs)
        codec = load_codec(self)
        self.resize_mode = declare(self, "resize_mode")
        quality = float(declare(self, "quality"))
        self.budget_overhead = int(declare(self, "max_bitrate_overhead"))
        try:
            self.rate = RateEncoder(codec, None if quality < 0 else quality,
                                    int(declare(self, "max_bytes_per_frame")),
                                    int(declare(self, "max_bitrate")),
                                    float(declare(self, "max_bitrate_window")),
                                    max_rate_hz=float(declare(self, "max_rate_hz")))
        except ValueError as exc:
            raise StartupError(str(exc)) from None
        for name, setter in (("key_interval", self.rate.set_key_interval),
                             ("effort", self.rate.set_effort)):
            value = int(declare(self, name))
            try:
                setter(value)
            except ValueError as exc:
                raise StartupError(f"bad parameter {name}={value}: {exc}") from None
        rate = self.rate
        on_change(self, {"quality": lambda v: rate.set_quality(None if v < 0 else v),
                         "max_bytes_per_frame": rate.set_cap, "max_bitrate": rate.set_bitrate,
                         "max_bitrate_window": rate.set_window,
                         "max_bitrate_overhead": lambda v: setattr(self, "budget_overhead", v),
                         "max_rate_hz": lambda v: setattr(rate, "max_rate_hz", v),
                         "resize_mode": self._set_resize,
                         "key_interval": rate.set_key_interval, "effort": rate.set_effort,
                         "weights": self._set_weights})
        self.diag = Diagnostics(self, STATUS_NAME)
        self.diag.stats.extra = self._rate_figures
        self.pub = self.create_publisher(CompressedImage, self.output_topic(),
                                         qos_profile_system_default,
                                         qos_overriding_options=QoSOverridingOptions
                                         .with_default_policies())
        self.camera_info = fitted_camera_info(self, INPUT_TOPIC, self.output_topic(),
                                              lambda: self.resize_mode)
        # every frame arrives in two new buffers of its size: from the heap (heap.py)
        if not keep_frames_in_heap():
            self.get_logger().debug("no glibc mallopt: large frames come from fresh pages")
        self.sub: Any = None
        self.input_lost = 0  # frames DDS reported lost before they reached the node
        self.input_lost_ignored = 0  # DDS's lost reports that could not be counts
        self.reliable_input = False
        self.input_reliability = declare(self, "input_reliability")
        self._subscribe(self.input_reliability == "reliable")
        if self.input_reliability == "auto":  # follow the publishers as they come and go
            self._follow = self.create_timer(AUTO_QOS_CHECK_S, self._follow_publishers)

    @property
    def codec(self) -> Codec:
        """The codec in use (``weights`` swaps it)."""
        return self.rate.codec

    def _subscribe(self, reliable: bool) -> None:
        """The input subscription: keep the newest frame, reliable or best effort."""
        if self.sub is not None:
            self.destroy_subscription(self.sub)
        qos = QoSProfile(history=qos_profile_sensor_data.history, depth=1,
                         reliability=ReliabilityPolicy.RELIABLE if reliable else
                         qos_profile_sensor_data.reliability,
                         durability=qos_profile_sensor_data.durability)
        # reliability is input_reliability's; history and depth take qos_overrides
        options = QoSOverridingOptions([QoSPolicyKind.HISTORY, QoSPolicyKind.DEPTH])
        events = SubscriptionEventCallbacks(message_lost=self._on_input_lost)
        self.sub = self.create_subscription(Image, INPUT_TOPIC, self.on_image, qos,
                                            qos_overriding_options=options,
                                            event_callbacks=events)
        self.reliable_input = reliable
        self.get_logger().info(
            f"subscribed to {self.sub.topic_name}: {'reliable' if reliable else 'best effort'}"
            f", keeping the newest frame (input_reliability {self.input_reliability})")

    def _on_input_lost(self, info: Any) -> None:
        """Camera frames DDS reports lost: sequence gaps, not our history of one replacing.

        A report that cannot be a count is ignored, counted and logged: Fast DDS reports
        2**31 - 1 lost, then takes it back through an overflowing total, when it drops a part
        received large frame between small ones (docs/benchmarks.md).
        """
        change = int(info.total_count_change)
        if 0 < change <= MAX_LOST_REPORT:
            self.input_lost += change
            return
        self.input_lost_ignored += 1
        self.get_logger().warning(
            f"ignored a lost-frames report from DDS that cannot be a count ({change}, total "
            f"{int(info.total_count)}; {self.input_lost_ignored} so far)",
            throttle_duration_sec=LOG_THROTTLE_S)

    def _follow_publishers(self) -> None:
        """``input_reliability`` auto: reliable while every publisher offers it.

        A large frame sent best effort is lost whole when one of its UDP fragments is; a
        reliable reader has lost fragments sent again, and still keeps only the newest frame.
        A best-effort camera needs a best-effort reader (a reliable one would not match it).
        """
        found = self.get_publishers_info_by_topic(self.resolve_topic_name(INPUT_TOPIC))
        reliable = bool(found) and all(
            info.qos_profile.reliability == ReliabilityPolicy.RELIABLE for info in found)
        if found and reliable != self.reliable_input:
            self._subscribe(reliable)

    def output_topic(self) -> str:
        """``image_raw/gan``, or beside the input where the input is remapped."""
        source = self.resolve_topic_name(INPUT_TOPIC)
        if source == self.resolve_topic_name(INPUT_TOPIC, only_expand=True):
            return OUTPUT_TOPIC  # not remapped: a remap of image_raw/gan still applies
        return f"{source}/gan"

    def _rate_figures(self) -> dict[str, float]:
        """Input and rate-control figures for /diagnostics and the summary line."""
        return {"input_lost": float(self.input_lost),
                "input_lost_reports_ignored": float(self.input_lost_ignored),
                **self.rate.figures(time.monotonic())}

    def _set_resize(self, value: str) -> None:
        self.resize_mode = value
        self.camera_info.refresh()

    def _set_weights(self, value: str) -> None:
        self.rate.set_codec(open_codec(self, value))  # ValueError: the old codec is kept
        self.get_logger().info(self.codec.describe())

    def on_image(self, msg: Image) -> None:
        """Encode and publish one frame; bad frames are counted and logged (throttled)."""
        now = time.monotonic()
        if not self.rate.due(now):
            self.diag.stats.dropped += 1
            return
        try:
            frame = fit(image_to_rgb(msg), self.resize_mode, fast=True)
        except FrameError as exc:
            self.diag.bad_input("frame", str(exc))
            return
        start = time.perf_counter()
        overhead = 0  # bytes the budget counts beside the payload: as configured, or measured
        if self.rate.budget is not None:
            overhead = self.budget_overhead if self.budget_overhead >= 0 else \
                latent_overhead(msg.header.frame_id)
        encoded = self.rate.encode(frame, now, overhead)
        if encoded.coded is None:
            if encoded.skipped == SKIP_CAP:
                self.diag.bad_input("frame over max_bytes_per_frame", encoded.message)
            elif encoded.skipped == SKIP_WINDOW:
                self.diag.bad_input("frame over the bit budget's window", encoded.message)
            else:  # the budget's: counted as dropped, not as an error
                self.diag.stats.dropped += 1
            return
        out = CompressedImage(header=msg.header, format=LATENT_FORMAT, data=encoded.payload)
        if not self.diag.publish(self.pub, out):  # counted; the budget is not charged
            return
        self.rate.published(encoded, time.monotonic())
        self.diag.stats.served(len(encoded.payload), (time.perf_counter() - start) * 1000)


main = main_for(EncoderNode, "encoder_node")

if __name__ == "__main__":
    main()
