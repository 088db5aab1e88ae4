"""The networks of each preset as torch modules (the config side lives in ``presets.py``).

``paper`` reads Table 1 as docs/paper.md explains: the left column's convolution trunk is the
encoder (64x64x3 -> 4x4x512 = 8192 latent values), the right column is the decoder, with
``noise_channels`` (the paper's "noise level") concatenated to the latent at its input.
Downsampling uses the max pooling the text mentions; the output has 3 (RGB) channels where the
table says 1. ``compact`` is a stride-16 GDN transform with a few dozen latent channels.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from .gdn import GDN


def build_transforms(preset: str, config: dict[str, Any]) -> tuple[nn.Module, nn.Module]:
    """Analysis (encoder) and synthesis (decoder) transforms of ``preset``."""
    if preset in ("compact", "compact2"):
        return _compact(config)
    if preset == "paper":
        return _paper(config)
    raise ValueError(f"unknown preset {preset!r}")


def _compact(config: dict[str, Any]) -> tuple[nn.Module, nn.Module]:
    n, m, k = config["channels"], config["latent_channels"], config["kernel"]
    pad = k // 2

    def down(cin: int, cout: int) -> nn.Conv2d:
        return nn.Conv2d(cin, cout, k, stride=2, padding=pad)

    def up(cin: int, cout: int) -> nn.ConvTranspose2d:
        return nn.ConvTranspose2d(cin, cout, k, stride=2, padding=pad, output_padding=1)

    encoder = nn.Sequential(down(3, n), GDN(n), down(n, n), GDN(n), down(n, n), GDN(n),
                            down(n, m))
    layers = [up(m + config["noise_channels"], n), GDN(n, inverse=True), up(n, n),
              GDN(n, inverse=True), up(n, n), GDN(n, inverse=True), up(n, 3)]
    named: list[tuple[str, nn.Module]] = []
    for index, layer in enumerate(layers):
        named.append((str(index), layer))
        if index in SYNTHESIS_BLOCK_STAGES:
            named += [(f"res{index}_{b}", ResidualBlock(n))
                      for b in range(config.get("synthesis_blocks", 0))]
    return encoder, nn.Sequential(OrderedDict(named))


#: Synthesis layers (after the 8x8 and the 16x16 inverse GDN) followed by
#: ``synthesis_blocks`` residual blocks each: the cheap resolutions (a 3x3 block costs about
#: 5 M multiply-adds at 8x8 and 21 M at 16x16, against 344 M for the whole synthesis).
SYNTHESIS_BLOCK_STAGES = (1, 3)


class ResidualBlock(nn.Module):
    """x + conv(leaky_relu(conv(x))), 3x3; the second convolution starts at zero.

    Zero at the start makes a block added to trained weights the identity, so a widened
    synthesis begins as the model it came from; the first convolution is random so that the
    gradient reaches the second. Layer names keep the original ones ("decoder.0", ...), so
    weights without blocks load unchanged.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)  # type: ignore[arg-type]  # bias=True: a tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's input plus its residual."""
        return x + self.conv2(nn.functional.leaky_relu(self.conv1(x), 0.2))


def _paper(config: dict[str, Any]) -> tuple[nn.Module, nn.Module]:
    relu = nn.ReLU

    def conv(cin: int, cout: int) -> nn.Conv2d:
        return nn.Conv2d(cin, cout, 3, padding=1)

    pool = nn.MaxPool2d
    # Left column of Table 1 up to Flatten(8192): 32x32x32, 16x16x64, 16x16x64, 8x8x128,
    # 8x8x256, 4x4x512 (max pooling halves the size; BN where the table has it).
    encoder = nn.Sequential(
        conv(3, 32), pool(2), nn.BatchNorm2d(32), relu(),
        conv(32, 64), pool(2), nn.BatchNorm2d(64), relu(),
        conv(64, 64), relu(),
        conv(64, 128), pool(2), relu(),
        conv(128, 256), nn.BatchNorm2d(256), relu(),
        conv(256, 512), pool(2),
    )

    def upconv(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv(cin, cout))

    # Right column: 4x4x512, 8x8x512, BN, 16x16x256, BN, 32x32x128, 32x32x128, 64x64x64,
    # 64x64x64, BN, output image (3 channels for RGB).
    decoder = nn.Sequential(
        conv(512 + config["noise_channels"], 512), relu(),
        upconv(512, 512), nn.BatchNorm2d(512), relu(),
        upconv(512, 256), nn.BatchNorm2d(256), relu(),
        upconv(256, 128), relu(),
        conv(128, 128), relu(),
        upconv(128, 64), relu(),
        conv(64, 64), nn.BatchNorm2d(64), relu(),
        nn.Conv2d(64, 3, 1),
    )
    return encoder, decoder
