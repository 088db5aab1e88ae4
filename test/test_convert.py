"""Camera frame conversion: every common encoding, the resize modes, and malformed frames."""

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import Image
from testkit.ros import image_msg

from gan_compress_ros.nodes.convert import FrameError, fit, image_to_rgb, rgb_to_image

RGB = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)


@pytest.mark.parametrize("encoding, data", [
    ("rgb8", RGB),
    ("bgr8", RGB[..., ::-1]),
    ("rgba8", np.dstack([RGB, np.full(RGB.shape[:2], 255, np.uint8)])),
    ("bgra8", np.dstack([RGB[..., ::-1], np.full(RGB.shape[:2], 255, np.uint8)])),
])
def test_colour_encodings(encoding: str, data: np.ndarray) -> None:
    assert np.array_equal(image_to_rgb(image_msg(data, 0, encoding=encoding)), RGB)


@pytest.mark.parametrize("encoding, data", [
    ("mono8", RGB[..., 0]),
    ("mono16", RGB[..., 0].astype(np.uint16) * 256),
    ("rgb16", RGB.astype(np.uint16) * 256),
    ("bayer_rggb8", RGB[..., 0]),
    ("bayer_bggr8", RGB[..., 0]),
    ("bayer_gbrg8", RGB[..., 0]),
    ("bayer_grbg8", RGB[..., 0]),
])
def test_other_encodings_become_rgb8(encoding: str, data: np.ndarray) -> None:
    rgb = image_to_rgb(image_msg(data, 0, encoding=encoding))
    assert rgb.shape == (30, 40, 3) and rgb.dtype == np.uint8


def _short(msg):
    msg.data = bytes(msg.data)[:10]
    return msg


def _step(msg):
    msg.step = 5
    return msg


