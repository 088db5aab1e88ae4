"""gan-compress-ablation: the entropy-model ablation on the bundled transforms.

Trains each entropy model variant (factorized prior, channel slices, checkerboard, both) on
the latents of fixed transforms for the same steps, codes the validation frames for real,
and writes a markdown table (bytes, quality, BD-rate against the factorized prior and
against WebP, encode/decode ms, parameters) and a JSON file.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from ..codec.errors import WeightsError
from ..codec.nn.weights import load_weights
from ..training.ablation import VARIANTS, run, summary
from ..training.data import eval_frames, load_frames
from ..training.rd_eval import RDPoint, bd_rate, classic_curve
from .command import recorded


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="gan-compress-ablation", description=__doc__)
    p.add_argument("--weights", nargs="+", required=True,
                   help="weights files (.safetensors) without a context model, one rate point "
                   "each, whose transforms are kept (e.g. fixed-rate runs of "
                   "gan-compress-train --out runs/NAME); not the bundled model, whose low, "
                   "mid and high are quality presets of one variable-rate model that "
                   "already has a context model")
    p.add_argument("--data", nargs="+", required=True, help="training images/videos/bags")
    p.add_argument("--val", nargs="+", required=True, help="validation images/videos")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--latents", type=int, default=24000, help="training crops per rate point")
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--variants", nargs="*", help=f"only these (default: all of "
                   f"{', '.join(VARIANTS)})")
    return p.parse_args(argv)


def _rd(points: list, variant: str) -> list[RDPoint]:
    return [RDPoint(variant, p.rate_point, p.bytes_per_frame, p.bytes_per_frame * 8 / 4096,
                    p.psnr, p.ms_ssim, 0) for p in points if p.variant == variant]


def report(points: list, webp: list[RDPoint], frames: int, command: str) -> str:
    """Markdown table of the ablation."""
    summ = summary(points)
    lines = [f"Command: `{command}`", "", f"Validation frames: {frames} (64x64 centre crops).",
             "", "| variant | rate point | bytes/frame | PSNR (dB) | MS-SSIM | encode ms | "
             "decode ms |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for p in points:
        lines.append(f"| {p.variant} | {p.rate_point} | {p.bytes_per_frame:.1f} | "
                     f"{p.psnr:.2f} | {p.ms_ssim:.4f} | {p.encode_ms:.2f} | "
                     f"{p.decode_ms:.2f} |")
    lines += ["", "| variant | bytes vs factorized | BD-rate vs factorized (PSNR / MS-SSIM) | "
              "BD-rate vs WebP (PSNR / MS-SSIM) | entropy-model parameters |",
              "| --- | ---: | ---: | ---: | ---: |"]
    ref = _rd(points, "factorized")
    for variant, s in summ.items():
        mine = _rd(points, variant)
        lines.append(
            f"| {variant} | {s['bytes_vs_factorized_pct']:+.1f}% | "
            f"{bd_rate(mine, ref, 'psnr'):+.1f}% / {bd_rate(mine, ref, 'ms_ssim'):+.1f}% | "
            f"{bd_rate(mine, webp, 'psnr'):+.1f}% / {bd_rate(mine, webp, 'ms_ssim'):+.1f}% | "
            f"{s['prior_params']:,} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    bases = {}
    for w in args.weights:
        try:
            loaded = load_weights(Path(w))
        except WeightsError as exc:
            print(f"gan-compress-ablation: {exc}", file=sys.stderr)
            return 2
        if loaded.model.context:
            print(f"gan-compress-ablation: {w} already has a context model", file=sys.stderr)
            return 2
        bases[Path(w).stem] = loaded.model
    out.mkdir(parents=True, exist_ok=True)
    train_images = load_frames(args.data, 10)
    frames = eval_frames(args.val)
    variants = {k: v for k, v in VARIANTS.items() if not args.variants or k in args.variants
                or k == "factorized"}
    points = run(bases, train_images, frames, args.latents, args.steps, args.batch, args.lr,
                 args.seed, variants)
    webp = classic_curve("WebP", frames)
    command = recorded("gan-compress-ablation", sys.argv[1:] if argv is None else argv)
    text = report(points, webp, len(frames), command)
    (out / "ablation.md").write_text(text)
    (out / "ablation.json").write_text(json.dumps(
        {"points": [asdict(p) for p in points], "summary": summary(points),
         "command": command}, indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
