"""Where the bundled rate points live and how a name or path resolves to a file."""

from __future__ import annotations

from pathlib import Path

from .errors import WeightsError
from .weights import read_metadata

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "weights"
#: The bundled rate point ``Codec.load()`` uses when none is named.
DEFAULT_NAME = "mid"
SUFFIX = ".safetensors"


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
    try:
        path = Path(text).expanduser()
    except RuntimeError:  # "~nouser/..." names no home folder
        path = Path(text)
    if not path.suffix and "/" not in text and not path.exists():
        raise WeightsError(f"weights {text!r}: neither a bundled name ({names or 'none'}) "
                           "nor an existing file")
    return path
