"""Pictures of a run: loss curves (the paper's Figs. 5-6) and sample grids (Figs. 3-4)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..codec.presets import PIXELS
from ..extras import pyplot


def plot_losses(log_csv: Path, out_png: Path, title: str = "") -> None:
    """Generator/discriminator losses, rate and PSNR over steps from ``train_log.csv``."""
    plt = pyplot()
    rows = list(csv.DictReader(log_csv.open()))
    if not rows:
        return
    step = np.array([float(r["step"]) for r in rows])

    def col(name: str) -> np.ndarray:
        return np.array([float(r.get(name) or "nan") for r in rows])

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    axes[0].plot(step, col("g_adv"), label="generator (adversarial)")
    axes[0].plot(step, col("d_loss"), label="discriminator")
    axes[0].set_title("GAN losses")
    axes[0].legend()
    axes[1].plot(step, col("bpp") * PIXELS / 8, color="tab:green")
    axes[1].set_title("rate (bytes/frame, training estimate)")
    axes[2].plot(step, 10 * np.log10(255.0 ** 2 / np.maximum(col("mse"), 1e-9)),
                 color="tab:red")
    axes[2].set_title("PSNR on training crops (dB)")
    for ax in axes:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)


def save_grid(rows: list[tuple[str, np.ndarray]], out_png: Path, scale: int = 2) -> None:
    """An image grid: one labelled row per (label, uint8 (N, 64, 64, 3)) entry."""
    plt = pyplot()
    n = max(len(images) for _, images in rows)
    fig, axes = plt.subplots(len(rows), n, figsize=(n * 0.64 * scale, len(rows) * 0.7 * scale),
                             squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(n):
            ax = axes[r][c]
            ax.axis("off")
            if c < len(images):
                ax.imshow(images[c], interpolation="nearest")
        axes[r][0].set_title(label, loc="left", fontsize=8)
    fig.tight_layout(pad=0.3)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)


def plot_soak(result: dict, out_png: Path) -> None:
    """Latency percentiles and node memory per window of a pipeline soak run."""
    plt = pyplot()
    windows = result["windows"]
    if not windows:
        return
    t = np.array([w["start_s"] for w in windows]) / 60.0
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    axes[0].plot(t, [w["p50_ms"] for w in windows], "o-", label="p50")
    axes[0].plot(t, [w["p99_ms"] for w in windows], "s-", label="p99")
    axes[0].set_title("latency camera stamp -> decoded")
    axes[0].set_ylabel("ms")
    axes[0].set_ylim(bottom=0)
    for key, label in (("encoder_rss_mib", "encoder"), ("decoder_rss_mib", "decoder")):
        axes[1].plot(t, [w[key] for w in windows], "o-", label=label)
    axes[1].set_title("resident memory")
    axes[1].set_ylabel("MiB")
    for ax in axes:
        ax.set_xlabel("window start (min)")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(f"{result['fps']:g} fps, {result['size'][0]}x{result['size'][1]}, "
                 f"{result['duration_s'] / 60:.0f} min, {result['lost']} "
                 f"frame{'' if result['lost'] == 1 else 's'} lost")
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def plot_rate(times_s: np.ndarray, quality: np.ndarray, payload: np.ndarray,
              wire: np.ndarray, budget_bps: float, out_png: Path,
              skipped_s: np.ndarray | None = None) -> None:
    """Quality and bytes per frame over time under a bit-rate budget, and the 1-s bit rate."""
    plt = pyplot()
    fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    axes[0].plot(times_s, quality, ".-")
    axes[0].set_ylabel("quality (0..1)")
    axes[0].set_ylim(-0.02, 1.02)
    axes[1].plot(times_s, payload, ".-", label="payload")
    axes[1].plot(times_s, wire, ".", alpha=0.5, label="serialized message")
    if skipped_s is not None and len(skipped_s):
        axes[1].plot(skipped_s, np.zeros(len(skipped_s)), "rx", label="skipped")
    axes[1].set_ylabel("bytes per frame")
    axes[1].legend(loc="upper right")
    grid = np.linspace(times_s.min(), times_s.max(), 400) if len(times_s) else times_s
    rolling = [wire[(times_s > t - 1.0) & (times_s <= t)].sum() * 8 for t in grid]
    axes[2].plot(grid, rolling, label="sent in the last second")
    if budget_bps:
        axes[2].axhline(budget_bps, color="r", ls="--", label="budget")
    axes[2].set_ylabel("bit/s")
    axes[2].set_xlabel("time (s)")
    axes[2].legend(loc="lower right")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(f"{len(times_s)} frames sent; budget {budget_bps:g} bit/s" if budget_bps
                 else f"{len(times_s)} frames sent")
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
