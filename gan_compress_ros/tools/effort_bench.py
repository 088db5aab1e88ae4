"""Encoder effort: BD-rate against effort 0 and time per frame, for each effort level.

Sweeps the quality at each effort on a frame set (multi-scale crops, as the general
validation set is cut), decodes every payload with a fresh decoder, and times the encoder on
the torch and onnxruntime backends (the search itself always runs on torch). Writes a
Markdown table (and, with ``--out``, rewrites its ``effort`` section in a document).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..codec import Codec, WeightsRef
from ..codec.choices import MAX_EFFORT
from ..training.data import crops_of, load_frames
from .report import update_section

#: Qualities each effort is swept over.
QUALITIES = (0.0, 0.25, 0.5, 0.75, 1.0)


def arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-compress-bench effort``."""
    p.add_argument("--data", nargs="+", required=True, help="images, videos or bags")
    p.add_argument("--weights", default=None, help="weights file or bundled name, the search "
                   "runs on torch (default: the bundled model)")
    p.add_argument("--export", help="ONNX export of the same weights for the onnxruntime "
                   "columns (default: the bundled export for a rate point, else one written "
                   "into a temporary directory)")
    p.add_argument("--efforts", nargs="+", type=int, default=[0, 1, 3, 5, 7, 9],
                   help="effort levels to measure (0, the reference, is always included)")
    p.add_argument("--frame-stride", type=int, default=10, help="every Nth video/bag frame")
    p.add_argument("--max-frames", type=int, default=48, help="frames, spread over the set")
    p.add_argument("--time-frames", type=int, default=8, help="frames the timing encodes")
    p.add_argument("--out", help="Markdown file whose 'effort' section is rewritten")
    p.add_argument("--csv", help="also write every effort's measured points to this rd.csv "
                   "(gan-compress-eval's format, curves 'effort N'): BD-rates can then be "
                   "recomputed, to more digits or against other curves, without a rerun")
    p.add_argument("--anchors", help="an rd.csv of gan-compress-eval on the same frames (same "
                   "--data, --frame-stride, multi-scale crops, every frame: --max-frames at "
                   "least their number): adds BD-rates against WebP and libaom AV1 intra")


def _frames(args: argparse.Namespace) -> np.ndarray:
    frames = crops_of(load_frames(args.data, args.frame_stride, progress=False))
    if len(frames) > args.max_frames:
        frames = frames[np.linspace(0, len(frames) - 1, args.max_frames).astype(int)]
    return frames


#: Classic anchors whose BD-rate ``--anchors`` adds to the table.
ANCHORS = ("WebP", "AV1 intra (libaom, raw)")


def _anchors(path: str | None, frames: int) -> dict[str, list[Any]]:
    """WebP and libaom curves of ``path``; ValueError where they were measured on other frames."""
    if not path:
        return {}
    from ..training.rd_eval import read_csv

    curves = {name: pts for name, pts in read_csv(path).items() if name in ANCHORS}
    counts = {p.frames for pts in curves.values() for p in pts}
    if not curves or counts != {frames}:
        raise ValueError(f"--anchors {path}: needs {', '.join(ANCHORS)} measured on the same "
                         f"{frames} frames; it has {sorted(curves)} on {sorted(counts)} frames "
                         "(run gan-compress-eval with the same --data and --frame-stride, "
                         "--crops multiscale, and give --max-frames at least that many)")
    return curves


def _curve(codec: Codec, decoder: Codec, frames: np.ndarray, effort: int) -> list[Any]:
    from ..training.rd_eval import measured_point  # torch (MS-SSIM): effort needs it anyway

    points = []
    for q in QUALITIES:
        payloads = codec.encode(frames, quality=q, effort=effort)
        points.append(measured_point(f"effort {effort}", f"q{q:.2f}", frames,
                                     [len(p) for p in payloads], decoder.decode(payloads)))
    return points


def _onnx_weights(args: argparse.Namespace, stack: ExitStack) -> str | None:
    """What the onnxruntime columns load: ``--export``, the bundled export, or a fresh one.

    A user's file has no export beside it; writing one into a temporary
    directory (torch is here anyway: the search needs it) lets any weights be measured.
    """
    ref = WeightsRef.parse(args.weights)
    if ref.kind == "export":
        raise ValueError(f"--weights {args.weights} is an ONNX export and the search runs on "
                         "torch: pass the .safetensors it came from (and --export for it)")
    if args.export:
        return str(args.export)
    if ref.has_bundled_export():
        return args.weights
    from ..codec.nn.export import export

    out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="effort-onnx-"))) / "x"
    print(f"gan-compress-bench effort: exporting {args.weights} to ONNX for the onnxruntime "
          "columns (a temporary copy; --export DIR reuses one)", file=sys.stderr)
    export(args.weights, out)
    return str(out)


