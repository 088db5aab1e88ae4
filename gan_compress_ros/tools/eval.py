"""gan-compress-eval: rate-distortion of codec weights against classic codecs.

Anchors: JPEG, WebP, AVIF, WebP without its container, AV1 intra as raw OBUs (libaom's
all-intra mode through the system ffmpeg; SVT-AV1 through PyAV where that ffmpeg is missing)
and HEVC intra as raw packets (PyAV). A variable-rate model is swept over its quality as one
curve.

Writes ``rd.csv`` (every point), ``rd.md`` (table, BD-rates, the bytes each codec needs at
WebP's lowest-setting quality), ``rd.png`` (PSNR and MS-SSIM against bytes per frame) and
``samples.png`` (originals, each weights' reconstructions, WebP at its lowest setting).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..codec.errors import WeightsError
from ..training import aom_intra, classic_video
from ..training.data import CROP_MODES, eval_frames
from ..training.plots import save_grid
from ..training.rd_eval import (
    AOM_RAW,
    AV1_RAW,
    DEFAULT_CODECS,
    PYAV_CODECS,
    QUALITIES,
    RDPoint,
    bd_rate,
    bytes_at_quality,
    classic_curve,
    classic_decoded,
    plot_rd,
    weights_curve,
    write_csv,
)

#: Frames shown in the sample grid (spread over the evaluation set).
SAMPLES = 8


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="gan-compress-eval", description=__doc__)
    p.add_argument("--weights", nargs="+", required=True,
                   help="weights files or bundled names; files of one preset form one curve")
    p.add_argument("--data", nargs="+", required=True, help="evaluation images/videos/bags")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--codecs", nargs="*", default=None, choices=list(QUALITIES),
                   help="classic anchors (default: " + ", ".join(DEFAULT_CODECS) + "; "
                   f"{AV1_RAW} where ffmpeg with libaom is missing)")
    p.add_argument("--frame-stride", type=int, default=1, help="every Nth video/bag frame")
    p.add_argument("--max-frames", type=int, default=0, help="use at most this many frames")
    p.add_argument("--crops", choices=CROP_MODES, default="multiscale",
                   help="multiscale: each image's centre square at 1, 1/2 and 1/4 of its "
                   "shorter side (whole scenes and close views); centre: one centre crop")
    return p.parse_args(argv)


def runnable_codecs(requested: list[str] | None) -> list[str]:
    """The anchors to run: ``requested`` less those that cannot run here.

    Each skip is said in one line on stderr. By default (``DEFAULT_CODECS``) the AV1 row is
    libaom's; without ffmpeg's libaom it is SVT-AV1's (PyAV).
    """
    codecs = list(DEFAULT_CODECS if requested is None else requested)
    if AOM_RAW in codecs and aom_intra.missing():
        instead = requested is None and AV1_RAW not in codecs
        print(f"gan-compress-eval: {aom_intra.missing()}: skipping {AOM_RAW}"
              + (f" (the AV1 row is {AV1_RAW})" if instead else ""), file=sys.stderr)
        codecs = [AV1_RAW if c == AOM_RAW and instead else c for c in codecs
                  if c != AOM_RAW or instead]
    if any(c in PYAV_CODECS for c in codecs) and not classic_video.available():
        print("gan-compress-eval: PyAV with SVT-AV1 and x265 is not installed (pip install "
              "'gan_compress_ros[eval]'): skipping " + ", ".join(PYAV_CODECS), file=sys.stderr)
        codecs = [c for c in codecs if c not in PYAV_CODECS]
    return codecs


def markdown(curves: dict[str, list[RDPoint]], frames: int, crops: str = "centre") -> str:
    """The report: points, BD-rates, and bytes at WebP's lowest-setting quality."""
    what = "centre crops" if crops == "centre" else "crops at 1, 1/2 and 1/4 scale"
    lines = [f"Frames: {frames} (64x64 {what}).", "",
             "| codec | setting | bytes/frame | bpp | PSNR (dB) | MS-SSIM |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for points in curves.values():
        for p in sorted(points, key=lambda p: p.bytes_per_frame):
            lines.append(f"| {p.codec} | {p.setting} | {p.bytes_per_frame:.1f} | {p.bpp:.3f} "
                         f"| {p.psnr:.2f} | {p.ms_ssim:.4f} |")
    ours = {k: v for k, v in curves.items() if k.startswith("gan_compress")}
    classic = {k: v for k, v in curves.items() if not k.startswith("gan_compress")}
    lines += ["", "BD-rate (negative: fewer bytes than the anchor at equal quality; n/a: the "
              "curves share no quality range or a curve has one point):", "",
              "| weights | anchor | BD-rate PSNR | BD-rate MS-SSIM |",
              "| --- | --- | ---: | ---: |"]

    def fmt(v: float) -> str:
        return "n/a" if np.isnan(v) else f"{v:+.1f}%"

    for name, points in ours.items():
        for anchor, ref in classic.items():
            lines.append(f"| {name} | {anchor} | {fmt(bd_rate(points, ref, 'psnr'))} | "
                         f"{fmt(bd_rate(points, ref, 'ms_ssim'))} |")
    if "WebP" in curves:
        low = min(curves["WebP"], key=lambda p: p.bytes_per_frame)
        lines += ["", f"At the PSNR of WebP's lowest setting ({low.setting}: {low.psnr:.2f} dB, "
                  f"{low.bytes_per_frame:.1f} bytes/frame):", ""]
        for name, points in curves.items():
            b = bytes_at_quality(points, low.psnr)
            ratio = "n/a (quality out of range)" if np.isnan(b) else \
                f"{b:.1f} bytes/frame ({b / low.bytes_per_frame:.2f}x WebP)"
            lines.append(f"- {name}: {ratio}")
    return "\n".join(lines) + "\n"


def _fail(message: object) -> int:
    print(f"gan-compress-eval: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point: bad input is one line and exit 2, with nothing written."""
    args = parse_args(argv)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return _fail(f"--out {out}: a file, not a folder")
    if args.frame_stride < 1 or args.max_frames < 0:
        return _fail("--frame-stride must be 1 or more and --max-frames 0 or more")
    missing = [d for d in args.data if not Path(d).exists()]
    if missing:
        return _fail(f"--data {missing[0]}: no such file or folder")
    try:
        frames = eval_frames(args.data, args.frame_stride, args.crops)
    except (OSError, ValueError) as exc:  # not an image, video or bag (BagError included)
        return _fail(f"--data: {exc}")
    if args.max_frames:
        frames = frames[np.linspace(0, len(frames) - 1, args.max_frames).astype(int)] \
            if len(frames) > args.max_frames else frames
    if not len(frames):
        return _fail(f"no frames found in --data {' '.join(args.data)} (images, videos "
                     "or bags with an image topic)")
    codecs = runnable_codecs(args.codecs)
    curves: dict[str, list[RDPoint]] = {}
    shown = np.linspace(0, len(frames) - 1, min(SAMPLES, len(frames))).astype(int)
    grid = [("original", frames[shown])]
    for w in tqdm(args.weights, desc="weights", disable=None):
        try:
            measured = weights_curve(w, frames)
        except WeightsError as exc:
            return _fail(exc)
        for point, _ in measured:
            curves.setdefault(point.codec, []).append(point)
        shown_points = measured if len(measured) == 1 else \
            [measured[0], measured[len(measured) // 2], measured[-1]]
        for point, recon in shown_points:
            grid.append((f"{point.codec} {point.setting}: {point.bytes_per_frame:.0f} B/frame, "
                         f"{point.psnr:.1f} dB", recon[shown]))
    if "WebP" in codecs:
        q = QUALITIES["WebP"][0]
        size, recon = classic_decoded("WebP", frames[shown], q)
        grid.append((f"WebP q{q} (lowest): {size:.0f} B/frame", recon))
    for name in tqdm(codecs, desc="classic codecs", disable=None):
        curves[name] = classic_curve(name, frames)
    points = [p for pts in curves.values() for p in pts]
    out.mkdir(parents=True, exist_ok=True)  # only now: a refused run leaves no folder
    write_csv(points, out / "rd.csv")
    report = markdown(curves, len(frames), args.crops)
    (out / "rd.md").write_text(report)
    plot_rd(curves, out / "rd.png", f"{len(frames)} frames, 64x64")
    save_grid(grid, out / "samples.png")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
