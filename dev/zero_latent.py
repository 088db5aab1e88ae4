"""Whether a candidate's smallest payload still fits the byte cap every frame is promised.

Below quality 0 the encoder thins the latent, down to a latent of zeros and, where even
that does not fit, to the context model's most probable latent (``codec/below_zero.py``);
every cap of at least ``MIN_CAP`` bytes must then be met for every frame. These payloads
move with the entropy model and the header: model 3dcf's zeros code to 42 bytes and its most
probable latent to 13 with the 4-byte header (e453's 41 and 13, a543's 40 and 13; 41 and 14
with the 5-byte one, where 536d's zeros took 39 and 3e82's 36; 536d: 41 and 17 while bodies
ended on a whole 32-bit word).

    python dev/zero_latent.py runs/RUN/weights.safetensors     # exit 1 when over MIN_CAP
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from gan_compress_ros.codec import Codec
from gan_compress_ros.codec.below_zero import MIN_CAP
from gan_compress_ros.codec.intra import ContextIntraCoder


def floor_bytes(codec: Codec) -> tuple[int, int]:
    """Payload bytes of a latent of zeros and of the most probable latent, at quality byte 0."""
    if not isinstance(codec.coder, ContextIntraCoder):
        raise SystemExit(f"model {codec.model_id} has no context model (no cap below quality 0)")
    zeros = np.zeros((1, *codec.latent_shape), dtype=np.int64)
    sizes = [len(codec.code_latent(latent, qbyte=0)[0].payload)
             for latent in (zeros, codec.coder.model.mode(0))]
    return sizes[0], sizes[1]


def main(argv: list[str] | None = None) -> int:
    """Print the smallest payloads against ``MIN_CAP``; 1 when neither fits."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", nargs="?", help="a weights file (default: the bundled model)")
    args = p.parse_args(argv)
    codec = Codec.load(args.weights, optimize=False, backend="torch")
    zeros, mode = floor_bytes(codec)
    fits = min(zeros, mode) <= MIN_CAP
    print(f"model {codec.model_id}: a latent of zeros takes {zeros} B, the most probable "
          f"latent {mode} B; MIN_CAP {MIN_CAP} B: {'fits' if fits else 'does NOT fit'}")
    return 0 if fits else 1


if __name__ == "__main__":
    sys.exit(main())
