"""gan-compress-train: train a codec from image folders, videos or rosbags; write its weights.

With no --preset, it trains what Codec.load() loads: the bundled model's architecture
(preset and config) and rate range (lambda at quality 1 and 0), read from the bundled
weights' metadata, so the result takes quality=, max_bytes= and temporal mode. A
rate-distortion warm-up, then the adversarial term. --preset names another architecture
(compact, paper: the legacy fixed-rate ones); --paper reproduces the paper's setting
(Table 1 architecture, batch 8, lr 0.0004 / 0.004, noise level 100 as decoder noise channels,
BCE GAN losses). Runs under torchrun --nproc_per_node=N with DistributedDataParallel.

gan-compress-train --finetune ... adapts the bundled weights to one camera's footage:
see gan-compress-train --finetune --help.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys

from ..codec.errors import WeightsError
from ..codec.nn.objective import MSSSIM_MODES
from ..codec.presets import PRESET_DEFAULTS, preset_config
from ..training.trainer import (
    PAPER_SETTINGS,
    TRAIN_ONLY,
    TrainConfig,
    Trainer,
    bundled_settings,
)

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
    p.add_argument("--finetune", action="store_true", help="adapt the bundled weights (or "
                   "--init) to one camera's footage instead: its own options, see "
                   "gan-compress-train --finetune --help")
    p.add_argument("--paper", action="store_true", help="the paper's preset and settings")
    p.add_argument("--preset", choices=sorted(PRESET_DEFAULTS),
                   help="architecture (default: the bundled model's preset and config; "
                   "compact and paper are the legacy fixed-rate ones)")
    p.add_argument("--preset-config", help='JSON overrides of the architecture\'s config, '
                   'e.g. \'{"channels": 64}\'')
    p.add_argument("--lmbda", type=float, help="rate weight: larger, fewer bytes; for a "
                   "variable-rate architecture (the default), the weight at quality 1 "
                   "(default: the bundled model's); fixed-rate presets: 100")
    p.add_argument("--lmbda-q0", type=float, help="variable-rate architectures: the rate "
                   "weight at quality 0, the fewest bytes (default: the bundled model's)")
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
    p.add_argument("--discriminator", choices=["latent", "paper"],
                   help="adversarial critic (latent; --paper: paper)")
    p.add_argument("--instance-noise", type=float, help="N_sp: std of the noise added to the "
                   "discriminator's inputs (0.1)")
    p.add_argument("--msssim-weight", type=float, help="weight of (1 - MS-SSIM) (0)")
    p.add_argument("--msssim-mode", choices=list(MSSSIM_MODES),
                   help="how the MS-SSIM weight depends on a sample's quality (batch: added "
                   "to the batch's loss, weighing more against squared error the lower the "
                   "quality; rd: part of each sample's distortion, the same at every quality)")
    p.add_argument("--frame-stride", type=int, help="take every Nth video/bag frame (10)")
    p.add_argument("--balance", action="store_true", default=None,
                   help="give each --data path an equal share of the training crops")
    p.add_argument("--topics", nargs="*", help="bag image topics (default: all image topics)")
    p.add_argument("--warmup", type=int, help="steps over which the learning rate ramps up "
                   "when the optimizer starts without its state (--init from weights alone, "
                   "e.g. resuming from the bundled weights on a new machine); 0: none")
    p.add_argument("--train-only", choices=list(TRAIN_ONLY),
                   help="which weights learn (all); synthesis: the decoder side only, with "
                   "the encoder and entropy model of --init kept, so payloads stay the same")
    p.add_argument("--init", help="start from these weights or a checkpoint.pt (same "
                   "preset), e.g. to train another rate point from a converged one")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"],
                   help="training arithmetic: auto uses bf16 autocast where the CPU/GPU "
                   "supports it (about 2.5x faster on AMX CPUs); inference is always fp32")
    p.add_argument("--seed", type=int, help="random seed (0)")
    p.add_argument("--threads", type=int, help="torch CPU threads (0: torch's default)")
    p.add_argument("--time-limit", type=float, help="stop this invocation after this many "
                   "seconds (a resumed run gets the limit anew)")
    p.add_argument("--checkpoint-every", type=int, help="write OUT/checkpoint.pt every this "
                   "many steps (500; 0: only at the end)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    return p.parse_args(argv)


def build_config(args: argparse.Namespace, command: str) -> TrainConfig:
    """TrainConfig from defaults, then ``--paper`` settings, then explicit options."""
    values: dict = dict(CLI_DEFAULTS)
    if args.paper:
        values.update(PAPER_SETTINGS)
    elif args.preset is None:  # what Codec.load() loads: its architecture and rate range
        values.update(bundled_settings())
    elif preset_config(args.preset).get("rate_levels"):  # another variable-rate config
        rates = bundled_settings()
        values.update(lmbda=rates["lmbda"], lmbda_q0=rates["lmbda_q0"])
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    for key, value in vars(args).items():
        if key in names and value is not None:
            values[key] = value
    if args.preset_config:
        overrides = json.loads(args.preset_config)
        if not isinstance(overrides, dict):
            raise json.JSONDecodeError("not a JSON object", args.preset_config, 0)
        values["preset_overrides"] = {**values.get("preset_overrides", {}), **overrides}
    values["command"] = command
    return TrainConfig(**values)


def main(argv: list[str] | None = None) -> int:
    """Entry point (``--finetune`` hands over to ``tools.finetune``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--finetune" in argv:
        from .finetune import main as finetune_main

        return finetune_main([a for a in argv if a != "--finetune"])
    args = parse_args(argv)
    command = "gan-compress-train " + " ".join(shlex.quote(a) for a in argv)
    try:
        config = build_config(args, command)
    except json.JSONDecodeError as exc:
        print(f"gan-compress-train: --preset-config is not JSON: {exc}", file=sys.stderr)
        return 2
    except WeightsError as exc:
        print(f"gan-compress-train: no architecture given and {exc}", file=sys.stderr)
        return 2
    try:
        trainer = Trainer(config)
    except (ValueError, FileNotFoundError) as exc:
        print(f"gan-compress-train: {exc}", file=sys.stderr)
        return 2
    try:
        if args.resume and trainer.resume():
            print(f"resumed at step {trainer.step}", file=sys.stderr)
            if trainer.optimizer_fresh and not config.warmup:
                print("gan-compress-train: warning: the checkpoint has no optimizer state (a "
                      "slim one) and --warmup is 0: Adam starts at the full lr", file=sys.stderr)
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