@pytest.mark.parametrize("msg, reason", [
    (image_msg(np.zeros((0, 0, 3), np.uint8), 0), "empty"),
    (_short(image_msg(RGB, 0)), "data holds 10 bytes"),
    (_step(image_msg(RGB, 0)), "step 5"),
    (image_msg(RGB, 0, encoding="32FC1"), "32FC1"),
    (image_msg(RGB, 0, encoding="yuv_unknown"), "yuv_unknown"),
])
def test_malformed_frames_raise_frame_error(msg, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        image_to_rgb(msg)


@pytest.mark.parametrize("shape", [(1, 1, 3), (480, 640, 3), (4320, 7680, 3), (64, 64, 3)])
@pytest.mark.parametrize("mode", ["crop", "letterbox", "stretch"])
def test_fit_gives_64x64(shape: tuple, mode: str) -> None:
    assert fit(np.zeros(shape, np.uint8), mode).shape == (64, 64, 3)


def test_letterbox_keeps_bars_and_crop_keeps_centre() -> None:
    wide = np.full((32, 128, 3), 200, np.uint8)
    boxed = fit(wide, "letterbox")
    assert boxed[0].max() == 0 and boxed[32].min() == 200
    assert fit(wide, "crop").min() == 200


def test_unknown_resize_mode() -> None:
    with pytest.raises(ValueError, match="resize_mode"):
        fit(RGB, "zoom")


def test_rgb_to_image_round_trip() -> None:
    msg = rgb_to_image(RGB, frame_id="cam")
    assert (msg.width, msg.height, msg.step, msg.header.frame_id) == (40, 30, 120, "cam")
    assert np.array_equal(image_to_rgb(msg), RGB)


@pytest.mark.parametrize("encoding, data", [("rgb8", RGB), ("mono8", RGB[..., 0])])
def test_padded_rows_are_not_sheared(encoding: str, data: np.ndarray) -> None:
    msg = image_msg(data, 0, encoding=encoding)
    row = msg.step
    rows = np.frombuffer(bytes(msg.data), np.uint8).reshape(30, row)
    padded = np.concatenate([rows, np.full((30, 13), 77, np.uint8)], axis=1)
    msg.step, msg.data = row + 13, padded.tobytes()
    expected = image_to_rgb(image_msg(data, 0, encoding=encoding))
    assert np.array_equal(image_to_rgb(msg), expected)


@pytest.mark.parametrize("encoding", ["nv12", "nv21", "nv24"])
def test_semi_planar_yuv_in_ros_convention(encoding: str) -> None:
    """Height is the picture's; the chroma plane follows the luma plane in data."""
    h, w = 32, 48
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, :24], rgb[:, 24:] = (200, 30, 30), (20, 180, 60)
    if encoding == "nv24":
        yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV)
        data = np.concatenate([yuv[..., 0].ravel(), yuv[..., 1:].ravel()])
    else:
        i420 = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
        u, v = i420[h:h + h // 4].ravel(), i420[h + h // 4:].ravel()
        uv = np.stack([u, v] if encoding == "nv12" else [v, u], 1).ravel()
        data = np.concatenate([i420[:h].ravel(), uv])
    msg = Image(height=h, width=w, encoding=encoding, step=w, data=data.tobytes())
    assert np.abs(image_to_rgb(msg).astype(int) - rgb).max() <= 2
    msg.data = data.tobytes()[:h * w]  # chroma missing
    with pytest.raises(FrameError, match="needs"):
        image_to_rgb(msg)


@pytest.mark.parametrize("bigendian", [0, 1])
def test_converter_matches_rosbags_image(bigendian: int) -> None:
    """The NumPy/OpenCV converter gives rosbags-image's pixels for every packed encoding."""
    rosbags_image = pytest.importorskip("rosbags.image", reason="rosbags-image (test extra)")
    from types import SimpleNamespace

    from gan_compress_ros.image import ENCODINGS, image_msg_to_rgb

    rng = np.random.default_rng(1)
    checked = 0
    for encoding in ENCODINGS:
        if encoding.startswith("nv"):  # rosbags-image reads these in another convention
            continue
        wide = "16" in encoding
        channels = {"uyvy": 2, "yuv422": 2, "yuyv": 2, "yuv422_yuy2": 2}.get(
            encoding, 1 if ("mono" in encoding or "bayer" in encoding) else
            4 if "a" in encoding.replace("bayer", "") else 3)
        h, w = 6, 8
        data = rng.integers(0, 256, h * w * channels * (2 if wide else 1), dtype=np.uint8)
        generic = {"8SC3": "i1", "16SC3": "i2", "32SC3": "i4", "32FC3": "f4", "64FC3": "f8"}
        if encoding in generic:  # finite values in range: casts of NaN are undefined
            kind = np.dtype(generic[encoding]).newbyteorder(">" if bigendian else "<")
            data = rng.uniform(0, 120, h * w * 3).astype(kind).view(np.uint8)
        msg = SimpleNamespace(height=h, width=w, encoding=encoding, is_bigendian=bigendian,
                              step=data.size // h, data=data)
        ref = np.asarray(rosbags_image.image_to_cvimage(msg, "rgb8"))
        assert np.array_equal(image_msg_to_rgb(msg), ref[..., :3]), encoding
        checked += 1
    assert checked >= 25


def test_unknown_encoding_names_the_supported_ones() -> None:
    from gan_compress_ros.image import image_msg_to_rgb

    msg = image_msg(RGB, 0, encoding="rgb8")
    msg.encoding = "32FC1"
    with pytest.raises(ValueError, match="not supported; supported: .*bayer_bggr16"):
        image_msg_to_rgb(msg)


@pytest.mark.parametrize("mode", ["crop", "letterbox", "stretch"])
def test_fast_fit_stays_close_to_the_exact_one(mode: str) -> None:
    """The encoder node's two-step path for large frames (``fit(fast=True)``)."""
    from testkit.files import SAMPLE, read_photos

    for w, h in ((640, 480), (1920, 1080)):
        for photo in read_photos(SAMPLE)[:6]:
            big = cv2.resize(photo, (w, h), interpolation=cv2.INTER_CUBIC)
            exact, fast = fit(big, mode), fit(big, mode, fast=True)
            assert fast.shape == exact.shape == (64, 64, 3)
            mse = np.mean((exact.astype(np.float64) - fast) ** 2)
            assert mse < 255 ** 2 / 10 ** 3.3, (w, h, mse)  # above 33 dB
    small = read_photos(SAMPLE)[0]  # below 6x the output: the exact path itself
    assert np.array_equal(fit(small, mode, fast=True), fit(small, mode))
