"""A payload decodes to identical pixels in a fresh process; encoding is reproducible too."""

import subprocess
import sys
from pathlib import Path

import numpy as np

from gan_compress_ros.codec import Codec

SCRIPT = """
import sys, numpy as np
from gan_compress_ros.codec import Codec
codec = Codec.load(sys.argv[1])
data = np.load(sys.argv[2])
payloads = [bytes(p[:n]) for p, n in zip(data["payloads"], data["lengths"])]
np.save(sys.argv[3], codec.decode(payloads))
again = codec.encode(data["frames"])
sys.exit(0 if again == payloads else 3)
"""


def test_decode_in_fresh_process_is_identical(codec: Codec, trained_weights: Path,
                                              val_frames: np.ndarray, tmp_path: Path) -> None:
    payloads = codec.encode(val_frames)
    width = max(len(p) for p in payloads)
    padded = np.zeros((len(payloads), width), np.uint8)
    for i, p in enumerate(payloads):
        padded[i, :len(p)] = np.frombuffer(p, np.uint8)
    np.savez(tmp_path / "in.npz", payloads=padded, lengths=[len(p) for p in payloads],
             frames=val_frames)
    out = tmp_path / "out.npy"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(trained_weights),
                           str(tmp_path / "in.npz"), str(out)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert np.array_equal(np.load(out), codec.decode(payloads))
