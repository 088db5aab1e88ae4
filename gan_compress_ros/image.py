"""Camera images in one place: sensor_msgs/Image <-> RGB, resize modes, file suffixes.

Nodes, tools, training sources and the demo all convert and fit frames here, so a frame is
read the same way everywhere (row padding, Bayer, YUV, NV12) and fitted the same way into
the codec's 64x64 input. Needs NumPy and OpenCV only: neither rosbags nor cv_bridge (the
nodes use cv_bridge where installed).
"""

from __future__ import annotations

import posixpath
from typing import Any, Protocol

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


class ImageMessage(Protocol):
    """What the converter reads of a sensor_msgs/Image (rclpy's, rosbags' or a test's)."""

    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: Any


#: Semi-planar YUV in ROS's convention: ``height`` is the picture's, the chroma plane follows
#: the luma plane in ``data`` (rosbags-image reads these with another convention).
#: (NV24 is 4:4:4 and converted by hand: -1.)
_SEMI_PLANAR = {"nv12": cv2.COLOR_YUV2RGB_NV12, "nv21": cv2.COLOR_YUV2RGB_NV21, "nv24": -1}


def _buffer(data: Any) -> np.ndarray:
    """A message's ``data`` as flat uint8, without a copy for bytes, arrays and ndarrays."""
    try:
        return np.frombuffer(data, np.uint8)
    except TypeError:  # a list of ints, as a hand-made message may hold
        return np.asarray(data, np.uint8).reshape(-1)


def _semi_planar_to_rgb(msg: ImageMessage, h: int, w: int) -> np.ndarray:
    """RGB of an NV12, NV21 (4:2:0) or NV24 (4:4:4) frame; ValueError if malformed."""
    enc, step = msg.encoding, int(msg.step)
    data = _buffer(msg.data)
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


#: Planar and packed encodings: (sample type, channels, OpenCV conversion to RGB or None).
#: The same colour conventions as cv_bridge and rosbags-image (a test checks the latter).
_PACKED: dict[str, tuple[type, int, int | None]] = {
    "rgb8": (np.uint8, 3, None), "bgr8": (np.uint8, 3, cv2.COLOR_BGR2RGB),
    "rgba8": (np.uint8, 4, cv2.COLOR_RGBA2RGB), "bgra8": (np.uint8, 4, cv2.COLOR_BGRA2RGB),
    "mono8": (np.uint8, 1, cv2.COLOR_GRAY2RGB),
    "rgb16": (np.uint16, 3, None), "bgr16": (np.uint16, 3, cv2.COLOR_BGR2RGB),
    "rgba16": (np.uint16, 4, cv2.COLOR_RGBA2RGB), "bgra16": (np.uint16, 4, cv2.COLOR_BGRA2RGB),
    "mono16": (np.uint16, 1, cv2.COLOR_GRAY2RGB),
    # OpenCV's three-channel types, taken as RGB; only 8- and 16-bit ones are scaled
    "8UC3": (np.uint8, 3, None), "8SC3": (np.int8, 3, None), "16UC3": (np.uint16, 3, None),
    "16SC3": (np.int16, 3, None), "32SC3": (np.int32, 3, None),
    "32FC3": (np.float32, 3, None), "64FC3": (np.float64, 3, None),
    "uyvy": (np.uint8, 2, cv2.COLOR_YUV2RGB_UYVY), "yuv422": (np.uint8, 2, cv2.COLOR_YUV2RGB_UYVY),
    "yuyv": (np.uint8, 2, cv2.COLOR_YUV2RGB_YUYV),
    "yuv422_yuy2": (np.uint8, 2, cv2.COLOR_YUV2RGB_YUYV),
}
for _bits, _dtype in ((8, np.uint8), (16, np.uint16)):
    # ROS names the pattern of the top-left 2x2 block; OpenCV the one starting at (1, 1).
    for _ros, _cv in (("rggb", "BG"), ("bggr", "RG"), ("gbrg", "GR"), ("grbg", "GB")):
        _PACKED[f"bayer_{_ros}{_bits}"] = (_dtype, 1, getattr(cv2, f"COLOR_BAYER_{_cv}2RGB"))

#: Every sensor_msgs/Image encoding the nodes accept.
ENCODINGS = tuple(sorted([*_PACKED, *_SEMI_PLANAR]))


