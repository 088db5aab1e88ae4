"""Architecture presets: the paper's Table 1 and the rate-oriented product default.

A preset name plus its config dict (stored in the weights' metadata) rebuilds the exact
network, so a weights file is validated by building its preset and comparing every shape.

``paper`` reads Table 1 as in PAPER_NOTES.md: the left column's convolution trunk is the
encoder (64x64x3 -> 4x4x512 = 8192 latent values), the right column is the decoder, with
``noise_channels`` (the paper's "noise level") concatenated to the latent at its input.
Downsampling uses the max pooling the text mentions; the output has 3 (RGB) channels where the
table says 1. ``compact`` is a stride-16 GDN transform with a few dozen latent channels.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from .gdn import GDN

FRAME_SIZE = 64
#: Pixels of one frame (bits per pixel = 8 * bytes / PIXELS).
PIXELS = FRAME_SIZE * FRAME_SIZE
DEFAULT_PRESET = "compact"
#: Bounds a weights file's config before anything is allocated for it.
MAX_CHANNELS = 1024

PRESET_DEFAULTS: dict[str, dict[str, Any]] = {
    "compact": {"channels": 96, "latent_channels": 64, "kernel": 5, "noise_channels": 0},
    "paper": {"latent_channels": 512, "noise_channels": 100},
}


def preset_config(preset: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The full config of ``preset`` with ``overrides`` applied; unknown names raise."""
    if preset not in PRESET_DEFAULTS:
        raise ValueError(f"unknown preset {preset!r}; known: {sorted(PRESET_DEFAULTS)}")
    config = dict(PRESET_DEFAULTS[preset])
    for key, value in (overrides or {}).items():
        if key not in config:
            raise ValueError(f"preset {preset!r} has no setting {key!r}; it has {sorted(config)}")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"preset setting {key}={value!r} must be a non-negative integer")
        config[key] = value
    if preset == "paper" and config["latent_channels"] != 512:
        raise ValueError("the paper preset's latent is fixed at 4x4x512")
    for key in ("channels", "latent_channels"):
        if key in config and not 1 <= config[key] <= MAX_CHANNELS:
            raise ValueError(f"{key}={config[key]} is out of range 1..{MAX_CHANNELS}")
    if not 0 <= config["noise_channels"] <= MAX_CHANNELS:
        raise ValueError(f"noise_channels={config['noise_channels']} is out of range "
                         f"0..{MAX_CHANNELS}")
    if "kernel" in config and config["kernel"] not in (3, 5, 7, 9):
        raise ValueError(f"kernel={config['kernel']} must be 3, 5, 7 or 9 (odd, so the "
                         "latent stays 4x4)")
    return config


def latent_shape(preset: str, config: dict[str, Any]) -> tuple[int, int, int]:
    """(C, H, W) of the latent for a 64x64 frame; every preset has stride 16."""
    side = FRAME_SIZE // 16
    return (config["latent_channels"], side, side)


def build_transforms(preset: str, config: dict[str, Any]) -> tuple[nn.Module, nn.Module]:
    """Analysis (encoder) and synthesis (decoder) transforms of ``preset``."""
    if preset == "compact":
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
    decoder = nn.Sequential(up(m + config["noise_channels"], n), GDN(n, inverse=True),
                            up(n, n), GDN(n, inverse=True), up(n, n), GDN(n, inverse=True),
                            up(n, 3))
    return encoder, decoder


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
