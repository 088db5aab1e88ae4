"""gan-compress-demo on the bundled sample clip: the main job a new user runs first."""

import json
import subprocess
import sys
from pathlib import Path


def test_demo_runs_and_writes_its_pictures(tmp_path: Path, trained_weights: Path) -> None:
    cmd = [sys.executable, "-m", "gan_compress_ros.tools.demo", "--weights",
           str(trained_weights), "--frames", "12", "--rate", "15", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["frames"] == 12
    assert summary["payload_bytes_per_frame"] < summary["wire_bytes_per_frame"]
    assert summary["ratio_to_raw"] > 10
    assert 0 < summary["latency_ms_p50"] <= summary["latency_ms_p99"]
    for name in ("side_by_side.gif", "grid.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert "frames through the pipeline: 12" in proc.stdout
    assert summary["backend"] == "torch"  # auto, with torch installed and a weights file


def test_demo_on_the_onnxruntime_backend(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "gan_compress_ros.tools.demo", "--backend", "onnxruntime",
           "--frames", "6", "--rate", "15", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["frames"] == 6 and summary["backend"] == "onnxruntime"
    assert summary["psnr_db"] > 20  # the bundled default's export, on real frames
