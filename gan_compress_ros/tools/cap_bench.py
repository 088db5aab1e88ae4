"""Byte caps on held-out crops: every payload within its cap, none missing (``below_zero.py``).

``python -m gan_compress_ros.tools.cap_bench --data FOLDER... --crops 10000 --caps 40 100
222 340`` (held-out image folders or videos; the run in docs/benchmarks.md names its data)
draws random resized crops (scales 1/4 to 1, flips; the training sampler's) from the
held-out images and every fifth video frame, each folder an equal share, codes them in
batches with ``Codec.encode(frames, max_bytes=N)``, decodes every payload, and prints per
cap: crops, payloads over the cap, crops without a payload, how many went below quality 0,
mean bytes, PSNR and time.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def measure(codec, crops: np.ndarray, cap: int, batch: int = 64) -> dict:  # noqa: ANN001
    """One cap over ``crops``."""
    from ..codec import ByteCapError
    from ..codec.bitstream import quality_of
    from ..training.metrics import psnr_per_frame

    over = missing = below = 0
    sizes, psnrs = [], []
    start = time.perf_counter()
    for i in range(0, len(crops), batch):
        frames = crops[i:i + batch]
        try:
            payloads: list[bytes | None] = list(codec.encode(frames, max_bytes=cap))
        except ByteCapError as exc:
            payloads = exc.payloads or [None] * len(frames)
        missing += sum(p is None for p in payloads)
        kept = [(f, p) for f, p in zip(frames, payloads, strict=True) if p is not None]
        over += sum(len(p) > cap for _, p in kept)
        sizes += [len(p) for _, p in kept]
        if kept:
            decoded = codec.decode([p for _, p in kept])
            psnrs += list(psnr_per_frame(np.stack([f for f, _ in kept]), decoded))
            # quality byte 0 and smaller than the plain quality-0 payload: thinned
            plain = codec.encode(np.stack([f for f, p in kept if quality_of(p) == 0]),
                                 quality=0.0) if any(quality_of(p) == 0 for _, p in kept) \
                else []
            zero = [p for _, p in kept if quality_of(p) == 0]
            below += sum(len(p) < len(q) for p, q in zip(zero, plain, strict=True))
    seconds = time.perf_counter() - start
    return {"cap": cap, "crops": len(crops), "over_cap": over, "missing": missing,
            "below_quality_0": below, "mean_bytes": float(np.mean(sizes)) if sizes else 0.0,
            "psnr_db": float(np.mean(psnrs)) if psnrs else float("nan"),
            "ms_per_frame": 1000 * seconds / max(len(crops), 1)}


def main(argv: list[str] | None = None) -> int:
    """Entry point: the table for the caps asked."""
    p = argparse.ArgumentParser(prog="python -m gan_compress_ros.tools.cap_bench",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", required=True, help="held-out folders or videos")
    p.add_argument("--crops", type=int, default=10000)
    p.add_argument("--caps", type=int, nargs="+", default=[40, 100, 222, 340])
    p.add_argument("--weights", default="", help="weights (default: the bundled default)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    from ..codec import Codec
    from ..training.data import CropSampler, load_balanced

    try:
        images, weights = load_balanced(args.data, stride=5, progress=False)
        sampler = CropSampler(images, seed=args.seed, weights=weights)
    except (OSError, ValueError) as exc:
        print(f"cap_bench: {exc}", file=sys.stderr)
        return 2
    crops = sampler.batch(args.crops)
    codec = Codec.load(args.weights or None)
    print(f"{len(images)} held-out images/frames, {len(crops)} crops, {codec.describe()}\n")
    print("| cap B | crops | over the cap | without a payload | below quality 0 | mean B "
          "| PSNR dB | ms/frame |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    bad = 0
    for cap in args.caps:
        r = measure(codec, crops, cap)
        bad += r["over_cap"] + r["missing"]
        print(f"| {cap} | {r['crops']} | {r['over_cap']} | {r['missing']} | "
              f"{r['below_quality_0']} | {r['mean_bytes']:.1f} | {r['psnr_db']:.2f} | "
              f"{r['ms_per_frame']:.0f} |", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