def _ms_per_frame(codec: Codec, frames: np.ndarray, effort: int) -> float:
    codec.encode(frames[:1], quality=0.5, effort=effort)  # warm-up (loads the torch model)
    start = time.perf_counter()
    codec.encode(frames, quality=0.5, effort=effort)
    return (time.perf_counter() - start) * 1000.0 / len(frames)


def table(args: argparse.Namespace) -> str:
    """The Markdown table: effort, steps, BD-rates against effort 0, ms per frame."""
    frames = _frames(args)
    anchors = _anchors(args.anchors, len(frames))
    with ExitStack() as stack:  # a temporary export lives until the table is done
        return _table(args, frames, anchors, _onnx_weights(args, stack))


def _table(args: argparse.Namespace, frames: np.ndarray, anchors: dict[str, list[Any]],
           onnx: str | None) -> str:
    from ..codec.nn.effort import EFFORT_STEPS, GREEDY_TRIALS
    from ..training.rd_eval import bd_rate, write_csv

    codecs = {"torch": Codec.load(args.weights, backend="torch"),
              "onnxruntime": Codec.load(onnx, backend="onnxruntime")}
    decoder = Codec.load(onnx, backend="onnxruntime")
    try:  # the export has no gradients: its search runs on the torch model
        codecs["onnxruntime"].search_with(codecs["torch"])
    except ValueError as exc:
        raise ValueError(f"--export {onnx} is not an export of --weights: {exc}") from exc
    curves, timing = {}, {}
    for effort in tqdm(args.efforts, desc="efforts", disable=None):
        curves[effort] = _curve(codecs["torch"], decoder, frames, effort)
        timing[effort] = {b: _ms_per_frame(c, frames[:args.time_frames], effort)
                          for b, c in codecs.items()}
    if args.csv:
        write_csv([p for points in curves.values() for p in points], Path(args.csv))
    base = curves[min(curves)]
    lines = [f"Written by `gan-compress-bench effort` on {len(frames)} frames (multi-scale "
             f"crops of {', '.join(str(d) for d in args.data)}, frame stride "
             f"{args.frame_stride}), qualities {', '.join(f'{q:g}' for q in QUALITIES)}; "
             f"payloads decoded by a fresh onnxruntime decoder; time: encoding "
             f"{args.time_frames} frames in one batch at quality 0.5.", "",
             "| effort | search steps | greedy trials | BD-rate PSNR | BD-rate MS-SSIM | "
             "bytes at q0 / q1 | PSNR at q0 / q1 (dB) | ms/frame torch | ms/frame onnxruntime |"
             + "".join(f" against {name}, PSNR / MS-SSIM |" for name in anchors),
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
             + " ---: |" * len(anchors)]
    for effort, points in curves.items():
        lines.append(
            f"| {effort} | {EFFORT_STEPS[effort]} | {GREEDY_TRIALS[effort]} | "
            f"{bd_rate(points, base, 'psnr'):+.1f}% | "
            f"{bd_rate(points, base, 'ms_ssim'):+.1f}% | {points[0].bytes_per_frame:.1f} / "
            f"{points[-1].bytes_per_frame:.1f} | {points[0].psnr:.2f} / {points[-1].psnr:.2f} | "
            f"{timing[effort]['torch']:.1f} | {timing[effort]['onnxruntime']:.1f} |"
            + "".join(f" {bd_rate(points, a, 'psnr'):+.1f}% / "
                      f"{bd_rate(points, a, 'ms_ssim'):+.1f}% |" for a in anchors.values()))
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """``gan-compress-bench effort``: the table, printed and optionally written to ``--out``."""
    bad = [e for e in args.efforts if not 0 <= e <= MAX_EFFORT]
    if bad:
        print(f"gan-compress-bench effort: --efforts must lie in 0..{MAX_EFFORT}, got {bad}",
              file=sys.stderr)
        return 2
    args.efforts = sorted(set(args.efforts) | {0})
    try:
        text = table(args)
    except ValueError as exc:
        print(f"gan-compress-bench effort: {exc}", file=sys.stderr)
        return 2
    if args.out:
        update_section(args.out, "effort", text)
    print(text)
    return 0
