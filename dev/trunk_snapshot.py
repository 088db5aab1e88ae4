"""Commit-sized snapshot of the trunk, so that it keeps training on a new machine.

The trunk's run directory (``runs/v3``) is git-ignored and lost with the machine; without a
snapshot ``dev/trunk.sh`` restarts from the bundled weights, an ending branched tens of
thousands of steps back. This writes ``dev/trunk/trunk.pt`` (the model in fp16 with the
step and the commands, no optimizer: ``trainer.slim_checkpoint``, 5.6 MB) and its card
``dev/trunk/README.md``; ``dev/trunk.sh`` resumes from it with a fresh optimizer and a
1,000-step lr warm-up. Rounding 3dcf's weights to fp16 changed no payload size and at most
0.01 dB (240 general-set crops at qualities 0, 0.5 and 1). Run it with the trunk paused
near the end of a session, and commit the two files when the trunk moved 20,000 steps on.

    python dev/trunk_snapshot.py            # runs/v3/checkpoint.pt -> dev/trunk/
"""

from __future__ import annotations

import argparse
import csv
import datetime
import sys
from pathlib import Path

import torch

from gan_compress_ros.training.trainer import slim_checkpoint

ROOT = Path(__file__).resolve().parent.parent
TRUNK = ROOT / "runs" / "v3"
OUT = ROOT / "dev" / "trunk"
#: Train-loss rows averaged for the card (the trunk has no validation pass of its own).
RECENT_ROWS = 40


def recent_loss(log: Path, step: int) -> str:
    """Mean train loss / mse / bpp of ``train_log.csv``'s last ``RECENT_ROWS`` rows to ``step``."""
    if not log.is_file():
        return "no train_log.csv"
    rows = [r for r in csv.DictReader(log.open()) if int(r["step"]) <= step][-RECENT_ROWS:]
    if not rows:
        return "an empty train_log.csv"
    mean = {k: sum(float(r[k]) for r in rows) / len(rows) for k in ("loss", "mse", "bpp")}
    return (f"loss {mean['loss']:.2f}, mse {mean['mse']:.2f}, bpp {mean['bpp']:.4f} "
            f"(steps {rows[0]['step']}-{rows[-1]['step']}, random qualities)")


def main(argv: list[str] | None = None) -> int:
    """Write the snapshot and its card; print the step."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default=str(TRUNK), help="the trunk's run directory")
    p.add_argument("--out", default=str(OUT), help="where the snapshot and its card go")
    args = p.parse_args(argv)
    run, out = Path(args.run), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    step = slim_checkpoint(run / "checkpoint.pt", out / "trunk.pt")
    state = torch.load(out / "trunk.pt", map_location="cpu", weights_only=True)
    origin = (run / "restarted_from").read_text().strip() if \
        (run / "restarted_from").is_file() else "unknown"
    commands = "\n".join(f"  - `{c}`" for c in state["commands"])
    size = (out / "trunk.pt").stat().st_size / 1e6
    (out / "README.md").write_text(f"""# The trunk's snapshot (not a model to deploy)

`trunk.pt` is the from-scratch run's trunk (`dev/trunk.sh`, `runs/v3`) at step {step:,}, its
model in fp16 without optimizer state ({size:.1f} MB), written by `python
dev/trunk_snapshot.py` on {datetime.date.today()}. It is here so that the trunk keeps training
on a new machine: `dev/trunk.sh` resumes from it (fresh optimizer, 1,000-step lr warm-up)
where `runs/v3` is missing. Bundled models are endings branched from the trunk
(`dev/branch_ending.sh`); the trunk itself trains the rate-distortion loss only, at lr 3e-4,
and is not measured as a codec.

- Restarted from: model {origin} (the bundled weights when the run directory was lost).
- Data: `dev/trunk_flags.sh` (`RUN_DATA`): commercial-use sets only, as listed with their
  licences in `gan_compress_ros/weights/DATA_CREDITS.md`.
- Seed 3; wall time {state['elapsed'] / 3600:.1f} h on 2 CPU cores (pauses included).
- Recent training loss: {recent_loss(run / 'train_log.csv', step)}.
- Commands (in order; later ones resumed the run):
{commands}
""")
    (out / "restarted_from").write_text(origin + "\n")
    print(f"trunk at step {step:,}: {out / 'trunk.pt'} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
