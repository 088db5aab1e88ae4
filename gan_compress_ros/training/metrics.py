"""Quality and rate measurements shared by training, evaluation and tests."""

from __future__ import annotations

import numpy as np


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB between two uint8 image batches (over all pixels)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def mean_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Mean of per-frame PSNR over a batch (the usual way codecs are compared)."""
    return float(np.mean([psnr(x, y) for x, y in zip(a, b, strict=True)]))
