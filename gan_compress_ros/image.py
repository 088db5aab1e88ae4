"""Camera images in one place: sensor_msgs/Image <-> RGB, resize modes, file suffixes.

Nodes, tools, training sources and the demo all convert and fit frames here, so a frame is
read the same way everywhere (row padding, Bayer, YUV, NV12) and fitted the same way into
the codec's 64x64 input. Needs NumPy and OpenCV only; rosbags-image is imported when a
message needs it, cv_bridge never (the nodes use it where installed).
"""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np

from .codec.presets import FRAME_SIZE

#: Side of the codec's square input (pixels).
SIZE = FRAME_SIZE
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm"}
_CHANNELS = {"mono8": 1, "mono16": 2, "rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4,
             "rgb16": 6, "bgr16": 6, "rgba16": 8, "bgra16": 8}


def bytes_per_pixel(encoding: str) -> int | None:
    """Bytes per pixel of a sensor_msgs/Image encoding, None if unknown."""
    if encoding in _CHANNELS:
        return _CHANNELS[encoding]
    if encoding.startswith("bayer_"):
        return 2 if encoding.endswith("16") else 1
    return None


#: Semi-planar YUV in ROS's convention: ``height`` is the picture's, the chroma plane follows
#: the luma plane in ``data`` (rosbags-image reads these with another convention).
_SEMI_PLANAR = {"nv12": cv2.COLOR_YUV2RGB_NV12, "nv21": cv2.COLOR_YUV2RGB_NV21, "nv24": None}


def _semi_planar_to_rgb(msg: object, h: int, w: int) -> np.ndarray:
    """RGB of an NV12, NV21 (4:2:0) or NV24 (4:4:4) frame; ValueError if malformed."""
    enc, step = msg.encoding, int(msg.step)
    data = np.frombuffer(bytes(msg.data), np.uint8)
    if step != w:
        raise ValueError(f"{enc} with step {step} != width {w} (padded rows) is not supported")
    if enc == "nv24":
        if data.size < 3 * h * w:
            raise ValueError(f"{enc} {w}x{h} needs {3 * h * w} bytes, got {data.size}")
        uv = data[h * w:3 * h * w].reshape(h, w, 2)
        yuv = np.dstack([data[:h * w].reshape(h, w), uv[..., 0], uv[..., 1]])
        return cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB)
    if h % 2 or w % 2:
        raise ValueError(f"{enc} needs an even width and height, got {w}x{h}")
    if data.size < h * w * 3 // 2:
        raise ValueError(f"{enc} {w}x{h} needs {h * w * 3 // 2} bytes, got {data.size}")
    return cv2.cvtColor(data[:h * w * 3 // 2].reshape(h * 3 // 2, w), _SEMI_PLANAR[enc])


def image_msg_to_rgb(msg: object) -> np.ndarray:
    """uint8 RGB of a sensor_msgs/Image (rclpy or rosbags message), honouring row padding.

    ``rosbags.image`` assumes rows are packed (step == width * bytes per pixel); padded rows
    are repacked first so they are not read sheared.
    """
    from rosbags.image import image_to_cvimage

    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    if msg.encoding in _SEMI_PLANAR:
        return _semi_planar_to_rgb(msg, h, w)
    bpp = bytes_per_pixel(msg.encoding)
    if bpp is not None and step != w * bpp:
        rows = np.frombuffer(bytes(msg.data), np.uint8)[:step * h].reshape(h, step)
        msg = SimpleNamespace(height=h, width=w, encoding=msg.encoding,
                              is_bigendian=msg.is_bigendian, step=w * bpp,
                              data=np.ascontiguousarray(rows[:, :w * bpp]).reshape(-1))
    rgb = np.asarray(image_to_cvimage(msg, "rgb8"))
    if rgb.ndim == 2:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(rgb[..., :3])


RESIZE_MODES = ("crop", "letterbox", "stretch")


def fit(rgb: np.ndarray, mode: str = "crop", size: int = SIZE) -> np.ndarray:
    """Resize to ``size`` x ``size``: centre ``crop``, ``letterbox`` (black bars), ``stretch``."""
    h, w = rgb.shape[:2]
    if mode == "crop":
        side = min(h, w)
        y0, x0 = (h - side) // 2, (w - side) // 2
        rgb = rgb[y0:y0 + side, x0:x0 + side]
    elif mode == "letterbox":
        side = max(h, w)
        canvas = np.zeros((side, side, 3), np.uint8)
        y0, x0 = (side - h) // 2, (side - w) // 2
        canvas[y0:y0 + h, x0:x0 + w] = rgb
        rgb = canvas
    elif mode != "stretch":
        raise ValueError(f"unknown resize_mode {mode!r}: use one of {RESIZE_MODES}")
    interp = cv2.INTER_AREA if min(rgb.shape[:2]) > size else cv2.INTER_LINEAR
    return cv2.resize(rgb, (size, size), interpolation=interp)


def center_crop(image: np.ndarray, size: int = SIZE) -> np.ndarray:
    """The largest centred square of ``image`` resized to ``size`` x ``size``."""
    return fit(image, "crop", size)
