"""How the codec's BD-rate against WebP and AV1 moves with the trunk's training steps.

Issue 23 asks to stop when "the training has stopped improving the numbers". Each model
bundled from the from-scratch run is an *ending* (lr drop, adversarial stage) branched from
the long-running trunk at some step; this script measures each ending's quality sweep against
the classic anchors of the same frames, plots the BD-rates against the trunk step (log
scale) with the issue's targets, and fits BD-rate against log2(step) on the last endings to
say how many trunk steps the targets would need if the trend held -- an extrapolation, printed
as one.

    python dev/trunk_progress.py --out docs/results/trunk/progress.png

The endings' neural curves are in ``docs/results/trunk/*.csv`` (``gan-compress-eval`` rows,
the gan_compress curve only); ``endings.tsv`` there names each one's branch step and recipe.
The anchors are those of ``docs/results/general/rd.csv`` (the same 180 frames).
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np

from gan_compress_ros.training.rd_eval import AOM_RAW, bd_rate, neural_curve, read_csv

HERE = Path(__file__).resolve().parent.parent
TRUNK = HERE / "docs/results/trunk"
ANCHORS = HERE / "docs/results/general/rd.csv"
#: Issue 23's effort-0 targets (PSNR, MS-SSIM BD-rate, %).
TARGETS = {"WebP": (-40.0, -50.0), AOM_RAW: (-10.0, -25.0)}
#: How many of the last endings the log-linear fit uses: e453, d76b and 3dcf share the
#: 24,000-step ending and the 4-byte header, so their line is the trunk's steps alone.
FIT_LAST = 3


def endings(folder: Path) -> list[dict]:
    """The rows of ``endings.tsv``: id, branch step, total steps, recipe."""
    with (folder / "endings.tsv").open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for row in rows:
        row["branch"] = int(row["branch"])
    return sorted(rows, key=lambda r: r["branch"])


def measure(folder: Path, anchors_path: Path) -> list[dict]:
    """Each ending's BD-rate (PSNR, MS-SSIM) against each target anchor."""
    anchors = read_csv(anchors_path)
    out = []
    for row in endings(folder):
        curves = read_csv(folder / f"{row['id']}.csv")
        _, neural = neural_curve(curves, str(folder / f"{row['id']}.csv"))
        bd = {name: (bd_rate(neural, anchors[name], "psnr"),
                     bd_rate(neural, anchors[name], "ms_ssim")) for name in TARGETS}
        out.append({**row, "bd": bd})
    return out


def table(rows: list[dict]) -> list[str]:
    """The markdown table docs/results.md quotes (BD-rates PSNR / MS-SSIM)."""
    lines = ["| ending | branched at | steps | recipe | vs WebP | vs AV1 (libaom, raw) |",
             "| --- | ---: | ---: | --- | ---: | ---: |"]
    for r in rows:
        w, a = r["bd"]["WebP"], r["bd"][AOM_RAW]
        lines.append(f"| {r['id']} | {r['branch']:,} | {int(r['steps']):,} | {r['recipe']} | "
                     f"{w[0]:+.1f}% / {w[1]:+.1f}% | {a[0]:+.1f}% / {a[1]:+.1f}% |")
    return lines


def projection(rows: list[dict], anchor: str, metric: int) -> tuple[float, float]:
    """Slope of the last endings' line and the trunk step where it meets the target.

    The slope is in points of BD-rate per doubling of the trunk's steps; the step is inf when
    the line does not head towards the target.
    """
    last = rows[-FIT_LAST:]
    x = np.log2([r["branch"] for r in last])
    y = np.array([r["bd"][anchor][metric] for r in last])
    slope, icpt = np.polyfit(x, y, 1)
    target = TARGETS[anchor][metric]
    if slope >= 0:
        return float(slope), math.inf
    return float(slope), float(2 ** ((target - icpt) / slope))


def _crowded(a: float, b: float) -> bool:
    """Whether two branch steps sit too close on the log axis for side-by-side labels."""
    return abs(math.log2(b / a)) < 0.3


def _spread(steps: list[int]) -> list[int]:
    """The steps to put ticks at: the last one, then each one not crowding the tick after it."""
    kept = [steps[-1]]
    for s in reversed(steps[:-1]):
        if abs(math.log2(kept[-1] / s)) >= 0.15:
            kept.append(s)
    return kept[::-1]


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--folder", type=Path, default=TRUNK)
    p.add_argument("--anchors", type=Path, default=ANCHORS)
    p.add_argument("--out", type=Path, help="PNG to write the plot to")
    args = p.parse_args(argv)
    rows = measure(args.folder, args.anchors)
    print("\n".join(table(rows)))
    print(f"\nLog-linear fit over the last {FIT_LAST} endings (an extrapolation):")
    for anchor in TARGETS:
        for metric, label in enumerate(("PSNR", "MS-SSIM")):
            slope, step = projection(rows, anchor, metric)
            reach = "not on this trend" if math.isinf(step) else f"trunk step ~{step:,.0f}"
            print(f"  vs {anchor}, {label}: {slope:+.1f} points per doubling; target "
                  f"{TARGETS[anchor][metric]:+.0f}% at {reach}")
    print("Between consecutive endings, PSNR points per doubling of the trunk's steps:")
    for a, b in zip(rows, rows[1:], strict=False):
        doublings = math.log2(b["branch"] / a["branch"])
        slopes = [(b["bd"][n][0] - a["bd"][n][0]) / doublings for n in TARGETS]
        print(f"  {a['id']} -> {b['id']}: " + ", ".join(
            f"vs {n} {v:+.1f}" for n, v in zip(TARGETS, slopes, strict=True)))
    if args.out:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
        steps = [r["branch"] for r in rows]
        for ax, anchor in zip(axes, TARGETS, strict=True):
            for metric, (label, colour) in enumerate((("PSNR", "C0"), ("MS-SSIM", "C1"))):
                ax.plot(steps, [r["bd"][anchor][metric] for r in rows], "o-", color=colour,
                        label=f"{label} BD-rate")
                ax.axhline(TARGETS[anchor][metric], color=colour, ls="--", lw=1,
                           label=f"issue 23 target ({label})")
            level = 0
            for i, r in enumerate(rows):  # crowded labels climb in steps, each with a leader
                level = level + 1 if i and _crowded(steps[i - 1], steps[i]) else 0
                ax.annotate(r["id"], (r["branch"], r["bd"][anchor][0]), fontsize=7,
                            textcoords="offset points", xytext=(0, 8 + 9 * (level % 4)),
                            ha="center", va="bottom",
                            arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.5"})
            ax.set_xscale("log", base=2)
            ticks = _spread(steps)
            ax.set_xticks(ticks, [f"{s / 1000:.0f}k" for s in ticks], rotation=45, fontsize=8)
            ax.minorticks_off()
            ax.set_xlabel("trunk step the ending branched from")
            ax.set_ylabel("BD-rate, % (negative: fewer bytes)")
            ax.set_title(f"effort 0 against {anchor}")
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=7, loc="lower left")
        fig.suptitle("The bundled run's endings on the general validation set")
        fig.tight_layout()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.out, dpi=110)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
