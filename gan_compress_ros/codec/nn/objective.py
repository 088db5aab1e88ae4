"""The rate-distortion objective the codec is trained on.

Shared by the trainer, ``--finetune`` and the encoder's latent search (``effort.py``), so all
three weigh bytes against error the same way: per frame, ``MSE + w(lambda) * (1 - MS-SSIM) +
lambda * bpp`` on the 0-255 scale, where the MS-SSIM term is optional (``msssim_weight``) and
its weight either grows with lambda (mode ``batch``: the term added to the batch's mean
loss, how model 184a was trained) or is the same at every quality (mode ``rd``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..context_coding import QUALITY_LEVELS
from ..presets import PIXELS

#: Lambda at quality 1 and at quality 0 of weights whose metadata does not say (the first
#: variable-rate model's settings).
DEFAULT_LMBDA = (12.0, 3000.0)
#: How the MS-SSIM term's weight depends on a sample's lambda. ``batch``: ``weight * (1 -
#: MS-SSIM)`` added to the batch's mean loss, where each sample's rate-distortion term is
#: divided by ``lambda_norm`` -- against squared error the term then weighs more the lower
#: the quality. ``rd``: the term is part of each sample's distortion, ``weight`` at every
#: quality.
MSSSIM_MODES = ("batch", "rd")
#: 64x64 frames are too small for the standard 11x11 window at five scales; 3x3 fits.
MSSSIM_WINDOW = 3


def lmbda_of(qbytes: torch.Tensor, lmbda_q1: float, lmbda_q0: float) -> torch.Tensor:
    """Lambda of each quality byte: log-linear from ``lmbda_q0`` (byte 0) to ``lmbda_q1``."""
    t = qbytes.float() / (QUALITY_LEVELS - 1)
    return torch.exp(math.log(lmbda_q0) * (1 - t) + math.log(lmbda_q1) * t)


def lambda_norm(lam: torch.Tensor, lmbda_q1: float, lmbda_q0: float) -> torch.Tensor:
    """What the trainer divides each sample's loss by so low and high qualities pull alike.

    The square root of its lambda over the geometric mean of the range's ends.
    """
    return torch.sqrt(lam / math.sqrt(lmbda_q1 * lmbda_q0))


#: MS-SSIM's Gaussian window (standard deviation 1.5) and its five scales' exponents.
MSSSIM_SIGMA = 1.5
MSSSIM_SCALE_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
_SSIM_C1, _SSIM_C2 = 0.01 ** 2, 0.03 ** 2


def msssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """MS-SSIM of each pair of image batches in [0, 1] (3x3 window, five scales), shape (N,).

    The same numbers as ``pytorch_msssim.ms_ssim(x, y, data_range=1, win_size=3,
    size_average=False)`` (the project's MS-SSIM library, which reports the figures in
    ``training.metrics``; the test checks), in half its time: the five local statistics of a
    scale go through one grouped separable convolution instead of five. The loss and every
    step of an effort search run it.
    """
    c = x.shape[1]
    coords = torch.arange(MSSSIM_WINDOW, dtype=x.dtype, device=x.device) - MSSSIM_WINDOW // 2
    g = torch.exp(-coords ** 2 / (2 * MSSSIM_SIGMA ** 2))
    g = g / g.sum()
    k_h = g.view(1, 1, -1, 1).repeat(5 * c, 1, 1, 1)
    k_w = g.view(1, 1, 1, -1).repeat(5 * c, 1, 1, 1)
    levels = []
    for level in range(len(MSSSIM_SCALE_WEIGHTS)):
        stats = torch.cat([x, y, x * x, y * y, x * y], 1)
        stats = F.conv2d(F.conv2d(stats, k_h, groups=5 * c), k_w, groups=5 * c)
        mu_x, mu_y, xx, yy, xy = stats.split(c, 1)
        mu_xy, mu_xx, mu_yy = mu_x * mu_y, mu_x * mu_x, mu_y * mu_y
        cs = (2 * (xy - mu_xy) + _SSIM_C2) / ((xx - mu_xx) + (yy - mu_yy) + _SSIM_C2)
        if level < len(MSSSIM_SCALE_WEIGHTS) - 1:
            levels.append(torch.relu(cs.flatten(2).mean(-1)))
            pad = [d % 2 for d in x.shape[2:]]
            x = F.avg_pool2d(x, 2, padding=pad)
            y = F.avg_pool2d(y, 2, padding=pad)
        else:
            ssim = (2 * mu_xy + _SSIM_C1) / (mu_xx + mu_yy + _SSIM_C1) * cs
            levels.append(torch.relu(ssim.flatten(2).mean(-1)))
    stacked = torch.stack(levels, 0)  # (level, batch, channel)
    exponents = stacked.new_tensor(MSSSIM_SCALE_WEIGHTS).view(-1, 1, 1)
    return torch.prod(stacked ** exponents, 0).mean(1)


@dataclass(frozen=True)
class Objective:
    """The per-frame objective of one model: its lambda range and MS-SSIM term."""

    lmbda_q1: float
    lmbda_q0: float
    msssim_weight: float = 0.0
    msssim_mode: str = "batch"

    def __post_init__(self) -> None:
        if self.msssim_mode not in MSSSIM_MODES:
            raise ValueError(f"msssim_mode {self.msssim_mode!r}: one of {', '.join(MSSSIM_MODES)}")

    @classmethod
    def of_metadata(cls, metadata: dict) -> Objective:
        """The objective weights were trained with (defaults where their metadata is older)."""
        training = metadata.get("training") or {}
        return cls(float(training.get("lmbda") or DEFAULT_LMBDA[0]),
                   float(training.get("lmbda_q0") or DEFAULT_LMBDA[1]),
                   float(training.get("msssim_weight") or 0.0),
                   str(training.get("msssim_mode") or "batch"))

    def lmbda(self, qbytes: torch.Tensor) -> torch.Tensor:
        """Lambda of each quality byte."""
        return lmbda_of(qbytes, self.lmbda_q1, self.lmbda_q0)

    def norm(self, lam: torch.Tensor) -> torch.Tensor:
        """Each sample's loss divisor in training (``lambda_norm``)."""
        return lambda_norm(lam, self.lmbda_q1, self.lmbda_q0)

    def msssim_weights(self, lam: torch.Tensor) -> torch.Tensor:
        """Weight of ``1 - MS-SSIM`` in each frame's (undivided) objective."""
        if self.msssim_mode == "batch":
            return self.msssim_weight * self.norm(lam)
        return torch.full_like(lam, self.msssim_weight)

    def distortion(self, x_hat: torch.Tensor, x: torch.Tensor,
                   lam: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-frame (squared error on the 0-255 scale, the objective's whole distortion).

        ``x_hat`` is clamped to the pixel range for MS-SSIM.
        """
        mse = ((x_hat.float() - x) ** 2).flatten(1).mean(1) * 255.0 ** 2
        if not self.msssim_weight:
            return mse, mse
        ssim = msssim(x_hat.float().clamp(0, 1), x)
        return mse, mse + self.msssim_weights(lam) * (1 - ssim)

    def loss(self, x_hat: torch.Tensor, x: torch.Tensor, bits: torch.Tensor,
             lam: torch.Tensor) -> torch.Tensor:
        """Per-frame objective: distortion + lambda * bits per pixel (``bits`` per frame)."""
        return self.distortion(x_hat, x, lam)[1] + lam * bits / PIXELS
