"""Discriminators for the adversarial term (training only; never shipped in weights).

``latent``: HiFiC-style (Mentzer et al. 2020): the image and the upsampled quantized latent
enter together, so the discriminator judges whether an image is plausible *for that latent*;
it outputs a grid of patch logits. ``paper``: Table 1's convolution trunk + Dense 1 (one logit
per image), the paper's discriminator as read in docs/paper.md.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm

from ..codec.nn.architectures import build_transforms
from ..codec.presets import preset_config


class LatentConditionedDiscriminator(nn.Module):
    """Patch discriminator on (image, quantized latent), with spectral normalisation."""

    def __init__(self, latent_channels: int, width: int = 64, cond_channels: int = 12) -> None:
        super().__init__()
        self.cond = nn.Sequential(nn.Conv2d(latent_channels, cond_channels, 1),
                                  nn.LeakyReLU(0.2), nn.Upsample(scale_factor=16, mode="nearest"))
        layers: list[nn.Module] = []
        cin = 3 + cond_channels
        for cout in (width, width * 2, width * 4):
            layers += [spectral_norm(nn.Conv2d(cin, cout, 4, stride=2, padding=1)),
                       nn.LeakyReLU(0.2)]
            cin = cout
        layers.append(spectral_norm(nn.Conv2d(cin, 1, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
        """Patch logits (N, 1, 8, 8) for images ``x`` in [0, 1] and their latents."""
        return self.net(torch.cat([x * 2 - 1, self.cond(y_hat)], dim=1))


class PaperDiscriminator(nn.Module):
    """Table 1's left column: the convolution trunk to 4x4x512, Flatten (8192), Dense 1."""

    def __init__(self) -> None:
        super().__init__()
        self.trunk, _ = build_transforms("paper", preset_config("paper"))
        self.dense = nn.Linear(8192, 1)

    def forward(self, x: torch.Tensor, y_hat: torch.Tensor | None = None) -> torch.Tensor:
        """One logit per image; the latent is ignored (the paper does not condition)."""
        return self.dense(torch.flatten(self.trunk(x * 2 - 1), 1))


def build_discriminator(kind: str, latent_channels: int) -> nn.Module:
    """``latent`` (default product) or ``paper``."""
    if kind == "latent":
        return LatentConditionedDiscriminator(latent_channels)
    if kind == "paper":
        return PaperDiscriminator()
    raise ValueError(f"unknown discriminator {kind!r}: use 'latent' or 'paper'")