def _rows(msg: ImageMessage, h: int, w: int, sample: np.dtype, channels: int) -> np.ndarray:
    """The message's pixels as an (h, w[, c]) array, a view where rows are not padded."""
    step = int(msg.step)
    data = _buffer(msg.data)
    itemsize = sample.itemsize
    row = w * channels * itemsize
    if data.size < step * h or step < row:
        raise ValueError(f"{msg.encoding} {w}x{h}: step {step} and {data.size} bytes "
                         f"cannot hold {h} rows of {row} bytes")
    rows = data[:step * h].reshape(h, step)[:, :row]
    dtype = sample.newbyteorder(">" if msg.is_bigendian else "<") if itemsize > 1 else sample
    if step != row or not rows.flags.c_contiguous:
        rows = np.ascontiguousarray(rows)
    pixels = rows.reshape(-1).view(dtype).reshape((h, w, channels) if channels > 1 else (h, w))
    return pixels.astype(sample) if not dtype.isnative else pixels


def image_msg_to_rgb(msg: ImageMessage) -> np.ndarray:
    """uint8 RGB of a sensor_msgs/Image (rclpy or rosbags message), honouring row padding.

    NumPy and OpenCV only; 16-bit samples are scaled to 8 bits. ValueError for an unknown
    encoding or data that does not match the header.
    """
    h, w = int(msg.height), int(msg.width)
    if msg.encoding in _SEMI_PLANAR:
        return _semi_planar_to_rgb(msg, h, w)
    try:
        dtype, channels, code = _PACKED[msg.encoding]
    except KeyError:
        raise ValueError(f"encoding {msg.encoding!r} is not supported; "
                         f"supported: {', '.join(ENCODINGS)}") from None
    pixels = _rows(msg, h, w, np.dtype(dtype), channels)
    rgb = pixels if code is None else cv2.cvtColor(pixels, code)
    if rgb.dtype.itemsize == 2:  # 16-bit: scaled to 8 bits (cv_bridge, rosbags-image)
        rgb = np.multiply(rgb, 255.0 / 65535.0).astype(np.uint8)
    elif rgb.dtype != np.uint8:  # other depths: cast, as rosbags-image does
        rgb = rgb.astype(np.uint8)
    return np.ascontiguousarray(rgb[..., :3])


def read_rgb(path: object) -> np.ndarray:
    """uint8 RGB of an image file; ValueError if OpenCV cannot read it."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"{path}: not an image OpenCV can read")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def compressed_to_rgb(data: bytes) -> np.ndarray:
    """uint8 RGB of a sensor_msgs/CompressedImage's JPEG or PNG bytes; ValueError if not one."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("not a JPEG, PNG or other image OpenCV can read")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


RESIZE_MODES = ("crop", "letterbox", "stretch")


def fit(rgb: np.ndarray, mode: str = "crop", size: int = SIZE, fast: bool = False) -> np.ndarray:
    """Resize to ``size`` x ``size``: centre ``crop``, ``letterbox`` (black bars), ``stretch``.

    ``fast`` (the encoder node's camera path): frames of at least ``FAST_FACTOR`` times
    ``size`` are first area-averaged by a whole factor (OpenCV's fast path, a quarter of the
    time of an area resize by 7.5 or 16.9), dropping the less than one factor's worth of
    rows and columns that do not divide, then area-resized to ``size``; letterbox bars are
    added after shrinking, not before. The result differs from the exact path by what the
    few dropped border pixels and the two-step averaging change (docs/benchmarks.md,
    "Where the time goes").
    """
    if mode not in RESIZE_MODES:
        raise ValueError(f"unknown resize_mode {mode!r}: use one of {RESIZE_MODES}")
    h, w = rgb.shape[:2]
    if mode == "crop":
        side = min(h, w)
        y0, x0 = (h - side) // 2, (w - side) // 2
        rgb = rgb[y0:y0 + side, x0:x0 + side]
    if fast and min(rgb.shape[:2]) >= FAST_FACTOR * size:
        if mode == "letterbox":
            scale = size / max(h, w)
            tw, th = max(1, round(w * scale)), max(1, round(h * scale))
            canvas = np.zeros((size, size, 3), np.uint8)
            y0, x0 = (size - th) // 2, (size - tw) // 2
            canvas[y0:y0 + th, x0:x0 + tw] = _shrink(rgb, tw, th)
            return canvas
        return _shrink(rgb, size, size)
    if mode == "letterbox":
        side = max(h, w)
        canvas = np.zeros((side, side, 3), np.uint8)
        y0, x0 = (side - h) // 2, (side - w) // 2
        canvas[y0:y0 + h, x0:x0 + w] = rgb
        rgb = canvas
    interp = cv2.INTER_AREA if min(rgb.shape[:2]) > size else cv2.INTER_LINEAR
    return cv2.resize(rgb, (size, size), interpolation=interp)


#: ``fit(fast=True)`` takes the two-step path from this many times the output size up.
FAST_FACTOR = 6


