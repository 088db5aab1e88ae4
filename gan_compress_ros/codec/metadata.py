"""The JSON metadata of a weights file, read without torch (names, rates, model id)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors import SafetensorError, safe_open

from .errors import WeightsError

METADATA_KEY = "gan_compress_ros"
FILE_FORMAT = "gan_compress_ros.weights"
WEIGHTS_VERSION = 1


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a weights file, without loading or validating tensors."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="numpy") as f:
            raw = (f.metadata() or {}).get(METADATA_KEY)
    except FileNotFoundError:
        raise WeightsError(f"weights file {path}: not found") from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"weights file {path}: not a readable safetensors file ({exc})") \
            from None
    if raw is None:
        raise WeightsError(f"weights file {path}: no {METADATA_KEY!r} metadata; not written "
                           "by gan-compress-train")
    try:
        metadata = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise WeightsError(f"weights file {path}: metadata is not valid JSON "
                           f"({type(exc).__name__})") from None
    if not isinstance(metadata, dict):
        raise WeightsError(f"weights file {path}: metadata is not a JSON object")
    return metadata
