"""libaom all-intra AV1 (the system ffmpeg) as a raw-OBU anchor for gan-compress-eval."""

from __future__ import annotations

import numpy as np
import pytest

from gan_compress_ros.tools.demo import SAMPLE_CLIP
from gan_compress_ros.tools.eval import runnable_codecs
from gan_compress_ros.training import aom_intra, classic_video
from gan_compress_ros.training.data import eval_frames, find_images
from gan_compress_ros.training.rd_eval import AOM_RAW, AV1_RAW, DEFAULT_CODECS, classic_curve


@pytest.fixture()
def frames(val_frames: np.ndarray) -> np.ndarray:
    """Four real frames: two bird photos and two frames of the bundled sample clip."""
    if aom_intra.missing():
        pytest.skip(f"libaom anchor not available here: {aom_intra.missing()}")
    clip = eval_frames(find_images([SAMPLE_CLIP]))
    return np.concatenate([val_frames[[0, 5]], clip[[0, len(clip) - 1]]])


def test_libaom_bytes_and_quality_rise_together(frames: np.ndarray) -> None:
    points = classic_curve(AOM_RAW, frames, [58, 40, 24])
    assert [p.setting for p in points] == ["crf58", "crf40", "crf24"]
    sizes = [p.bytes_per_frame for p in points]
    assert 20 < sizes[0] < sizes[1] < sizes[2] < 2000
    assert 18 < points[0].psnr < points[1].psnr < points[2].psnr
    assert points[0].ms_ssim < points[1].ms_ssim < points[2].ms_ssim


def test_every_libaom_frame_is_a_key_frame_that_decodes_alone(frames: np.ndarray) -> None:
    stream = aom_intra.encode(frames, 40)
    units = aom_intra.temporal_units(stream)
    assert len(units) == len(frames)
    assert all(aom_intra.is_key_frame(u) for u in units)
    whole = aom_intra.decode(stream)
    assert whole.shape == frames.shape
    header = next(obu for kind, obu in aom_intra._obus(units[0]) if kind == 1)
    delimiter = bytes([0x12, 0x00])
    for i in reversed(range(len(units))):  # last first: no earlier frame is decoded before it
        own = b"".join(obu for kind, obu in aom_intra._obus(units[i]) if kind not in (1, 2))
        alone = aom_intra.decode(delimiter + header + own)  # the stream's header, sent once
        assert np.array_equal(alone[0], whole[i]), f"frame {i} decodes differently alone"
    sizes, recon = aom_intra.aom_intra(frames, 40)
    assert np.array_equal(recon, whole)
    for size, unit in zip(sizes, units, strict=True):  # delimiter dropped, header shared
        assert size == pytest.approx(len(unit) - 2 - len(header) + len(header) / len(frames))


def test_key_frame_check_reads_the_frame_header() -> None:
    key, inter = bytes([0x32, 0x01, 0x10]), bytes([0x32, 0x01, 0x30])  # frame OBUs
    assert aom_intra.is_key_frame(bytes([0x12, 0x00]) + key)
    assert not aom_intra.is_key_frame(bytes([0x12, 0x00]) + inter)
    assert not aom_intra.is_key_frame(bytes([0x12, 0x00]))  # no frame at all
    assert aom_intra.temporal_units(bytes([0x12, 0x00]) + key + bytes([0x12, 0x00]) + inter) \
        == [bytes([0x12, 0x00]) + key, bytes([0x12, 0x00]) + inter]


def test_without_ffmpeg_the_av1_row_is_svt_av1(monkeypatch: pytest.MonkeyPatch, tmp_path,
                                               capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no ffmpeg on it
    aom_intra.missing.cache_clear()
    try:
        reason = aom_intra.missing()
        codecs = runnable_codecs(None)
        by_default = capsys.readouterr().err.splitlines()
        explicit = runnable_codecs([AOM_RAW, "WebP"])
        asked = capsys.readouterr().err.splitlines()
    finally:
        aom_intra.missing.cache_clear()
    assert reason == "ffmpeg is not installed (apt-get install ffmpeg)"
    assert by_default[0] == \
        f"gan-compress-eval: {reason}: skipping {AOM_RAW} (the AV1 row is {AV1_RAW})"
    assert AOM_RAW not in codecs and (AV1_RAW in codecs) == classic_video.available()
    assert asked == [f"gan-compress-eval: {reason}: skipping {AOM_RAW}"]
    assert explicit == ["WebP"]


def test_with_ffmpeg_the_av1_row_is_libaom(capsys) -> None:
    if aom_intra.missing() or not classic_video.available():
        pytest.skip("needs ffmpeg with libaom and PyAV with SVT-AV1 and x265")
    assert runnable_codecs(None) == DEFAULT_CODECS and AOM_RAW in DEFAULT_CODECS
    assert AV1_RAW not in DEFAULT_CODECS and capsys.readouterr().err == ""
