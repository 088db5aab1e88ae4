"""gan-compress-train: train a codec from image folders, videos or rosbags; write its weights.

The default trains the product codec (``compact`` preset): a rate-distortion warm-up, then the
adversarial term. ``--paper`` reproduces the paper's setting (Table 1 architecture, batch 8,
lr 0.0004 / 0.004, noise level 100 as decoder noise channels, BCE GAN losses).
Runs under ``torchrun --nproc_per_node=N`` with DistributedDataParallel.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys

from ..codec.presets import PRESET_DEFAULTS
from ..training.trainer import PAPER_SETTINGS, TrainConfig, Trainer

#: Defaults of the command line where they differ from TrainConfig's (which tests use).
CLI_DEFAULTS = {"beta": 4.0, "gan_start": 5000, "precision": "auto"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the trainer (None: not given on the command line)."""
    p = argparse.ArgumentParser(prog="gan-compress-train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", required=True,
                   help="image folders (recursive), image files, videos, rosbags (.bag, "
                   ".mcap, .db3 or a rosbag2 folder), in any mix")
    p.add_argument("--val", nargs="*", help="validation data (default: a deterministic "
                   "hold-out of --data)")
    p.add_argument("--out", required=True, help="output folder (weights, logs, checkpoint)")
    p.add_argument("--paper", action="store_true", help="the paper's preset and settings")
    p.add_argument("--preset", choices=sorted(PRESET_DEFAULTS))
    p.add_argument("--preset-config", help='JSON overrides, e.g. \'{"channels": 64}\'')
    p.add_argument("--lmbda", type=float, help="rate weight: larger, fewer bytes (100); for a "
                   "variable-rate preset (compact2), the weight at quality 1")
    p.add_argument("--lmbda-q0", type=float, help="variable-rate presets: the rate weight at "
                   "quality 0 (the fewest bytes), e.g. 2500 with --lmbda 15")
    p.add_argument("--steps", type=int, help="total steps (10000)")
    p.add_argument("--batch", type=int, help="batch per process (16)")
    p.add_argument("--lr", type=float, help="generator learning rate (3e-4)")
    p.add_argument("--lr-drop", type=int, help="step from which the generator's lr is 10x "
                   "lower (0: never)")
    p.add_argument("--lr-d", type=float, help="discriminator learning rate (1e-4)")
    p.add_argument("--beta", type=float, help=f"adversarial weight ({CLI_DEFAULTS['beta']}; "
                   "0 trains rate-distortion only)")
    p.add_argument("--gan-start", type=int, help="warm-up steps before the adversarial term "
                   f"({CLI_DEFAULTS['gan_start']})")
    p.add_argument("--discriminator", choices=["latent", "paper"])
    p.add_argument("--instance-noise", type=float, help="N_sp: std of the noise added to the "
                   "discriminator's inputs (0.1)")
    p.add_argument("--msssim-weight", type=float, help="weight of (1 - MS-SSIM) (0)")
    p.add_argument("--frame-stride", type=int, help="take every Nth video/bag frame (10)")
    p.add_argument("--balance", action="store_true", default=None,
                   help="give each --data path an equal share of the training crops")
    p.add_argument("--topics", nargs="*", help="bag image topics (default: all image topics)")
    p.add_argument("--init", help="start from these weights or a checkpoint.pt (same "
                   "preset), e.g. to train another rate point from a converged one")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"],
                   help="training arithmetic: auto uses bf16 autocast where the CPU/GPU "
                   "supports it (about 2.5x faster on AMX CPUs); inference is always fp32")
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int, help="torch CPU threads (0: torch's default)")
    p.add_argument("--time-limit", type=float, help="stop this invocation after this many "
                   "seconds (a resumed run gets the limit anew)")
    p.add_argument("--checkpoint-every", type=int)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    return p.parse_args(argv)


def build_config(args: argparse.Namespace, command: str) -> TrainConfig:
    """TrainConfig from defaults, then ``--paper`` settings, then explicit options."""
    values: dict = dict(CLI_DEFAULTS)
    if args.paper:
        values.update(PAPER_SETTINGS)
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    for key, value in vars(args).items():
        if key in names and value is not None:
            values[key] = value
    if args.preset_config:
        values["preset_overrides"] = json.loads(args.preset_config)
    values["command"] = command
    return TrainConfig(**values)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    command = "gan-compress-train " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    try:
        config = build_config(args, command)
    except json.JSONDecodeError as exc:
        print(f"gan-compress-train: --preset-config is not JSON: {exc}", file=sys.stderr)
        return 2
    try:
        trainer = Trainer(config)
    except (ValueError, FileNotFoundError) as exc:
        print(f"gan-compress-train: {exc}", file=sys.stderr)
        return 2
    try:
        if args.resume and trainer.resume():
            print(f"resumed at step {trainer.step}", file=sys.stderr)
    except (RuntimeError, KeyError, ValueError) as exc:
        print(f"gan-compress-train: cannot resume from {trainer.checkpoint_path} (a run with "
              f"other settings?): {exc}", file=sys.stderr)
        return 2
    meta = trainer.train()
    if meta:
        print(json.dumps({"model_id": meta["model_id"], **meta.get("evaluation", {})}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
