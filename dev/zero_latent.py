"""Whether a candidate's smallest payload still fits the byte cap every frame is promised.

Below quality 0 the encoder thins the latent from the context model's most probable latent
up (``codec/below_zero.py``), so that latent is the smallest payload there is, and every cap
of at least ``MIN_CAP`` bytes is met only if it fits. It moves with the entropy model and the
header: 13 bytes for models 3dcf, e453 and a543 with the 4-byte header (14 with the 5-byte
one; 536d's 17 while bodies ended on a whole 32-bit word). A latent of zeros, printed too,
was the first fallback until 2026-12-07 (3dcf's takes 42 bytes, e453's 41, a543's 40).

    python dev/zero_latent.py runs/RUN/weights.safetensors     # exit 1 when over MIN_CAP
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from gan_compress_ros.codec import Codec
from gan_compress_ros.codec.below_zero import MIN_CAP, smallest_payload
from gan_compress_ros.codec.intra import ContextIntraCoder


def floor_bytes(codec: Codec) -> tuple[int, int]:
    """Payload bytes of a latent of zeros and of the most probable latent, at quality byte 0."""
    if not isinstance(codec.coder, ContextIntraCoder):
        raise SystemExit(f"model {codec.model_id} has no context model (no cap below quality 0)")
    zeros = np.zeros((1, *codec.latent_shape), dtype=np.int64)
    return len(codec.code_latent(zeros, qbyte=0)[0].payload), smallest_payload(codec)


def main(argv: list[str] | None = None) -> int:
    """Print the smallest payloads against ``MIN_CAP``; 1 when the most probable is over."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", nargs="?", help="a weights file (default: the bundled model)")
    args = p.parse_args(argv)
    codec = Codec.load(args.weights, optimize=False, backend="torch")
    zeros, mode = floor_bytes(codec)
    fits = mode <= MIN_CAP
    print(f"model {codec.model_id}: a latent of zeros takes {zeros} B, the most probable "
          f"latent {mode} B; MIN_CAP {MIN_CAP} B: {'fits' if fits else 'does NOT fit'}")
    return 0 if fits else 1


if __name__ == "__main__":
    sys.exit(main())
