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


def _interleaved_ms(fns: dict[str, object], repeats: int, rounds: int = 5) -> dict[str, float]:
    """Median ms of each function, timed in alternating rounds so drift hits all alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(_median_ms(fn, max(1, repeats // rounds)))
    return {k: float(np.median(v)) for k, v in times.items()}


def bench(codecs: dict[str, Codec], frames: np.ndarray, threads: list[int],
          repeats: int) -> list[dict]:
    """A row per thread count and codec path, with JPEG/WebP times measured alongside."""
    rows = []
    one, batch = frames[:1], frames[:32]
    payloads = {k: (c.encode(one), c.encode(batch)) for k, c in codecs.items()}
    for n in threads:
        torch.set_num_threads(n)
        cv2.setNumThreads(n)
        for c in codecs.values():  # warm-up
            for _ in range(3):
                c.decode(c.encode(one))
        enc = _interleaved_ms({k: (lambda c=c: c.encode(one)) for k, c in codecs.items()},
                              repeats)
        dec = _interleaved_ms({k: (lambda c=c, k=k: c.decode(payloads[k][0]))
                               for k, c in codecs.items()}, repeats)
        big = _interleaved_ms({k: (lambda c=c: c.decode(c.encode(batch)))
                               for k, c in codecs.items()}, max(5, repeats // 10))
        jpeg = _classic_ms(batch, ".jpg", cv2.IMWRITE_JPEG_QUALITY, 10, max(3, repeats // 10))
        webp = _classic_ms(batch, ".webp", cv2.IMWRITE_WEBP_QUALITY, 5, max(3, repeats // 10))
        for k in codecs:
            rows.append({"threads": n, "path": k, "encode_ms": enc[k], "decode_ms": dec[k],
                         "batch32_fps": len(batch) / (big[k] / 1000), "jpeg_ms": jpeg,
                         "webp_ms": webp,
                         "payload_bytes": float(np.mean([len(p) for p in payloads[k][1]]))})
    return rows


def table(rows: list[dict], codec: Codec) -> str:
    """Markdown table of the rows."""
    lines = [f"OpenCV {cv2.__version__}; weights {codec.model_id} "
             f"({codec.metadata.get('preset')}); each figure the median of repeated runs, "
             "the paths timed in alternating rounds.", "",
             "| threads | path | encode ms (batch 1) | decode ms (batch 1) | encode+decode ms | "
             "frames/s (batch 32, enc+dec) | JPEG q10 enc+dec ms | WebP q5 enc+dec ms | "
             "codec / JPEG time |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        both = r["encode_ms"] + r["decode_ms"]
        lines.append(f"| {r['threads']} | {r['path']} | {r['encode_ms']:.2f} | "
                     f"{r['decode_ms']:.2f} | {both:.2f} | {r['batch32_fps']:.0f} | "
                     f"{r['jpeg_ms']:.3f} | {r['webp_ms']:.3f} | {both / r['jpeg_ms']:.0f}x |")
    return "\n".join(lines) + "\n"


def layer_rows(codec: Codec, repeats: int) -> list[tuple[str, str, float, float]]:
    """(transform, layer, ms, multiply-adds in millions) per layer at batch 1, eager.

    Shows where the time goes and how close each layer runs to the CPU's peak.
    """
    from ..codec.gdn import GDN
    from ..codec.profile import count_macs

    rows = []
    x = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        y = torch.round(codec.model.analyse(x))
        if codec.model.config["noise_channels"]:
            y = torch.cat([y, codec.model.decoder_noise], dim=1)
        for name, seq, h in (("encoder", codec.model.encoder, x),
                             ("decoder", codec.model.decoder, y)):
            for layer in seq:
                ms = _median_ms(lambda m=layer, t=h: m(t), repeats)
                out = layer(h)
                macs = (h.shape[1] ** 2 * h.shape[2] * h.shape[3] if isinstance(layer, GDN)
                        else count_macs(layer, h))  # GDN: a CxC matrix per pixel
                rows.append((name, f"{type(layer).__name__} {tuple(h.shape[1:])} -> "
                             f"{tuple(out.shape[1:])}", ms, macs / 1e6))
                h = out
    return rows


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
    p.add_argument("--no-eager", action="store_true", help="time only the default (frozen) "
                   "path, not also the eager modules it replaced")
    p.add_argument("--out", help="markdown file whose 'codec' section is rewritten")
    args = p.parse_args(argv)
    codec = Codec.load(args.weights or None)
    codecs = {"frozen (default)" if codec.frozen else "default (eager)": codec}
    if not args.no_eager:
        codecs["eager"] = Codec.load(args.weights or None, optimize=False)
    frames = eval_frames(args.data)
    if len(frames) == 0:
        print("gan-compress-bench: no frames in --data", file=sys.stderr)
        return 2
    while len(frames) < 32:
        frames = np.concatenate([frames, frames])
    report = table(bench(codecs, frames, args.threads, args.repeats), codec)
    cv2.setNumThreads(1)
    report += ("\nFitting a camera frame into 64x64 (centre crop, area resize; OpenCV, 1 "
               "thread), per frame: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in
                                                  fit_rows(max(5, args.repeats // 5))) + ".\n")
    torch.set_num_threads(1)
    layers = layer_rows(codec, max(10, args.repeats // 2))
    report += ("\nWhere the time goes (eager modules, batch 1, 1 thread; GMAC/s = multiply-adds "
               "per second):\n\n| transform | layer | ms | M multiply-adds | GMAC/s |\n"
               "| --- | --- | ---: | ---: | ---: |\n")
    report += "".join(f"| {t} | {name} | {ms:.3f} | {macs:.1f} | {macs / ms:.1f} |\n"
                      for t, name, ms, macs in layers)
    total = sum(r[2] for r in layers), sum(r[3] for r in layers)
    report += f"| all | | {total[0]:.2f} | {total[1]:.1f} | {total[1] / total[0]:.1f} |\n"
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
    p.add_argument("--plot", help="also plot latency and memory per window to this PNG")
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
    if args.plot:
        from ..training.plots import plot_soak

        plot_soak(result, Path(args.plot))
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
