"""Compare ways to fine-tune without forgetting (docs/finetune.md): one camera, several variants.

Each variant trains from the bundled weights on the camera's earlier 80% and is measured
(BD-rate against the bundled weights on the later 20% and on the general validation set)
after each of ``--checkpoints`` minutes of training; measuring does not count as training
time. Prints one JSON line per measurement and appends it to ``--log``.

    python dev/finetune_compare.py --camera CLIP --variants all mix decoder_mix
        --checkpoints 5 10 --log runs/compare.jsonl
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from gan_compress_ros.training.finetune import FinetuneConfig, Finetuner, write_run

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"
GENERAL = [str(SHARED / "photos" / "train"), str(SHARED / "wallpapers" / "train")]
VAL = [str(SHARED / "photos" / "val"), str(SHARED / "wallpapers" / "val"),
       str(SHARED / "video" / "val")]
#: Variant name -> FinetuneConfig fields.
VARIANTS = {
    "all": {"general": []},
    "mix": {"general": GENERAL},
    "decoder_mix": {"general": GENERAL, "adapt": "decoder"},
    "bias": {"adapt": "bias", "general": []},
    "bias_mix": {"adapt": "bias", "general": GENERAL},
    "mix_anchor": {"general": GENERAL, "anchor": 1.0},
    "mix25": {"general": GENERAL, "general_share": 0.25},
    "mix_lr1e-4": {"general": GENERAL, "lr": 1e-4},
    "mix_lr3e-5": {"general": GENERAL, "lr": 3e-5},
    "all_lr1e-4": {"lr": 1e-4, "general": []},
    "sample_lr1e-4": {"lr": 1e-4},  # the shipped sample (FinetuneConfig's default)
    "decoder_mix_lr1e-4": {"general": GENERAL, "adapt": "decoder", "lr": 1e-4},
}


def table(logs: list[str]) -> str:
    """The measurements in ``logs`` (JSON lines) as a markdown table."""
    lines = ["| camera | variant | steps | CPU s (wall s) | camera BD-rate PSNR (MS-SSIM) | "
             "general BD-rate PSNR (MS-SSIM) |", "| --- | --- | --- | --- | --- | --- |"]
    rows = [json.loads(line) for log in logs for line in open(log) if line.strip()]
    for r in sorted(rows, key=lambda r: (r["camera"], r["variant"], r["steps"])):
        lines.append(f"| {r['camera']} | {r['variant']} | {r['steps']} | {r['train_cpu_s']:.0f} "
                     f"({r['train_s']:.0f}) | {r['camera_bd_psnr']:+.1f}% "
                     f"({r['camera_bd_msssim']:+.1f}%) | {r['general_bd_psnr']:+.1f}% "
                     f"({r['general_bd_msssim']:+.1f}%) |")
    return "\n".join(lines)


def main() -> None:
    """Run the variants one after the other (or, with --table, print the logs as a table)."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--table", nargs="+", help="only print these logs as a markdown table")
    p.add_argument("--camera")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS))
    p.add_argument("--checkpoints", nargs="+", type=float, default=[5.0, 10.0],
                   help="minutes of training after which to measure")
    p.add_argument("--steps", nargs="+", type=int, default=[], help="measure after these "
                   "step counts instead (a loaded machine gives few steps per minute)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--eval-frames", type=int, default=40)
    p.add_argument("--frame-stride", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--log")
    args = p.parse_args()
    if args.table:
        print(table(args.table))
        return
    if not args.camera or not args.log:
        p.error("--camera and --log are needed to run")
    for name in args.variants:
        config = FinetuneConfig(data=[args.camera], out="", val=VAL,
                                frame_stride=args.frame_stride, threads=args.threads,
                                minutes=args.checkpoints[0], batch=args.batch,
                                eval_frames=args.eval_frames,
                                **VARIANTS[name])  # type: ignore[arg-type]
        tuner = Finetuner(config, progress=False)
        done = 0.0
        total_s = cpu_s = 0.0
        for point in args.steps or args.checkpoints:
            if args.steps:
                tuner.config.minutes, tuner.config.steps = 0.0, int(point)
            else:
                tuner.config.minutes = point - done
            cpu = time.process_time()
            tuner.train()
            cpu_s += time.process_time() - cpu
            total_s += tuner.elapsed
            done = point
            tmp = Path(tempfile.mkdtemp())
            try:
                meta = write_run(tuner, tmp / "run")
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            ev = meta["evaluation"]["finetune"]
            row = {"camera": Path(args.camera).name, "variant": name, "steps": tuner.step,
                   "batch": args.batch, "train_s": round(total_s, 1),
                   "train_cpu_s": round(cpu_s, 1),
                   "train_frames": tuner.train_frames, "held_out_frames": tuner.held_count,
                   "camera_bd_psnr": ev["camera"]["bd_rate_psnr"],
                   "camera_bd_msssim": ev["camera"]["bd_rate_ms_ssim"],
                   "general_bd_psnr": ev["general"]["bd_rate_psnr"],
                   "general_bd_msssim": ev["general"]["bd_rate_ms_ssim"]}
            print(json.dumps(row), flush=True)
            with open(args.log, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