def _shrink(rgb: np.ndarray, tw: int, th: int) -> np.ndarray:
    """Area-average by whole factors (centre, dropping the remainder), then area-resize."""
    h, w = rgb.shape[:2]
    # half the whole factor: the last, fractional step then averages about 2x2 pixels,
    # as close to one area resize as a two-step path gets (a 1.06x last step blurs)
    kx, ky = max(1, w // tw // 2), max(1, h // th // 2)
    mw, mh = w // kx, h // ky
    y0, x0 = (h - mh * ky) // 2, (w - mw * kx) // 2
    small = cv2.resize(rgb[y0:y0 + mh * ky, x0:x0 + mw * kx], (mw, mh),
                       interpolation=cv2.INTER_AREA)
    if (mw, mh) == (tw, th):
        return small
    return cv2.resize(small, (tw, th), interpolation=cv2.INTER_AREA)


def center_crop(image: np.ndarray, size: int = SIZE) -> np.ndarray:
    """The largest centred square of ``image`` resized to ``size`` x ``size``."""
    return fit(image, "crop", size)


def fit_camera_info(k: Any, p: Any, width: int, height: int, mode: str = "crop",
                    size: int = SIZE) -> tuple[list[float], list[float], int, int]:
    """K, P, width and height of a camera after ``fit(frame, mode, size)``.

    The same crop, letterbox offset and scale as :func:`fit`, applied to the intrinsics
    the way image_proc's crop and resize do (focal lengths and principal point scaled,
    the crop's or bars' offset moved into the principal point; P's Tx and Ty scaled).
    Distortion coefficients do not change under scaling and translation. The fast path's
    few dropped border pixels (``fit(fast=True)``) are below a pixel of the 64x64 image.
    """
    if mode not in RESIZE_MODES:
        raise ValueError(f"unknown resize_mode {mode!r}: use one of {RESIZE_MODES}")
    if width <= 0 or height <= 0:
        raise ValueError(f"camera_info {width}x{height}: no image size to fit")
    x0 = y0 = 0.0
    sx, sy = size / width, size / height  # stretch
    if mode == "crop":
        side = min(width, height)
        x0, y0 = (width - side) // 2, (height - side) // 2
        sx = sy = size / side
    elif mode == "letterbox":
        side = max(width, height)
        x0, y0 = -((side - width) // 2), -((side - height) // 2)
        sx = sy = size / side
    # a pixel (u, v) becomes ((u - x0) sx, (v - y0) sy): rows 0 and 1 of K and P become
    # s (row - offset * row 2), row 2 unchanged
    km = np.asarray(k, np.float64).reshape(3, 3).copy()
    pm = np.asarray(p, np.float64).reshape(3, 4).copy()
    for m in (km, pm):
        m[0] = sx * (m[0] - x0 * m[2])
        m[1] = sy * (m[1] - y0 * m[2])
    return km.reshape(-1).tolist(), pm.reshape(-1).tolist(), size, size


def fit_camera_info_msg(info: Any, mode: str = "crop", size: int = SIZE) -> Any:
    """``info`` (CameraInfo of rclpy or rosbags) changed in place to match ``fit``.

    K, P, width and height change as ``fit(frame, mode, size)`` changes the frame; D, R
    and the rest stay.
    """
    k, p, w, h = fit_camera_info(info.k, info.p, int(info.width), int(info.height), mode, size)
    info.k, info.p = np.asarray(k, np.float64), np.asarray(p, np.float64)
    info.width, info.height = w, h
    return info


def camera_info_of(image_topic: str) -> str:
    """The camera's CameraInfo topic for an image topic (image_transport: a sibling)."""
    return posixpath.join(posixpath.dirname(image_topic), "camera_info")


def info_beside(image_topic: str) -> str:
    """Where this package puts the CameraInfo of an image or latent topic it makes.

    Under the topic, not beside it: image_transport's sibling ``camera_info`` is the
    camera's own topic when encoder and decoder run in the camera's namespace, and a
    64x64 CameraInfo there would mislead every other subscriber (and the encoder).
    """
    return f"{image_topic.rstrip('/')}/camera_info"


def camera_info_key(info: Any) -> tuple:
    """What a CameraInfo says, without its stamp: equal keys mean nothing changed."""
    roi = info.roi
    return (info.header.frame_id, int(info.height), int(info.width), info.distortion_model,
            *(tuple(float(v) for v in getattr(info, f)) for f in "dkrp"),
            int(info.binning_x), int(info.binning_y), int(roi.x_offset), int(roi.y_offset),
            int(roi.height), int(roi.width), bool(roi.do_rectify))
