"""Thinning below quality 0: towards the most probable latent (today) against towards zeros.

``codec/below_zero.py`` meets a byte cap under quality 0's size by thinning the latent. Until
2026-12-07 it set the weakest values to zero, and sent the context model's most probable
latent where even zeros did not fit (42 bytes with 3dcf); now it starts from that most
probable latent and puts back the frame's values that differ from it most. This script
measures both on held-out crops (drawn as ``tools/cap_bench.py`` draws them) that need more
than the cap at quality 0: mean bytes and PSNR per cap.

    python dev/below_zero_thinning.py --crops 1000 --caps 29 40 50 70 100
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_data import general_val  # noqa: E402

from gan_compress_ros.codec import Codec  # noqa: E402
from gan_compress_ros.codec.below_zero import thinned  # noqa: E402
from gan_compress_ros.codec.latent import CodedFrame  # noqa: E402
from gan_compress_ros.training.data import CropSampler, load_balanced  # noqa: E402
from gan_compress_ros.training.metrics import psnr_per_frame  # noqa: E402


def towards_zeros(codec: Codec, y: np.ndarray, max_bytes: int) -> CodedFrame | None:
    """The former thinning: weakest values zeroed, else the most probable latent."""
    coder = codec.coder
    scaled = coder.gained(y, np.zeros(1, dtype=np.int64))
    latent = np.round(scaled).astype(np.int64)
    nonzero = np.flatnonzero(latent)
    order = nonzero[np.argsort(np.abs(scaled.reshape(-1)[nonzero]), kind="stable")]

    def coded(k: int) -> CodedFrame:
        thin = latent.copy().reshape(-1)
        thin[order[:k]] = 0
        return codec.code_latent(thin.reshape(latent.shape), qbyte=0)[0]

    best = coded(len(order))
    if len(best.payload) > max_bytes:
        floor = codec.code_latent(coder.model.mode(0), qbyte=0)[0]
        return floor if len(floor.payload) <= max_bytes else None
    low, high = 0, len(order)
    while low < high:
        mid = (low + high) // 2
        candidate = coded(mid)
        if len(candidate.payload) <= max_bytes:
            best, high = candidate, mid
        else:
            low = mid + 1
    return best


def main() -> None:
    """Print one row per cap and way of thinning."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--crops", type=int, default=1000)
    p.add_argument("--caps", type=int, nargs="+", default=[29, 40, 50, 70, 100])
    p.add_argument("--seed", type=int, default=2)
    args = p.parse_args()
    images, weights = load_balanced(general_val(), stride=5, progress=False)
    crops = CropSampler(images, seed=args.seed, weights=weights).batch(args.crops)
    codec = Codec.load()
    y = codec.analyse(crops)
    at_zero = np.array([len(f) for f in codec.code_analysis(y, 0)])
    print(f"{len(crops)} crops of the general validation set (seed {args.seed}), "
          f"{codec.describe()}\n")
    print("| cap B | crops over it at quality 0 | thinning | mean B | PSNR dB |")
    print("| ---: | ---: | --- | ---: | ---: |")
    for cap in args.caps:
        idx = np.flatnonzero(at_zero > cap)
        if not len(idx):
            continue
        for name, way in (("towards zeros (before)", towards_zeros),
                          ("towards the most probable latent", thinned)):
            frames = [way(codec, y[i:i + 1], cap) for i in idx]
            assert all(f is not None and len(f.payload) <= cap for f in frames)
            payloads = [f.payload for f in frames if f is not None]
            psnr = psnr_per_frame(crops[idx], codec.decode(payloads))
            print(f"| {cap} | {len(idx)} | {name} | {np.mean([len(q) for q in payloads]):.1f} "
                  f"| {np.mean(psnr):.2f} |", flush=True)


if __name__ == "__main__":
    main()
