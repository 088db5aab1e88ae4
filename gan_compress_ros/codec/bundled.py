"""Where the bundled model (and its ONNX export) lives, and how names resolve.

One variable-rate model is bundled; ``low``, ``mid`` and ``high`` name quality presets of it.
"""

from __future__ import annotations

from pathlib import Path

from .errors import WeightsError
from .export_dir import MANIFEST, is_export

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "weights"
#: The bundled variable-rate model (``weights/<MODEL>.safetensors``, ``weights/onnx/<MODEL>``).
MODEL = "codec"
#: Named quality presets of the bundled model, lowest rate first (``weights:=low`` etc.).
#: Chosen so each preset spends about the bytes per frame of the v1 rate point of its name
#: on the validation photos (docs/results.md).
QUALITY_PRESETS = {"low": 0.0941, "mid": 0.3765, "high": 0.6353}  # bytes 24, 96, 162
#: The preset ``Codec.load()`` uses when none is named.
DEFAULT_NAME = "mid"
SUFFIX = ".safetensors"


def user_path(weights: str | Path) -> Path:
    """A path as the user wrote it, with ``~`` expanded where it names a home folder."""
    try:
        return Path(str(weights)).expanduser()
    except RuntimeError:  # "~nouser/..." names no home folder
        return Path(str(weights))


def bundled_names() -> list[str]:
    """Names of the bundled quality presets, lowest rate first (none if not installed)."""
    return list(QUALITY_PRESETS) if (BUNDLED_DIR / f"{MODEL}{SUFFIX}").is_file() else []


def preset_quality(weights: str | Path | None) -> float | None:
    """The quality a bundled name (or None: the default) stands for; None for a path."""
    if weights is None or weights == "":
        return QUALITY_PRESETS[DEFAULT_NAME]
    return QUALITY_PRESETS.get(str(weights))


def resolve(weights: str | Path | None) -> Path:
    """A weights path from ``None`` (bundled default), a bundled name, or a file path."""
    names = bundled_names()
    if weights is None or weights == "" or str(weights) in QUALITY_PRESETS:
        if not names:
            raise WeightsError(f"no bundled weights are installed in {BUNDLED_DIR}; train a "
                               "codec with gan-compress-train and pass its .safetensors path")
        return BUNDLED_DIR / f"{MODEL}{SUFFIX}"
    text = str(weights)
    path = user_path(text)
    if not path.suffix and "/" not in text and not path.exists():
        raise WeightsError(f"weights {text!r}: neither a bundled name ({names or 'none'}) "
                           "nor an existing file")
    return path


#: The export of the bundled model for the onnxruntime backend: ``onnx/<MODEL>/``.
ONNX_DIR = BUNDLED_DIR / "onnx"


def resolve_export(weights: str | Path | None) -> Path:
    """The export directory the onnxruntime backend loads for ``weights``.

    A bundled name (or None) maps to its bundled export; a directory (or its ``codec.json``)
    is taken as it is. A ``.safetensors`` file needs exporting first, which needs torch.
    """
    if weights is None or weights == "" or str(weights) in QUALITY_PRESETS:
        name = resolve(weights).stem
        directory = ONNX_DIR / name
        if not is_export(directory):
            raise WeightsError(f"no ONNX export of the bundled model is installed in "
                               f"{ONNX_DIR}; write one with gan-compress-export --bundled")
        return directory
    path = user_path(weights)
    if is_export(path):
        return path
    if path.is_file():
        raise WeightsError(f"weights {path}: the onnxruntime backend loads an export directory "
                           f"written by gan-compress-export, not a {path.suffix or 'plain'} "
                           f"file; run gan-compress-export {path} --out DIR and pass DIR")
    raise WeightsError(f"weights {path}: no ONNX export there (a directory with {MANIFEST})")
