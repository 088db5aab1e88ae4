"""Loss terms: rate, distortion (MSE, MS-SSIM) and the non-saturating GAN losses.

Generator: ``distortion + lmbda * rate + beta * adversarial``, with rate in bits per pixel,
MSE on the 0-255 scale and ``msssim_weight * (1 - MS-SSIM)`` on the same scale if enabled.
Discriminator: ``BCE(D(x), 1) + BCE(D(x_hat), 0)`` on inputs with instance noise of standard
deviation N_sp (the paper's stabilising noise, ``instance_noise`` in the config).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..codec.nn import objective
from ..codec.presets import PIXELS


def msssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean MS-SSIM of image batches in [0, 1] (``objective.msssim``)."""
    return objective.msssim(x, y).mean()


def msssim_term(x_hat: torch.Tensor, x: torch.Tensor, weight: float) -> torch.Tensor:
    """``weight * (1 - MS-SSIM)`` of a reconstruction, clamped to the pixel range first.

    A fixed-rate model's term; variable-rate models weigh it per sample (``objective``).
    """
    return weight * (1 - msssim(x_hat.float().clamp(0, 1), x))


def rate_bpp(likelihoods: torch.Tensor, batch: int) -> torch.Tensor:
    """Bits per pixel implied by the prior's likelihoods of the noisy latent."""
    return -torch.log2(likelihoods).sum() / (batch * PIXELS)


def mse_255(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error on the 0-255 scale."""
    return torch.mean((x_hat - x) ** 2) * 255.0 ** 2


def generator_adversarial(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: BCE(D(G(x)), 1)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """BCE(D(x), 1) + BCE(D(G(x)), 0)."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def add_instance_noise(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``x`` plus Gaussian noise of standard deviation ``sigma`` (N_sp), none if 0."""
    return x + sigma * torch.randn_like(x) if sigma > 0 else x
