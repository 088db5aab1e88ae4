"""Architecture presets: the paper's Table 1 and the rate-oriented product default.

A preset name plus its config dict (stored in the weights' metadata) rebuilds the exact
network (``architectures.py``), so a weights file is validated by building its preset and
comparing every shape. Plain Python: the onnxruntime backend reads configs without torch.
"""

from __future__ import annotations

from typing import Any

FRAME_SIZE = 64
#: Pixels of one frame (bits per pixel = 8 * bytes / PIXELS).
PIXELS = FRAME_SIZE * FRAME_SIZE
DEFAULT_PRESET = "compact"
#: Bounds a weights file's config before anything is allocated for it.
MAX_CHANNELS = 1024

PRESET_DEFAULTS: dict[str, dict[str, Any]] = {
    "compact": {"channels": 96, "latent_channels": 64, "kernel": 5, "noise_channels": 0},
    # compact's transforms with a twice as wide latent (4x4x128), the context entropy model
    # (``slices`` channel slices, each in a checkerboard of anchors first if
    # ``checkerboard``) and ``rate_levels`` learned gain levels (0: one fixed rate). See
    # context_coding.py and context_model.py. The bundled model.
    "compact2": {"channels": 96, "latent_channels": 128, "kernel": 5, "noise_channels": 0,
                 "slices": 4, "checkerboard": 1, "context_hidden": 96, "rate_levels": 8},
    "paper": {"latent_channels": 512, "noise_channels": 100},
}
#: Settings added after weights were shipped, with the value that builds the network as it
#: was. A config holds them only when they differ, so older weights keep their config (and
#: their model id, a hash of it). ``synthesis_blocks``: residual blocks after each of the
#: synthesis' 8x8 and 16x16 stages (architectures.py).
OPTIONAL_SETTINGS: dict[str, dict[str, int]] = {"compact2": {"synthesis_blocks": 0}}


def preset_config(preset: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The full config of ``preset`` with ``overrides`` applied; unknown names raise."""
    if preset not in PRESET_DEFAULTS:
        raise ValueError(f"unknown preset {preset!r}; known: {sorted(PRESET_DEFAULTS)}")
    config = dict(PRESET_DEFAULTS[preset])
    optional = OPTIONAL_SETTINGS.get(preset, {})
    for key, value in (overrides or {}).items():
        if key not in config and key not in optional:
            raise ValueError(f"preset {preset!r} has no setting {key!r}; it has "
                             f"{sorted([*config, *optional])}")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"preset setting {key}={value!r} must be a non-negative integer")
        if optional.get(key, -1) == value:
            config.pop(key, None)  # the default: stored configs leave it out
            continue
        config[key] = value
    if preset == "paper" and config["latent_channels"] != 512:
        raise ValueError("the paper preset's latent is fixed at 4x4x512")
    for key in ("channels", "latent_channels"):
        if key in config and not 1 <= config[key] <= MAX_CHANNELS:
            raise ValueError(f"{key}={config[key]} is out of range 1..{MAX_CHANNELS}")
    if not 0 <= config["noise_channels"] <= MAX_CHANNELS:
        raise ValueError(f"noise_channels={config['noise_channels']} is out of range "
                         f"0..{MAX_CHANNELS}")
    if "slices" in config:
        if not 1 <= config["slices"] <= config["latent_channels"] or \
                config["latent_channels"] % config["slices"]:
            raise ValueError(f"slices={config['slices']} must divide latent_channels="
                             f"{config['latent_channels']}")
        if config["checkerboard"] not in (0, 1):
            raise ValueError(f"checkerboard={config['checkerboard']} must be 0 or 1")
        if not 1 <= config["context_hidden"] <= MAX_CHANNELS:
            raise ValueError(f"context_hidden={config['context_hidden']} is out of range "
                             f"1..{MAX_CHANNELS}")
        if config["rate_levels"] == 1 or config["rate_levels"] > 64:
            raise ValueError(f"rate_levels={config['rate_levels']} must be 0 (fixed rate) or "
                             "2..64")
    if config.get("synthesis_blocks", 0) > 8:
        raise ValueError(f"synthesis_blocks={config['synthesis_blocks']} is out of range 0..8")
    if "kernel" in config and config["kernel"] not in (3, 5, 7, 9):
        raise ValueError(f"kernel={config['kernel']} must be 3, 5, 7 or 9 (odd, so the "
                         "latent stays 4x4)")
    return config


def uses_context(config: dict[str, Any]) -> bool:
    """Whether a preset config codes with the context entropy model (else the factorized)."""
    return bool(config.get("slices"))


def latent_shape(preset: str, config: dict[str, Any]) -> tuple[int, int, int]:
    """(C, H, W) of the latent for a 64x64 frame; every preset has stride 16."""
    side = FRAME_SIZE // 16
    return (config["latent_channels"], side, side)
