"""Round trip through the public API: shapes, dtype, quality and size of payloads."""

import numpy as np
import pytest

from gan_compress_ros.codec import Codec
from gan_compress_ros.training.metrics import mean_psnr

RAW_BYTES = 64 * 64 * 3


def test_encode_decode_shapes_and_dtype(codec: Codec, val_frames: np.ndarray) -> None:
    payloads = codec.encode(val_frames)
    assert isinstance(payloads, list) and len(payloads) == len(val_frames)
    assert all(isinstance(p, bytes) for p in payloads)
    images = codec.decode(payloads)
    assert images.shape == val_frames.shape and images.dtype == np.uint8


def test_quality_beats_a_flat_image_and_payloads_are_small(codec: Codec,
                                                           val_frames: np.ndarray) -> None:
    payloads = codec.encode(val_frames)
    recon = codec.decode(payloads)
    # A flat image of each frame's mean colour is what a codec that learned nothing gives.
    flat = np.broadcast_to(val_frames.mean(axis=(1, 2), keepdims=True).round(),
                           val_frames.shape).astype(np.uint8)
    assert mean_psnr(val_frames, recon) > mean_psnr(val_frames, flat) + 3.0
    assert mean_psnr(val_frames, recon) > 17.0
    assert max(len(p) for p in payloads) < RAW_BYTES / 10


def test_single_frame_matches_batch(codec: Codec, val_frames: np.ndarray) -> None:
    batch = codec.encode(val_frames)
    assert codec.encode(val_frames[2]) == [batch[2]]
    assert np.array_equal(codec.decode(batch[2]), codec.decode(batch)[2:3])


def test_payload_starts_with_version_and_model_id(codec: Codec, val_frames: np.ndarray) -> None:
    payload = codec.encode(val_frames[0])[0]
    assert payload[0] == 1
    assert payload[1:3].hex() == codec.model_id


def test_empty_batch(codec: Codec) -> None:
    assert codec.encode(np.zeros((0, 64, 64, 3), np.uint8)) == []
    assert codec.decode([]).shape == (0, 64, 64, 3)


@pytest.mark.parametrize("bad", [
    np.zeros((64, 64), np.uint8),
    np.zeros((1, 32, 32, 3), np.uint8),
    np.zeros((1, 64, 64, 4), np.uint8),
    np.zeros((1, 64, 64, 3), np.float32),
])
def test_encode_rejects_wrong_frames(codec: Codec, bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="frames must be"):
        codec.encode(bad)


def test_extreme_frames_round_trip(codec: Codec) -> None:
    frames = np.stack([np.zeros((64, 64, 3), np.uint8), np.full((64, 64, 3), 255, np.uint8),
                       np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)])
    images = codec.decode(codec.encode(frames))
    assert images.shape == frames.shape
