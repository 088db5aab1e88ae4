"""Whether a candidate's smallest payload still fits the byte cap every frame is promised.

Below quality 0 the encoder thins the latent, down to a latent of zeros
(``codec/below_zero.py``); every cap of at least ``MIN_CAP`` bytes must then be met for
every frame. The range coder writes 32-bit words, so that payload grows in 4-byte steps
as the entropy model changes: model 536d's zeros coded to 41 bytes, 3e82's to 37.

    python dev/zero_latent.py runs/RUN/weights.safetensors     # exit 1 when over MIN_CAP
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from gan_compress_ros.codec import Codec
from gan_compress_ros.codec.below_zero import MIN_CAP


def zero_latent_bytes(codec: Codec) -> int:
    """Bytes of the payload of a latent of zeros at quality byte 0, what thinning ends at."""
    zeros = np.zeros((1, *codec.latent_shape), dtype=np.int64)
    return len(codec.code_latent(zeros, qbyte=0)[0].payload)


def main(argv: list[str] | None = None) -> int:
    """Print the zero latent's size against ``MIN_CAP``; 1 when it does not fit."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", nargs="?", help="a weights file (default: the bundled model)")
    args = p.parse_args(argv)
    codec = Codec.load(args.weights, backend="torch")
    size = zero_latent_bytes(codec)
    fits = size <= MIN_CAP
    print(f"model {codec.model_id}: a latent of zeros takes {size} B; MIN_CAP {MIN_CAP} B: "
          f"{'fits' if fits else 'does NOT fit (not bundleable)'}")
    return 0 if fits else 1


if __name__ == "__main__":
    sys.exit(main())
