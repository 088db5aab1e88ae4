"""gan-compress-train --finetune: adapt the bundled weights to one camera in minutes of CPU.

Trains on the earlier 80% of the footage (image folders, videos, bags: ROS 1 or rosbag2),
sampled as the encoder node sees it (whole frames through its resize, plus crops at a few
scales), and holds out the last 20% by time. At the end it prints the BD-rate of the new
weights against the starting ones on those later frames (a quality sweep) and, with --val,
on general photos, and writes OUT/weights.safetensors with a model card (and, with --export,
the ONNX export in OUT/onnx). Ctrl-C stops training and saves what it has. The receiving side
needs the same weights file: payloads are bound to its model id, and other weights refuse them.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from ..codec.errors import WeightsError
from ..image import RESIZE_MODES
from ..training.camera import FootageError
from ..training.finetune import ADAPT_MODES, FinetuneConfig, Finetuner, write_run

PROG = "gan-compress-train --finetune"
#: Wall-clock minutes when neither --minutes nor --steps is given.
DEFAULT_MINUTES = 10.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options of fine-tuning."""
    d = FinetuneConfig(data=[], out="")
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", required=True, help="the camera's footage: image "
                   "folders (name order is time order), videos, bags (.bag, .mcap, .db3 or a "
                   "rosbag2 folder)")
    p.add_argument("--out", required=True, help="output folder (new or empty): "
                   "weights.safetensors, model_card.md")
    p.add_argument("--minutes", type=float, help="stop after this much wall-clock time "
                   f"(default {DEFAULT_MINUTES:g} unless --steps is given)")
    p.add_argument("--steps", type=int, help="stop after this many steps")
    p.add_argument("--init", default="", help="starting weights: a file or bundled name "
                   "(default: the bundled model)")
    p.add_argument("--topic", default="", help="bag image topic (default: the bag's only "
                   "image topic)")
    p.add_argument("--val", nargs="+", default=[], help="general photos to measure what the "
                   "new weights lose elsewhere (e.g. the bundled model's validation set)")
    p.add_argument("--general", nargs="+", default=d.general, help="general photos mixed "
                   "into every batch so the model keeps what it knew (default: the sample of "
                   "the bundled model's training photos shipped with the package)")
    p.add_argument("--no-general", action="store_true", help="train on the camera alone "
                   "(the new weights then forget other scenes fast: docs/finetune.md)")
    p.add_argument("--general-share", type=float, default=d.general_share,
                   help=f"fraction of each batch from --general ({d.general_share})")
    p.add_argument("--adapt", choices=ADAPT_MODES, default=d.adapt, help="which weights "
                   f"train: all, decoder (all but the encoder) or bias ({d.adapt})")
    p.add_argument("--anchor", type=float, default=d.anchor, help="weight of the squared "
                   f"distance from the starting weights in the loss ({d.anchor:g})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"learning rate ({d.lr:g})")
    p.add_argument("--batch", type=int, default=d.batch, help=f"batch size ({d.batch})")
    p.add_argument("--resize-mode", choices=RESIZE_MODES, default=d.resize_mode,
                   help="the encoder node's resize_mode on this camera "
                   f"({d.resize_mode})")
    p.add_argument("--frame-stride", type=int, default=d.frame_stride, help="take every Nth "
                   f"video/bag frame ({d.frame_stride}; long clips are thinned further)")
    p.add_argument("--eval-frames", type=int, default=d.eval_frames, help="held-out frames "
                   f"measured at most, evenly spaced ({d.eval_frames})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"random seed ({d.seed})")
    p.add_argument("--threads", type=int, default=d.threads, help="torch CPU threads (0: "
                   "torch's default)")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default=d.precision,
                   help="training arithmetic (auto: bf16 where the CPU has it)")
    p.add_argument("--export", action="store_true", help="also write the ONNX export "
                   "(OUT/onnx) for the onnxruntime backend")
    p.add_argument("--no-measure", action="store_true", help="skip the before/after "
                   "measurement")
    return p.parse_args(argv)


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point (``gan-compress-train --finetune ...``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    minutes = args.minutes if args.minutes is not None else (
        0.0 if args.steps is not None else DEFAULT_MINUTES)
    if args.minutes is not None and args.minutes <= 0:
        return _fail(f"--minutes {args.minutes:g}: must be > 0")
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        return _fail(f"--out {out} exists and is not an empty folder: choose a new one")
    config = FinetuneConfig(
        data=args.data, out=str(out), init=args.init, topic=args.topic, minutes=minutes,
        steps=args.steps or 0, val=args.val,
        general=[] if args.no_general else args.general, general_share=args.general_share,
        adapt=args.adapt, anchor=args.anchor, lr=args.lr,
        batch=args.batch, resize_mode=args.resize_mode, frame_stride=args.frame_stride,
        eval_frames=args.eval_frames, seed=args.seed, threads=args.threads,
        precision=args.precision,
        command="gan-compress-train --finetune " + " ".join(shlex.quote(a) for a in argv))
    try:
        tuner = Finetuner(config)
    except (FootageError, WeightsError, ValueError, ImportError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted while loading; nothing written", file=sys.stderr)
        return 130
    print(f"{tuner.train_frames} frames to train on, {tuner.held_count} later frames held "
          f"out; starting from model {tuner.start_id}", file=sys.stderr)
    if args.no_general:
        print("note: without general photos mixed in, the new weights forget other scenes "
              "fast (docs/finetune.md)", file=sys.stderr)
    tuner.train()
    if tuner.interrupted:
        print(f"interrupted at step {tuner.step}: saving", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        meta = write_run(tuner, out, measure=not args.no_measure, export=args.export)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted while saving; nothing written", file=sys.stderr)
        return 130
    ev = meta.get("evaluation", {}).get("finetune", {})
    for name, label in (("camera", "the camera's later frames"), ("general", "general photos")):
        if name in ev:
            print(f"BD-rate on {label} ({ev[name]['frames']} frames): "
                  f"{ev[name]['bd_rate_psnr']:+.1f}% (PSNR), "
                  f"{ev[name]['bd_rate_ms_ssim']:+.1f}% (MS-SSIM)", file=sys.stderr)
    print(f"wrote {out / 'weights.safetensors'} (model {meta['model_id']}, "
          f"{tuner.step} steps); the decoder needs this same file", file=sys.stderr)
    print(json.dumps({"model_id": meta["model_id"], "steps": tuner.step,
                      **{k: v["bd_rate_psnr"] for k, v in ev.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
