"""Qualities for the bundled rate points (``codec/bundled.py`` RATE_POINTS) of new weights.

Each rate point keeps the bytes per frame it spends on the general validation set, so a user's
link budget still holds after the bundled model changes. Prints, per name, the quality (a
multiple of 1/255, as payloads carry it) whose mean bytes come closest to the target.

    python dev/fit_rate_points.py WEIGHTS --data DIR... [--targets low=89 mid=192 high=308]
"""

from __future__ import annotations

import argparse

import numpy as np

from gan_compress_ros.codec.api import Codec
from gan_compress_ros.training.data import eval_frames


def mean_bytes(codec: Codec, frames: np.ndarray, qbyte: int) -> float:
    """Mean payload bytes of ``frames`` at quality ``qbyte / 255``."""
    return float(np.mean([len(p) for p in codec.encode(frames, quality=qbyte / 255)]))


def fit(codec: Codec, frames: np.ndarray, target: float) -> tuple[int, float]:
    """The quality byte whose mean bytes are closest to ``target`` (bytes grow with it)."""
    seen: dict[int, float] = {}

    def size(qbyte: int) -> float:  # each quality is encoded once
        if qbyte not in seen:
            seen[qbyte] = mean_bytes(codec, frames, qbyte)
        return seen[qbyte]

    lo, hi = 0, 255
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if size(mid) <= target:
            lo = mid
        else:
            hi = mid
    best = min((lo, hi), key=lambda q: abs(size(q) - target))
    return best, size(best)


def main() -> None:
    """Fit and print each rate point's quality."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights")
    p.add_argument("--data", nargs="+", required=True, help="the general validation folders")
    p.add_argument("--targets", nargs="+", default=["low=89", "mid=192", "high=308"],
                   help="name=bytes per frame (default: what the rate points spend today)")
    args = p.parse_args()
    frames = eval_frames(args.data, 10, "multiscale")
    codec = Codec.load(args.weights, backend="torch")
    for item in args.targets:
        name, target = item.split("=")
        qbyte, got = fit(codec, frames, float(target))
        print(f"{name}: quality {qbyte / 255:.4f} (byte {qbyte}) -> {got:.1f} B/frame "
              f"(target {target}, {len(frames)} frames)")


if __name__ == "__main__":
    main()
