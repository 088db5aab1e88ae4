"""gan-compress-bench: codec speed against OpenCV JPEG and WebP, measured in the same run.

Encode and decode milliseconds per frame at batch 1 and frames per second at batch 32, for
each CPU thread count, next to JPEG and WebP encode+decode of the same 64x64 frames. Prints a
markdown table (and writes it with ``--out``); figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from ..codec import Codec
from ..training.data import eval_frames

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_clip"


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def _classic_ms(frames: np.ndarray, ext: str, flag: int, quality: int, repeats: int) -> float:
    bgr = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames]

    def run() -> None:
        for f in bgr:
            ok, buf = cv2.imencode(ext, f, [flag, quality])
            cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return _median_ms(run, repeats) / len(frames)


def bench(codec: Codec, frames: np.ndarray, threads: list[int], repeats: int) -> list[dict]:
    """One row per thread count: codec times and JPEG/WebP times measured alongside."""
    rows = []
    one, batch = frames[:1], frames[:32]
    payload = codec.encode(one)
    payloads = codec.encode(batch)
    for n in threads:
        torch.set_num_threads(n)
        cv2.setNumThreads(n)
        for _ in range(3):  # warm-up
            codec.decode(codec.encode(one))
        enc = _median_ms(lambda: codec.encode(one), repeats)
        dec = _median_ms(lambda: codec.decode(payload), repeats)
        batch_ms = _median_ms(lambda: codec.decode(codec.encode(batch)), max(3, repeats // 10))
        jpeg = _classic_ms(batch, ".jpg", cv2.IMWRITE_JPEG_QUALITY, 10, max(3, repeats // 10))
        webp = _classic_ms(batch, ".webp", cv2.IMWRITE_WEBP_QUALITY, 5, max(3, repeats // 10))
        rows.append({"threads": n, "encode_ms": enc, "decode_ms": dec,
                     "batch32_fps": len(batch) / (batch_ms / 1000), "jpeg_ms": jpeg,
                     "webp_ms": webp, "payload_bytes": float(np.mean([len(p) for p in payloads]))})
    return rows


def table(rows: list[dict], codec: Codec) -> str:
    """Markdown table of the rows."""
    lines = [f"Machine: {platform.processor() or platform.machine()}, torch "
             f"{torch.__version__}, OpenCV {cv2.__version__}; weights {codec.model_id} "
             f"({codec.metadata.get('preset')}), median of repeated runs.", "",
             "| threads | encode ms (batch 1) | decode ms (batch 1) | encode+decode ms | "
             "frames/s (batch 32, enc+dec) | JPEG q10 enc+dec ms | WebP q5 enc+dec ms | "
             "codec / JPEG time |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        both = r["encode_ms"] + r["decode_ms"]
        lines.append(f"| {r['threads']} | {r['encode_ms']:.2f} | {r['decode_ms']:.2f} | "
                     f"{both:.2f} | {r['batch32_fps']:.0f} | {r['jpeg_ms']:.3f} | "
                     f"{r['webp_ms']:.3f} | {both / r['jpeg_ms']:.0f}x |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(prog="gan-compress-bench", description=__doc__)
    p.add_argument("--weights", default="", help="weights file or bundled name")
    p.add_argument("--data", nargs="*", default=[str(SAMPLE)], help="frames to time on")
    p.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    p.add_argument("--repeats", type=int, default=100)
    p.add_argument("--out", help="also write the table to this markdown file")
    args = p.parse_args(argv)
    codec = Codec.load(args.weights or None)
    frames = eval_frames(args.data)
    if len(frames) == 0:
        print("gan-compress-bench: no frames in --data", file=sys.stderr)
        return 2
    while len(frames) < 32:
        frames = np.concatenate([frames, frames])
    report = table(bench(codec, frames, args.threads, args.repeats), codec)
    print(report)
    if args.out:
        Path(args.out).write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
