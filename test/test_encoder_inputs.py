"""encoder_node over a real topic against every sensor_msgs encoding and malformed frames.

Each frame must end one of two ways: a latent message with its stamp, or a counted error;
the node never dies and encodes the next good frame. Frames are sent on a reliable input
(an override), so each one is accounted for.
"""

from __future__ import annotations

import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image
from testkit.ros import (
    DiagnosticsWatch,
    NodeUnderTest,
    image_msg,
    reliable_input,
    spin_until,
    stamp_ns,
    start_node,
)

from gan_compress_ros.nodes.encoder_node import STATUS_NAME

NS = "/enc_in"
#: Every encoding named in sensor_msgs/image_encodings.hpp (ROS 2 Kilted).
ENCODINGS = [
    "rgb8", "rgba8", "rgb16", "rgba16", "bgr8", "bgra8", "bgr16", "bgra16", "mono8", "mono16",
    *[f"{t}C{n}" for t in ("8U", "8S", "16U", "16S", "32S", "32F", "64F") for n in (1, 2, 3, 4)],
    "bayer_rggb8", "bayer_bggr8", "bayer_gbrg8", "bayer_grbg8",
    "bayer_rggb16", "bayer_bggr16", "bayer_gbrg16", "bayer_grbg16",
    "yuv422", "yuv422_yuy2", "uyvy", "yuyv", "nv21", "nv24", "nv12",
]
_SIZES = {"8U": 1, "8S": 1, "16U": 2, "16S": 2, "32S": 4, "32F": 4, "64F": 8}


def frame_bytes(encoding: str, w: int, h: int) -> tuple[int, int]:
    """(step, data length) a well-formed frame of ``encoding`` has."""
    if encoding[:-2] in _SIZES and encoding[-2] == "C":
        step = w * _SIZES[encoding[:-2]] * int(encoding[-1])
    elif encoding in ("nv21", "nv12"):
        return w, w * h * 3 // 2
    elif encoding == "nv24":
        return w, w * h * 3
    elif encoding in ("yuv422", "yuv422_yuy2", "uyvy", "yuyv"):
        step = 2 * w
    else:
        depth = 2 if encoding.endswith("16") else 1
        channels = 4 if "a8" in encoding or "a16" in encoding else (
            1 if encoding.startswith(("mono", "bayer")) else 3)
        step = w * depth * channels
    return step, step * h


def raw_msg(encoding: str, w: int, h: int, stamp: int, rng: np.random.Generator,
            step: int | None = None, length: int | None = None) -> Image:
    """A frame of random bytes with the given geometry."""
    good_step, good_len = frame_bytes(encoding, w, h)
    msg = Image(height=h, width=w, encoding=encoding, is_bigendian=0,
                step=good_step if step is None else step)
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 10**9)
    msg.data = rng.bytes(good_len if length is None else length)
    return msg


class Encoder(NodeUnderTest):
    """encoder_node in ``ns``, a publisher into it, its latents and counters."""

    def __init__(self, ros, weights, ns: str, reliable: bool) -> None:
        self.ros = ros
        args = ["-r", f"__ns:={ns}", "-p", f"weights:={weights}", "-p",
                "diagnostics_period:=0.2"] + (reliable_input(f"{ns}/image_raw", 200) if reliable
                                              else [])
        self.proc = start_node("encoder_node", *args)
        self.pub = ros.create_publisher(Image, f"{ns}/image_raw", 200)
        self.latents: dict[int, CompressedImage] = {}
        self.sub = ros.create_subscription(CompressedImage, f"{ns}/image_raw/gan",
                                           lambda m: self.latents.__setitem__(stamp_ns(m), m),
                                           100)
        self.diag = DiagnosticsWatch(ros)

    def wait_ready(self, frame: np.ndarray) -> None:
        """Publish a frame until one comes back encoded (discovery done)."""
        def back() -> bool:
            self.pub.publish(image_msg(frame, 1))
            return spin_until(self.ros, lambda: 1 in self.latents, 0.5)
        assert spin_until(self.ros, back, 60.0), "encoder did not come up"
        assert spin_until(self.ros, lambda: self.diag.value(STATUS_NAME, "frames") > 0, 10.0)
        spin_until(self.ros, lambda: False, 0.6)


@pytest.fixture(scope="module")
def encoder(ros, trained_weights, val_frames):
    e = Encoder(ros, trained_weights, NS, reliable=True)
    e.wait_ready(val_frames[0])
    yield e
    code, log = e.close()
    assert code == 0 and "Traceback" not in log, log


