"""encoder_node: sensor_msgs/Image on ``image_raw`` -> latent CompressedImage on ``image_raw/gan``.

The output lies beside the input, as image_transport puts it: with ``image_raw`` remapped to
``/usb_cam/image_raw`` the latents go to ``/usb_cam/image_raw/gan``. ``quality``,
``max_bytes_per_frame``, ``max_bitrate``, ``max_rate_hz``, ``resize_mode``, ``key_interval``
and ``weights`` change at run time. ``key_interval`` above 1 turns on temporal mode
(``codec/temporal.py``): key frames and inter frames, the byte cap and budget applying to
both. ``max_bitrate`` is held on the serialized messages (``rate_control``).

QoS: the subscription keeps a history of one, so when encoding falls behind the newest
frame is kept and older ones are dropped. Its reliability follows the camera
(``input_reliability`` auto): reliable when every publisher offers it, so that a large
frame is not lost whole for one lost UDP fragment, best effort otherwise (REP 2003's
sensor-data QoS, which matches any publisher). The publisher uses system-default
(reliable). Both are overridable through ``qos_overrides.<topic>.subscription/publisher.*``.
Large frames are taken into heap memory, not fresh pages (``heap.py``); the camera's side
of moving them is the camera process's (``dds.py``).
"""

from __future__ import annotations

import time
from collections import deque
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
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CompressedImage, Image

from ..codec import ByteCapError, WeightsError
from ..codec.bitstream import INTER_VERSION, quality_of
from ..codec.temporal import StreamEncoder
from ..rate_control import BitBudget
from .camera_info import fitted_camera_info
from .convert import LATENT_FORMAT, FrameError, fit, image_to_rgb
from .diagnostics import Diagnostics
from .heap import keep_frames_in_heap
from .params import declare, load_codec, on_change, open_codec
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


