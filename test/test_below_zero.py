"""Byte caps below quality 0: every cap of 40 bytes or more is met, the decoder unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from testkit.files import DATA, read_photos

from gan_compress_ros.codec import ByteCapError, Codec
from gan_compress_ros.codec.below_zero import MIN_CAP
from gan_compress_ros.codec.bitstream import quality_of
from gan_compress_ros.training.data import CropSampler
from gan_compress_ros.training.metrics import psnr_per_frame


@pytest.fixture(scope="module")
def bundled() -> Codec:
    """The bundled default model."""
    return Codec.load()


@pytest.fixture(scope="module")
def detailed(bundled: Codec) -> np.ndarray:
    """Held-out crops that need the most bytes at quality 0."""
    crops = CropSampler(read_photos(DATA / "val"), seed=3).batch(48)
    sizes = [len(p) for p in bundled.encode(crops, quality=0.0)]
    return crops[np.argsort(sizes)[-12:]]


def test_every_cap_from_40_bytes_is_met(bundled: Codec, detailed: np.ndarray) -> None:
    at_zero = [len(p) for p in bundled.encode(detailed, quality=0.0)]
    assert max(at_zero) > MIN_CAP  # these crops do not fit at quality 0
    for cap in (MIN_CAP, 50, 70):
        payloads = bundled.encode(detailed, max_bytes=cap)
        assert len(payloads) == len(detailed)
        assert all(len(p) <= cap for p in payloads), cap
        thinned = [p for p, z in zip(payloads, at_zero, strict=True) if z > cap]
        assert thinned and all(quality_of(p) == 0 for p in thinned)
        decoded = bundled.decode(payloads)  # the unchanged decoder takes them
        assert decoded.shape == detailed.shape


def test_thinning_keeps_the_most_picture_for_the_bytes(bundled: Codec,
                                                       detailed: np.ndarray) -> None:
    at_40 = bundled.decode(bundled.encode(detailed, max_bytes=MIN_CAP))
    at_55 = bundled.decode(bundled.encode(detailed, max_bytes=55))
    at_85 = bundled.decode(bundled.encode(detailed, max_bytes=85))
    p40, p55, p85 = (float(np.mean(psnr_per_frame(detailed, d))) for d in (at_40, at_55, at_85))
    assert p40 < p55 < p85, (p40, p55, p85)


def test_under_a_latent_of_zeros_frames_still_show_their_picture(bundled: Codec,
                                                                 detailed: np.ndarray) -> None:
    """Caps between the most probable latent and a latent of zeros carry the frame's values.

    A latent of zeros costs 42 bytes with 3dcf (41 with e453, 40 with a543); the context
    model's most probable latent 13 (4-byte header). Thinning towards zeros sent that
    latent alone under 42 bytes: the same picture for every frame (2026-12-07:
    ``dev/below_zero_thinning.py`` measured 12.1 against 18.7 dB at 40 bytes).
    """
    zeros = np.zeros((1, *bundled.latent_shape), dtype=np.int64)
    at_zeros = len(bundled.code_latent(zeros, qbyte=0)[0].payload)
    floor = bundled.code_latent(bundled.coder.model.mode(0), qbyte=0)[0].payload
    assert len(floor) < at_zeros
    cap = min(at_zeros - 1, MIN_CAP)
    payloads = bundled.encode(detailed[:4], max_bytes=cap)
    assert all(len(floor) < len(p) <= cap for p in payloads)
    assert len(set(payloads)) == 4  # each its own frame
    alone = bundled.decode([floor] * 4)
    assert np.all(psnr_per_frame(detailed[:4], bundled.decode(payloads))
                  > psnr_per_frame(detailed[:4], alone) + 2.0)
    assert all(len(p) <= len(floor)
               for p in bundled.encode(detailed[:4], max_bytes=len(floor)))
    with pytest.raises(ByteCapError) as info:
        bundled.encode(detailed[:1], max_bytes=len(floor) - 1)
    assert info.value.smallest == len(floor)


def test_a_cap_nothing_fits_names_the_smallest_and_keeps_the_batch(bundled: Codec,
                                                                   detailed: np.ndarray) -> None:
    with pytest.raises(ByteCapError) as info:
        bundled.encode(detailed[:3], max_bytes=10)
    assert "even at quality 0 with the cheapest latent" in str(info.value)
    assert info.value.smallest > 10
    assert info.value.payloads == [None, None, None]


def test_a_thinned_key_frame_is_the_reference_the_decoder_has(bundled: Codec,
                                                              detailed: np.ndarray) -> None:
    """Temporal mode: inter frames predict from the thinned latent, not the plain one."""
    enc = bundled.stream_encoder(10)
    payload = enc.encode(detailed[0], max_bytes=40)
    assert len(payload) <= 40 and quality_of(payload) == 0 and enc.key is not None
    rebuilt = bundled.read(payload)[0].latent.reshape(-1)  # what the decoder has
    assert np.array_equal(enc.key.latent, rebuilt)
    dec = bundled.stream_decoder()
    frames = [dec.decode(enc.encode(f, max_bytes=60)) for f in detailed[:6]]
    assert all(f is not None for f in frames) and dec.decode(payload) is not None
