"""Where the bundled rate points (and their ONNX exports) live, and how names resolve."""

from __future__ import annotations

from pathlib import Path

from .errors import WeightsError
from .metadata import read_metadata
from .onnx_bundle import MANIFEST, is_bundle

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "weights"
#: The bundled rate point ``Codec.load()`` uses when none is named.
DEFAULT_NAME = "mid"
SUFFIX = ".safetensors"


def user_path(weights: str | Path) -> Path:
    """A path as the user wrote it, with ``~`` expanded where it names a home folder."""
    try:
        return Path(str(weights)).expanduser()
    except RuntimeError:  # "~nouser/..." names no home folder
        return Path(str(weights))


def _rate_key(path: Path) -> tuple[float, str]:
    try:
        rate = read_metadata(path).get("evaluation", {}).get("bytes_per_frame")
    except WeightsError:
        rate = None
    return (float(rate) if isinstance(rate, (int, float)) else float("inf"), path.stem)


def bundled_names() -> list[str]:
    """Names of the bundled weights, lowest measured rate first."""
    files = sorted(BUNDLED_DIR.glob(f"*{SUFFIX}"))
    return [p.stem for p in sorted(files, key=_rate_key)]


def resolve(weights: str | Path | None) -> Path:
    """A weights path from ``None`` (bundled default), a bundled name, or a file path."""
    names = bundled_names()
    if weights is None or weights == "":
        if not names:
            raise WeightsError(f"no bundled weights are installed in {BUNDLED_DIR}; train a "
                               "codec with gan-compress-train and pass its .safetensors path")
        name = DEFAULT_NAME if DEFAULT_NAME in names else names[len(names) // 2]
        return BUNDLED_DIR / f"{name}{SUFFIX}"
    text = str(weights)
    if text in names:
        return BUNDLED_DIR / f"{text}{SUFFIX}"
    path = user_path(text)
    if not path.suffix and "/" not in text and not path.exists():
        raise WeightsError(f"weights {text!r}: neither a bundled name ({names or 'none'}) "
                           "nor an existing file")
    return path


#: Exports of the bundled rate points for the onnxruntime backend: ``onnx/<name>/``.
ONNX_DIR = BUNDLED_DIR / "onnx"


def resolve_export(weights: str | Path | None) -> Path:
    """The export directory the onnxruntime backend loads for ``weights``.

    A bundled name (or None) maps to its bundled export; a directory (or its ``codec.json``)
    is taken as it is. A ``.safetensors`` file needs exporting first, which needs torch.
    """
    names = bundled_names()
    if weights is None or weights == "" or str(weights) in names:
        name = resolve(weights).stem
        directory = ONNX_DIR / name
        if not is_bundle(directory):
            raise WeightsError(f"no ONNX export of the bundled {name!r} is installed in "
                               f"{ONNX_DIR}; write one with gan-compress-export {name} --out DIR "
                               "and pass DIR as the weights")
        return directory
    path = user_path(weights)
    if is_bundle(path):
        return path
    if path.is_file():
        raise WeightsError(f"weights {path}: the onnxruntime backend loads an export directory "
                           f"written by gan-compress-export, not a {path.suffix or 'plain'} "
                           f"file; run gan-compress-export {path} --out DIR and pass DIR")
    raise WeightsError(f"weights {path}: no ONNX export there (a directory with {MANIFEST})")
