"""Quality measurements shared by training, evaluation and tests (uint8 RGB batches).

PSNR is NumPy; MS-SSIM imports torch when called, so tools that report PSNR run on an
onnxruntime-only install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB between two uint8 image batches (over all pixels)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def psnr_per_frame(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """PSNR of each frame pair (identical frames are capped at 100 dB)."""
    diff = a.astype(np.float64) - b.astype(np.float64)
    mse = np.maximum(np.mean(diff.reshape(len(a), -1) ** 2, axis=1), 255.0 ** 2 * 1e-10)
    return 10.0 * np.log10(255.0 ** 2 / mse)


def mean_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Mean of per-frame PSNR over a batch (the usual way codecs are compared)."""
    return float(np.mean(psnr_per_frame(a, b)))


def _tensor(x: np.ndarray) -> torch.Tensor:
    import torch

    return torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).float() / 255.0


def msssim_per_frame(a: np.ndarray, b: np.ndarray, chunk: int = 256) -> np.ndarray:
    """MS-SSIM of each frame pair: ``pytorch_msssim`` with a 3x3 window at five scales.

    The reported figure comes from the library itself; the loss and the effort search use
    ``codec.nn.objective.msssim``, a faster form that the tests hold to the same numbers.
    """
    import torch
    from pytorch_msssim import ms_ssim

    from ..codec.nn.objective import MSSSIM_WINDOW

    out: list[float] = []
    with torch.no_grad():
        for i in range(0, len(a), chunk):
            ta, tb = _tensor(a[i:i + chunk]), _tensor(b[i:i + chunk])
            out.extend(ms_ssim(ta, tb, data_range=1.0, win_size=MSSSIM_WINDOW,
                               size_average=False).tolist())
    return np.array(out)


def msssim_np(a: np.ndarray, b: np.ndarray) -> float:
    """Mean MS-SSIM over a batch of uint8 frames."""
    return float(np.mean(msssim_per_frame(a, b))) if len(a) else float("nan")
