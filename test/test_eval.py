"""gan-compress-eval: classic codec sweeps, BD-rate, and the report files."""

import csv
from pathlib import Path

import numpy as np
import pytest
from testkit.files import DATA

from gan_compress_ros.tools.eval import main
from gan_compress_ros.training.rd_eval import RDPoint, bd_rate, bytes_at_quality, classic_curve


def _curve(rates: list[float], psnrs: list[float]) -> list[RDPoint]:
    return [RDPoint("x", str(i), r, r * 8 / 4096, q, q / 40, 1)
            for i, (r, q) in enumerate(zip(rates, psnrs, strict=True))]


def test_bd_rate_of_known_curves() -> None:
    anchor = _curve([100, 200, 400, 800], [20, 24, 28, 32])
    assert bd_rate(anchor, anchor) == pytest.approx(0.0)
    half = _curve([50, 100, 200, 400], [20, 24, 28, 32])
    assert bd_rate(half, anchor) == pytest.approx(-50.0)
    assert bd_rate(anchor, half) == pytest.approx(100.0)
    assert np.isnan(bd_rate(_curve([10, 20], [1, 2]), anchor))  # no shared quality range
    assert bytes_at_quality(anchor, 26) == pytest.approx(np.sqrt(200 * 400))


def test_classic_curves_get_better_with_quality(val_frames: np.ndarray) -> None:
    for name in ("JPEG", "WebP", "AVIF"):
        points = classic_curve(name, val_frames[:3], [10, 60])
        assert points[1].bytes_per_frame > points[0].bytes_per_frame
        assert points[1].psnr > points[0].psnr and points[1].ms_ssim > points[0].ms_ssim


def test_eval_cli_writes_table_csv_and_plot(tmp_path: Path, trained_weights: Path,
                                            capsys) -> None:
    assert main(["--weights", str(trained_weights), "--data", str(DATA / "val"), "--out",
                 str(tmp_path), "--codecs", "JPEG", "WebP"]) == 0
    rows = list(csv.DictReader((tmp_path / "rd.csv").open()))
    assert {r["codec"] for r in rows} == {"gan_compress:compact", "JPEG", "WebP"}
    report = (tmp_path / "rd.md").read_text()
    assert "BD-rate" in report and "At the PSNR of WebP's lowest setting" in report
    assert (tmp_path / "rd.png").stat().st_size > 0
    assert (tmp_path / "samples.png").stat().st_size > 0
    assert report in capsys.readouterr().out


def test_eval_cli_runs_the_default_anchors(tmp_path: Path, trained_weights: Path) -> None:
    """No --codecs: every default anchor that can run here (AV1: libaom's where ffmpeg has it)."""
    from gan_compress_ros.tools.eval import runnable_codecs

    assert main(["--weights", str(trained_weights), "--data", str(DATA / "val"), "--out",
                 str(tmp_path), "--max-frames", "2"]) == 0
    rows = list(csv.DictReader((tmp_path / "rd.csv").open()))
    assert {r["codec"] for r in rows} == {"gan_compress:compact", *runnable_codecs(None)}
    assert (tmp_path / "samples.png").stat().st_size > 0


def test_eval_reports_bad_weights(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"junk")
    assert main(["--weights", str(bad), "--data", str(DATA / "val"), "--out",
                 str(tmp_path / "o"), "--codecs", "JPEG"]) == 2
    assert "bad.safetensors" in capsys.readouterr().err


def test_raw_anchors_count_what_a_link_carries(val_frames: np.ndarray) -> None:
    """WebP minus its container; AV1 and HEVC intra as packets without per-stream headers."""
    from gan_compress_ros.training import classic_video
    from gan_compress_ros.training.rd_eval import AV1_RAW, HEVC_RAW, WEBP_RAW

    webp = classic_curve("WebP", val_frames[:3], [10])[0]
    raw = classic_curve(WEBP_RAW, val_frames[:3], [10])[0]
    assert raw.bytes_per_frame == webp.bytes_per_frame - 20 and raw.psnr == webp.psnr
    if not classic_video.available():
        pytest.skip("PyAV with SVT-AV1 and x265 is not installed (the eval extra)")
    for name, settings in ((AV1_RAW, [60, 36]), (HEVC_RAW, [48, 30])):
        low, high = classic_curve(name, val_frames[:4], settings)
        assert 0 < low.bytes_per_frame < high.bytes_per_frame < 2000
        assert 18 < low.psnr < high.psnr
    # the stream-level parts are counted once, not per frame
    assert classic_video.av1_split(bytes([0x12, 0x00, 0x0A, 0x02, 0xAB, 0xCD])) == (0, 4)
    hevc = b"\x00\x00\x00\x01\x40\x01\xAA" + b"\x00\x00\x01\x4E\x01\xBB" + \
        b"\x00\x00\x01\x28\x01\xCC\xDD"
    assert classic_video.hevc_split(hevc) == (4, 3)


def test_variable_rate_weights_form_one_curve(val_frames: np.ndarray) -> None:
    from gan_compress_ros.training.rd_eval import weights_curve

    points = weights_curve("mid", val_frames[:4], qualities=[0.0, 1.0])
    assert [p.setting for p, _ in points] == ["q0.00", "q1.00"]
    assert points[0][0].bytes_per_frame < points[1][0].bytes_per_frame