def _account(encoder: Encoder, msgs: list[Image], marker_frame: np.ndarray) -> list[int]:
    """Publish ``msgs`` and a good marker; the stamps that came back encoded."""
    frames0 = encoder.diag.value(STATUS_NAME, "frames")
    errors0 = encoder.diag.value(STATUS_NAME, "errors")
    for msg in msgs:
        encoder.pub.publish(msg)
    marker = max(stamp_ns(m) for m in msgs) + 1
    encoder.pub.publish(image_msg(marker_frame, marker))
    assert spin_until(encoder.ros, lambda: marker in encoder.latents, 60.0), \
        "encoder stopped serving"
    encoded = [stamp_ns(m) for m in msgs if stamp_ns(m) in encoder.latents]
    errors = len(msgs) - len(encoded)
    assert encoder.diag.wait(STATUS_NAME, {"frames": frames0 + len(encoded) + 1,
                                           "errors": errors0 + errors}), \
        (frames0, errors0, len(encoded), errors, encoder.diag.latest.get(STATUS_NAME),
         encoder.proc.log[-3000:])
    assert encoder.proc.poll() is None
    return encoded


def test_every_sensor_msgs_encoding(encoder: Encoder, val_frames: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    msgs = [raw_msg(enc, 48, 32, 10**12 + i, rng) for i, enc in enumerate(ENCODINGS)]
    encoded = _account(encoder, msgs, val_frames[1])
    by_stamp = dict(zip([stamp_ns(m) for m in msgs], ENCODINGS, strict=True))
    names = {by_stamp[s] for s in encoded}
    # the colour, mono and Bayer families are served; every payload is a real latent
    assert {"rgb8", "bgr8", "rgba8", "bgra8", "mono8", "mono16", "rgb16", "bayer_rggb8",
            "yuv422", "yuyv", "nv12", "nv21", "nv24"} <= names, sorted(set(ENCODINGS) - names)
    for s in encoded:
        assert encoder.latents[s].format == "gan_compress" and len(encoder.latents[s].data) > 4
    assert "skipped bad frame" in encoder.proc.log or len(names) == len(ENCODINGS)


def test_malformed_geometry(encoder: Encoder, val_frames: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    base = 2 * 10**12
    msgs = [
        raw_msg("rgb8", 64, 48, base + 1, rng, step=10),  # step shorter than a row
        raw_msg("rgb8", 64, 48, base + 2, rng, length=100),  # data shorter than step*height
        raw_msg("rgb8", 64, 48, base + 3, rng, step=0),
        raw_msg("rgb8", 0, 0, base + 4, rng),  # 0x0
        raw_msg("rgb8", 64, 0, base + 5, rng, length=0),
        raw_msg("mono8", 64, 48, base + 6, rng, step=10**6),  # step beyond the data
        raw_msg("rgb8", 1, 1, base + 7, rng),  # 1x1 is a valid, tiny frame
        raw_msg("rgb8", 5000, 1, base + 8, rng),  # one very wide row
    ]
    encoded = _account(encoder, msgs, val_frames[2])
    assert encoded == [base + 7, base + 8]
    assert "skipped bad frame" in encoder.proc.log


def test_8k_frame(encoder: Encoder, val_frames: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    big = Image(height=4320, width=7680, encoding="rgb8", step=7680 * 3)
    big.header.stamp.sec = 3000
    big.data = np.broadcast_to(rng.integers(0, 256, (1, 7680 * 3), dtype=np.uint8),
                               (4320, 7680 * 3)).tobytes()
    assert _account(encoder, [big], val_frames[3]) == [3000 * 10**9]


def test_flood_of_frames_on_sensor_data_qos(ros, trained_weights, val_frames) -> None:
    """A camera far faster than the codec: the node keeps the newest, survives, serves."""
    e = Encoder(ros, trained_weights, "/enc_flood", reliable=False)
    try:
        e.wait_ready(val_frames[0])
        msg = image_msg(val_frames[1], 0)
        refused = 0
        for i in range(2000):
            msg.header.stamp.sec = 5000 + i
            try:
                e.pub.publish(msg)
            except Exception as exc:  # rclpy's RCLError: the middleware's buffers are full
                if "Failed to publish" not in str(exc):  # (a loaded machine; not the node)
                    raise
                refused += 1
        assert refused < 2000  # the flood reached the node
        spin_until(ros, lambda: False, 1.0)
        last = 10**13
        e.pub.publish(image_msg(val_frames[2], last))
        assert spin_until(ros, lambda: last in e.latents, 30.0)
        flood = [s for s in e.latents if 5000 * 10**9 <= s < 7000 * 10**9]
        assert 0 < len(flood) <= 2000 and e.proc.poll() is None
    finally:
        code, log = e.close()
    assert code == 0 and "Traceback" not in log, log
