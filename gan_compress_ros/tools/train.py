"""gan-compress-train: train a codec from image folders and write its weights."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from ..codec.presets import PRESET_DEFAULTS
from ..training.trainer import TrainConfig, Trainer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the trainer."""
    p = argparse.ArgumentParser(prog="gan-compress-train", description=__doc__)
    p.add_argument("--data", nargs="+", required=True, help="image folders (recursive) or files")
    p.add_argument("--val", nargs="*", default=[], help="validation folders (default: a "
                   "deterministic hold-out of --data)")
    p.add_argument("--out", required=True, help="output folder (weights, logs, checkpoint)")
    p.add_argument("--preset", default="compact", choices=sorted(PRESET_DEFAULTS))
    p.add_argument("--preset-config", default="{}", help='JSON overrides, e.g. '
                   '\'{"channels": 64}\'')
    p.add_argument("--lmbda", type=float, default=100.0, help="rate weight: larger, fewer bytes")
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("--time-limit", type=float, default=0.0, help="stop after this many seconds")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    try:
        overrides = json.loads(args.preset_config)
    except json.JSONDecodeError as exc:
        print(f"gan-compress-train: --preset-config is not JSON: {exc}", file=sys.stderr)
        return 2
    command = "gan-compress-train " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    config = TrainConfig(data=args.data, val=args.val, out=args.out, preset=args.preset,
                         preset_overrides=overrides, lmbda=args.lmbda, steps=args.steps,
                         batch=args.batch, lr=args.lr, seed=args.seed, threads=args.threads,
                         time_limit=args.time_limit, command=command)
    trainer = Trainer(config)
    if args.resume and trainer.resume():
        print(f"resumed at step {trainer.step}", file=sys.stderr)
    meta = trainer.train()
    print(json.dumps({"model_id": meta["model_id"], **meta.get("evaluation", {})}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
