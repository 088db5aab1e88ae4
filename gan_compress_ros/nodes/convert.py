"""Camera frames <-> numpy, and fitting any frame into the codec's 64x64 input.

cv_bridge is used when importable (a ROS install); otherwise the image module's NumPy and
OpenCV converter, which covers the same colour, mono, Bayer and YUV encodings. Anything
malformed raises ``FrameError`` with the reason, so a node can count it and serve the next
frame.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import cv2
import numpy as np
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from ..codec.bitstream import MESSAGE_FORMAT
from ..image import RESIZE_MODES, bytes_per_pixel, fit, image_msg_to_rgb  # noqa: F401

try:  # pragma: no cover - depends on the ROS install
    from cv_bridge import CvBridge

    _BRIDGE: CvBridge | None = CvBridge()
except ImportError:
    _BRIDGE = None

LATENT_FORMAT = MESSAGE_FORMAT


@lru_cache(maxsize=64)
def latent_overhead(frame_id: str) -> int:
    """Bytes a serialized latent message adds beside its payload.

    It depends only on the frame_id (the stamp and format have fixed sizes), so it is
    measured once per frame_id, not per frame.
    """
    return len(serialize_message(CompressedImage(header=Header(frame_id=frame_id),
                                                 format=LATENT_FORMAT)))


class FrameError(ValueError):
    """A camera frame that cannot be used: bad size, step, data length or encoding."""


def image_to_rgb(msg: Image) -> np.ndarray:
    """uint8 RGB (H, W, 3) of a sensor_msgs/Image; FrameError for anything malformed."""
    h, w, step, n = int(msg.height), int(msg.width), int(msg.step), len(msg.data)
    if h <= 0 or w <= 0:
        raise FrameError(f"empty frame ({w}x{h})")
    bpp = bytes_per_pixel(msg.encoding)
    if bpp is not None and step < w * bpp:
        raise FrameError(f"step {step} is shorter than a row of {w} {msg.encoding} pixels")
    if n < step * h or step <= 0:
        raise FrameError(f"data holds {n} bytes, {h} rows of step {step} need {step * h}")
    try:
        if _BRIDGE is not None:  # pragma: no cover
            rgb = _BRIDGE.imgmsg_to_cv2(msg, "rgb8")
        else:
            rgb = image_msg_to_rgb(msg)
    except Exception as exc:  # both converters raise their own types for bad encodings
        raise FrameError(f"cannot convert encoding {msg.encoding!r} to rgb8: {exc}") from None
    rgb = np.asarray(rgb)
    if rgb.ndim == 2:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB)
    if rgb.dtype != np.uint8:
        rgb = cv2.convertScaleAbs(rgb, alpha=255.0 / max(float(rgb.max()), 1.0))
    return np.ascontiguousarray(rgb[..., :3])


def stamp_ns(msg: Any) -> int:
    """A message's header stamp in nanoseconds: the key that follows a frame end to end."""
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def rgb_to_image(rgb: np.ndarray, header: object = None, frame_id: str = "") -> Image:
    """A sensor_msgs/Image (rgb8) of a uint8 RGB array, with ``header`` copied if given."""
    msg = Image()
    if header is not None:
        msg.header = header
    elif frame_id:
        msg.header.frame_id = frame_id
    msg.height, msg.width = int(rgb.shape[0]), int(rgb.shape[1])
    msg.encoding = "rgb8"
    msg.is_bigendian = 0
    msg.step = msg.width * 3
    msg.data = np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()
    return msg
