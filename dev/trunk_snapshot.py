"""Commit-sized snapshot of the trunk, so that it keeps training on a new machine.

The trunk's run directory (``runs/v3``) is git-ignored and lost with the machine; without a
snapshot ``dev/trunk.sh`` restarts from the bundled weights, an ending branched tens of
thousands of steps back. This writes ``dev/trunk/trunk.pt`` (the model in fp16 with the
step and the commands, no optimizer: ``trainer.slim_checkpoint``, 5.6 MB) and its card
``dev/trunk/README.md``; ``dev/trunk.sh`` resumes from it with a fresh optimizer and a
1,000-step lr warm-up. Rounding 3dcf's weights to fp16 changed no payload size and at most
0.01 dB (``--check-fp16``). Run it with the trunk paused near the end of a session, and
commit `dev/trunk/` (three files) when the trunk moved 20,000 steps on.

    python dev/trunk_snapshot.py            # runs/v3/checkpoint.pt -> dev/trunk/
    python dev/trunk_snapshot.py --check-fp16   # the bundled model, fp32 against fp16
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


def check_fp16(weights: str, crops: int = 240) -> None:
    """Print bytes and PSNR of ``weights`` as they are and with their transforms in fp16.

    Both with the entropy tables frozen again from the model, on ``crops`` general-set crops
    at qualities 0, 0.5 and 1.
    """
    import tempfile

    import numpy as np
    from run_data import general_val

    from gan_compress_ros.codec import Codec
    from gan_compress_ros.codec.nn.weights import load_weights, save_weights
    from gan_compress_ros.training.data import eval_frames

    frames = eval_frames(general_val(), crops="multiscale")
    frames = frames[np.random.default_rng(0).choice(len(frames), crops, replace=False)]
    for half in (False, True):
        loaded = load_weights(weights)
        if half:
            with torch.no_grad():
                for param in loaded.model.parameters():
                    param.copy_(param.half().float())
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "w.safetensors"
            save_weights(path, loaded.model, loaded.model.freeze_tables(), loaded.metadata)
            codec = Codec.load(path, backend="torch")
            cells = []
            for q in (0.0, 0.5, 1.0):
                payloads = codec.encode(frames, quality=q)
                err = (codec.decode(payloads).astype(float) - frames) ** 2
                psnr = np.mean(10 * np.log10(255 ** 2 / err.mean(axis=(1, 2, 3))))
                cells.append(f"q{q:g} {np.mean([len(b) for b in payloads]):.1f} B "
                             f"{psnr:.2f} dB")
        print(f"{'fp16' if half else 'fp32'}: {', '.join(cells)}")


def main(argv: list[str] | None = None) -> int:
    """Write the snapshot and its card; print the step."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default=str(TRUNK), help="the trunk's run directory")
    p.add_argument("--out", default=str(OUT), help="where the snapshot and its card go")
    p.add_argument("--check-fp16", nargs="?", const="gan_compress_ros/weights/codec.safetensors",
                   metavar="WEIGHTS", help="measure what fp16 rounding costs these weights "
                   "instead (general set, dev machines)")
    args = p.parse_args(argv)
    if args.check_fp16:
        check_fp16(args.check_fp16)
        return 0
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
- Seed 3; wall time {state['elapsed'] / 3600:.1f} h on 2 CPU cores (a trainer started before commit
  aab0e64, 2026-12-08, counted its `kill -STOP` pauses in it; later ones leave them out).
- Recent training loss: {recent_loss(run / 'train_log.csv', step)}.
- Commands (in order; later ones resumed the run):
{commands}
""")
    (out / "restarted_from").write_text(origin + "\n")
    print(f"trunk at step {step:,}: {out / 'trunk.pt'} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