class EncoderNode(Node):
    """Encodes each camera frame into a self-contained payload."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("encoder", **kwargs)
        self.codec = load_codec(self)
        self.resize_mode = declare(self, "resize_mode")
        self.quality = float(declare(self, "quality"))
        self.max_rate_hz = float(declare(self, "max_rate_hz"))
        self.max_bytes = int(declare(self, "max_bytes_per_frame"))
        self.max_bitrate = int(declare(self, "max_bitrate"))
        self.budget_window = float(declare(self, "max_bitrate_window"))
        self.budget_overhead = int(declare(self, "max_bitrate_overhead"))
        self._overheads: dict[str, int] = {}  # serialized message size beside the payload
        try:
            self._check_rate_control(self.codec, self.quality, self.max_bytes,
                                     self.max_bitrate)
        except ValueError as exc:
            raise StartupError(str(exc)) from None
        self.budget = BitBudget(self.max_bitrate, self.budget_window) if self.max_bitrate \
            else None
        self.key_interval = int(declare(self, "key_interval"))
        self.stream: StreamEncoder | None = None
        try:
            self.stream = self._stream_for(self.codec, self.key_interval)
        except (ValueError, WeightsError) as exc:
            raise StartupError(f"bad parameter key_interval={self.key_interval}: {exc}") \
                from None
        on_change(self, {"quality": self._set_quality, "max_bytes_per_frame": self._set_cap,
                         "max_bitrate": self._set_bitrate,
                         "max_bitrate_window": self._set_window,
                         "max_bitrate_overhead": self._set_overhead,
                         "max_rate_hz": self._set_rate, "resize_mode": self._set_resize,
                         "key_interval": self._set_key_interval,
                         "weights": self._set_weights})
        self.diag = Diagnostics(self, STATUS_NAME)
        self._qualities: deque[int] = deque(maxlen=300)
        self._kinds: deque[tuple[bool, int]] = deque(maxlen=300)  # (inter, bytes)
        self.diag.stats.extra = self._rate_figures
        self._last = 0.0
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
        self.reliable_input = False
        self.input_reliability = declare(self, "input_reliability")
        self._subscribe(self.input_reliability == "reliable")
        if self.input_reliability == "auto":  # follow the publishers as they come and go
            self._follow = self.create_timer(AUTO_QOS_CHECK_S, self._follow_publishers)

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
        """Camera frames DDS reports lost on the way (``input_lost`` in /diagnostics).

        Fast DDS reports a gap in the writer's sequence numbers that will not be filled,
        e.g. a frame the camera's writer replaced before this reader had it. A frame
        replaced in this reader's own history of one (the newest frame wins) is not a loss
        DDS reports.
        """
        self.input_lost += int(info.total_count_change)

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

    @staticmethod
    def _check_rate_control(codec: object, quality: float, max_bytes: int,
                            max_bitrate: int) -> None:
        if getattr(codec, "variable_rate", False):
            return
        path = getattr(codec, "path", None)
        for name, value, off in (("quality", quality, -1.0), ("max_bytes_per_frame", max_bytes, 0),
                                 ("max_bitrate", max_bitrate, 0)):
            if value != off:
                raise ValueError(f"bad parameter {name}={value}: the weights {path} are a "
                                 f"fixed-rate model; leave {name} at {off:g}")

    def _set_quality(self, value: float) -> None:
        self._check_rate_control(self.codec, value, self.max_bytes, self.max_bitrate)
        self.quality = value

    def _set_cap(self, value: int) -> None:
        self._check_rate_control(self.codec, self.quality, value, self.max_bitrate)
        self.max_bytes = value

    def _set_bitrate(self, value: int) -> None:
        self._check_rate_control(self.codec, self.quality, self.max_bytes, value)
        if value and value * self.budget_window < 8:
            raise ValueError(f"bad parameter max_bitrate={value}: not one byte per "
                             f"{self.budget_window:g} s window")
        if not value:
            self.budget = None
        elif self.budget is None:
            self.budget = BitBudget(value, self.budget_window)
        else:
            self.budget.set_rate(value)
        self.max_bitrate = value

    def _set_window(self, value: float) -> None:
        self.budget_window = value
        if self.budget is not None:  # a new window starts from an empty history
            self.budget = BitBudget(self.max_bitrate, value)

    def _set_overhead(self, value: int) -> None:
        self.budget_overhead = value

    def _rate_figures(self) -> dict[str, float]:
        """Input and rate-control figures for /diagnostics and the summary line."""
        figures: dict[str, float] = {"input_lost": float(self.input_lost)}
        if self._qualities:
            figures["mean_quality"] = sum(self._qualities) / len(self._qualities) / 255
        if self.stream is not None and self._kinds:
            inter_bytes = sum(n for inter, n in self._kinds if inter)
            figures["inter_frame_share"] = sum(i for i, _ in self._kinds) / len(self._kinds)
            figures["key_byte_share"] = 1 - inter_bytes / max(1, sum(n for _, n in self._kinds))
        if self.budget is not None:
            figures["budget_bps"] = float(self.max_bitrate)
            figures["achieved_bps"] = self.budget.window_bits_per_s(time.monotonic())
            figures["skipped_for_budget"] = self.budget.frames_skipped
        return figures

    def _overhead(self, header: Any) -> int:
        """Bytes counted beside the payload: the serialized message's, or as configured.

        The serialized size depends only on the frame_id's length, so it is measured once per
        frame_id, not per frame.
        """
        if self.budget_overhead >= 0:
            return self.budget_overhead
        frame_id = header.frame_id
        if frame_id not in self._overheads:
            self._overheads[frame_id] = len(serialize_message(
                CompressedImage(header=header, format=LATENT_FORMAT)))
        return self._overheads[frame_id]

    def _set_rate(self, value: float) -> None:
        self.max_rate_hz = value

    def _set_resize(self, value: str) -> None:
        self.resize_mode = value
        self.camera_info.refresh()

    @staticmethod
    def _stream_for(codec: Any, key_interval: int) -> StreamEncoder | None:
        """Temporal mode's encoder for ``key_interval`` > 1 (None: every frame intra)."""
        return codec.stream_encoder(key_interval) if key_interval > 1 else None

    def _set_key_interval(self, value: int) -> None:
        try:
            self.stream = self._stream_for(self.codec, value)  # starts with a key frame
        except WeightsError as exc:
            raise ValueError(str(exc)) from None
        self.key_interval = value

    def _set_weights(self, value: str) -> None:
        codec = open_codec(self, value)  # ValueError refuses the change, old codec kept
        self._check_rate_control(codec, self.quality, self.max_bytes, self.max_bitrate)
        try:
            stream = self._stream_for(codec, self.key_interval)
        except WeightsError as exc:
            raise ValueError(f"{exc} (or set key_interval 1)") from None
        self.codec, self.stream = codec, stream
        self.get_logger().info(codec.describe())

    def on_image(self, msg: Image) -> None:
        """Encode and publish one frame; bad frames are counted and logged (throttled)."""
        now = time.monotonic()
        if self.max_rate_hz and now - self._last < 1.0 / self.max_rate_hz:
            self.diag.stats.dropped += 1
            return
        try:
            frame = fit(image_to_rgb(msg), self.resize_mode, fast=True)
        except FrameError as exc:
            self.diag.bad_input("frame", str(exc))
            return
        start = time.perf_counter()
        quality = None if self.quality < 0 else self.quality
        cap = self.max_bytes or None
        overhead = 0
        if self.budget is not None:
            overhead = self._overhead(msg.header)
            allowed = self.budget.allowance(time.monotonic(), overhead)
            cap = allowed if cap is None else min(cap, allowed)
            if self.budget.lowest_only:  # the share is below quality 0's size
                quality = 0.0
        try:
            if cap is not None and cap < 1:
                raise ByteCapError("no bytes left in the budget", 0, 0)
            if self.stream is not None:
                payload = self.stream.encode(frame, quality=quality, max_bytes=cap)
            else:
                payload = self.codec.encode(frame, quality=quality, max_bytes=cap)[0]
        except ByteCapError as exc:
            if self.budget is not None and cap != self.max_bytes:
                # counted as skipped for the budget, not as an error
                self.budget.skipped(exc.smallest + overhead if exc.smallest else 0)
                self.diag.stats.dropped += 1
            else:
                self.diag.bad_input("frame over max_bytes_per_frame", str(exc))
            return
        out = CompressedImage(header=msg.header, format=LATENT_FORMAT, data=payload)
        if not self.diag.publish(self.pub, out):  # counted; the budget is not charged
            return
        inter = payload[0] == INTER_VERSION
        qbyte = None
        if inter and self.stream is not None and self.stream.key is not None:
            qbyte = self.stream.key.qbyte  # an inter frame has its key's quality
        elif self.codec.variable_rate:
            qbyte = quality_of(payload)
        if self.stream is not None:
            self._kinds.append((inter, len(payload)))
        if self.budget is not None:
            self.budget.sent(time.monotonic(), overhead + len(payload), at_lowest=qbyte == 0)
        self._last = now
        if qbyte is not None:
            self._qualities.append(qbyte)
        self.diag.stats.served(len(payload), (time.perf_counter() - start) * 1000)


main = main_for(EncoderNode, "encoder_node")

if __name__ == "__main__":
    main()
