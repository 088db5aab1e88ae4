"""gan-compress-bench: figures for docs/benchmarks.md, never pass/fail.

``codec`` (default): encode and decode milliseconds per frame at batch 1 and frames per second
at batch 32, for each CPU thread count, next to OpenCV JPEG and WebP encode+decode of the same
64x64 frames measured in the same run; and the cost of fitting camera frames into 64x64.
``pipeline``: the nodes as processes over DDS at a camera rate: latency, bytes on the wire,
memory. ``soak``: the same for ten minutes, with figures per window.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from ..codec import Codec
from ..training.data import eval_frames, fit
from . import pipeline_bench
from .report import machine_line, update_section

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
    lines = [f"OpenCV {cv2.__version__}; weights {codec.model_id} "
             f"({codec.metadata.get('preset')}); each figure the median of repeated runs.", "",
             "| threads | encode ms (batch 1) | decode ms (batch 1) | encode+decode ms | "
             "frames/s (batch 32, enc+dec) | JPEG q10 enc+dec ms | WebP q5 enc+dec ms | "
             "codec / JPEG time |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        both = r["encode_ms"] + r["decode_ms"]
        lines.append(f"| {r['threads']} | {r['encode_ms']:.2f} | {r['decode_ms']:.2f} | "
                     f"{both:.2f} | {r['batch32_fps']:.0f} | {r['jpeg_ms']:.3f} | "
                     f"{r['webp_ms']:.3f} | {both / r['jpeg_ms']:.0f}x |")
    return "\n".join(lines) + "\n"


def fit_rows(repeats: int) -> list[tuple[str, float]]:
    """Milliseconds to fit a camera frame of common sizes into 64x64 (the node's crop)."""
    rng = np.random.default_rng(0)
    rows = []
    for w, h in ((640, 480), (1280, 720), (1920, 1080)):
        frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        rows.append((f"{w}x{h}", _median_ms(lambda f=frame: fit(f, "crop"), repeats)))
    return rows


def codec_main(argv: list[str]) -> int:
    """``gan-compress-bench codec``: the codec against JPEG and WebP."""
    p = argparse.ArgumentParser(prog="gan-compress-bench codec", description=__doc__)
    p.add_argument("--weights", default="", help="weights file or bundled name")
    p.add_argument("--data", nargs="*", default=[str(SAMPLE)], help="frames to time on")
    p.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    p.add_argument("--repeats", type=int, default=100)
    p.add_argument("--out", help="markdown file whose 'codec' section is rewritten")
    args = p.parse_args(argv)
    codec = Codec.load(args.weights or None)
    frames = eval_frames(args.data)
    if len(frames) == 0:
        print("gan-compress-bench: no frames in --data", file=sys.stderr)
        return 2
    while len(frames) < 32:
        frames = np.concatenate([frames, frames])
    report = table(bench(codec, frames, args.threads, args.repeats), codec)
    cv2.setNumThreads(1)
    report += ("\nFitting a camera frame into 64x64 (centre crop, area resize; OpenCV, 1 "
               "thread), per frame: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in
                                                  fit_rows(max(5, args.repeats // 5))) + ".\n")
    print(report)
    if args.out:
        command = "gan-compress-bench codec " + " ".join(argv)
        update_section(args.out, "codec", f"`{command.strip()}` on {machine_line()}\n\n"
                       + report)
    return 0


def pipeline_main(argv: list[str], soak: bool) -> int:
    """``gan-compress-bench pipeline|soak``: the nodes as processes over DDS."""
    name = "soak" if soak else "pipeline"
    p = argparse.ArgumentParser(prog=f"gan-compress-bench {name}",
                                description=pipeline_bench.__doc__)
    p.add_argument("--weights", default="", help="weights file or bundled name")
    p.add_argument("--duration", type=float, default=600.0 if soak else 60.0, help="seconds")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--size", default="640x480", help="camera frame size WIDTHxHEIGHT")
    p.add_argument("--threads", type=int, default=1, help="codec threads of each node")
    p.add_argument("--window", type=float, default=60.0, help="seconds per reported window")
    p.add_argument("--out", help=f"markdown file whose '{name}' section is rewritten")
    p.add_argument("--json", help="also write the raw figures here")
    args = p.parse_args(argv)
    try:
        size = tuple(int(v) for v in args.size.lower().split("x"))
        assert len(size) == 2 and min(size) > 0
    except (ValueError, AssertionError):
        p.error(f"--size must be WIDTHxHEIGHT, got {args.size!r}")
    pipeline_bench.local_ros_env()
    result = pipeline_bench.run_pipeline(args.weights, args.duration, args.fps, size,
                                         args.threads, window_s=args.window)
    command = f"gan-compress-bench {name} " + " ".join(argv)
    text = pipeline_bench.markdown(result, command.strip(), machine_line(), per_window=soak)
    print(text)
    if args.out:
        update_section(args.out, name, text)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0 if all(result["nodes_alive"]) and result["decoded"] else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``codec`` (the default), ``pipeline`` or ``soak``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("pipeline", "soak"):
        return pipeline_main(argv[1:], soak=argv[0] == "soak")
    if argv and argv[0] == "codec":
        argv = argv[1:]
    return codec_main(argv)


if __name__ == "__main__":
    sys.exit(main())
