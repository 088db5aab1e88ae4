"""The trainer under torchrun: two CPU processes (gloo) end with identical weights."""

import os
import subprocess
import sys
from pathlib import Path

from testkit.files import DATA

from gan_compress_ros.codec import Codec


def test_two_processes_hold_identical_weights(tmp_path: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
           "--standalone", "-m", "gan_compress_ros.tools.train",
           "--data", str(DATA / "train"), "--val", str(DATA / "val"), "--out", str(tmp_path),
           "--preset-config", '{"channels": 8, "latent_channels": 4}', "--steps", "12",
           "--gan-start", "6", "--batch", "2", "--threads", "1"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    digests = [(tmp_path / f"rank{r}.params.sha256").read_text() for r in (0, 1)]
    assert digests[0] == digests[1]
    meta = Codec.load(tmp_path / "weights.safetensors").metadata["training"]
    assert meta["processes"] == 2 and meta["steps_done"] == 12
