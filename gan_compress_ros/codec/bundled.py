"""Where the bundled model (and its ONNX export) lives, and what a ``weights`` value names.

One variable-rate model is bundled; ``low``, ``mid`` and ``high`` name rate points of it
(a quality it is used at). "Preset" means an architecture preset (``presets.py``) only.
``WeightsRef.parse`` reads a ``weights`` value once; the codec, its stream coders, the
nodes and the tools share the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import WeightsError
from .export_dir import MANIFEST, is_export

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "weights"
#: The bundled variable-rate model (``weights/<MODEL>.safetensors``, ``weights/onnx/<MODEL>``).
MODEL = "codec"
#: Named rate points of the bundled model, lowest rate first (``weights:=low`` etc.): the
#: quality each stands for. Each keeps the bytes per frame it spent with the models before
#: (targets 88, 189 and 306 B on the general validation set, a543's with the 4-byte header;
#: 3dcf spends 87.5, 188.2 and 306.9), so a link budget set for a rate point
#: still holds: ``python dev/fit_rate_points.py`` finds them for new weights.
RATE_POINTS = {"low": 0.1490, "mid": 0.3490, "high": 0.4824}  # quality bytes 38, 89, 123
#: The rate point ``Codec.load()`` uses when none is named.
DEFAULT_NAME = "mid"
#: Names kept for launch files written before, by the rate point each now stands for:
#: ``commercial`` was a second model learned only from commercial-use data until the
#: default itself was (``weights/codec.md``); it spent what ``mid`` spends.
ALIASES = {"commercial": "mid"}
SUFFIX = ".safetensors"
#: The export of the bundled model for the onnxruntime backend: ``onnx/<MODEL>/``.
ONNX_DIR = BUNDLED_DIR / "onnx"
#: Temporal tables beside a weights file (``codec.safetensors`` ->
#: ``codec.temporal.safetensors``); an export directory holds ``temporal.safetensors``.
TABLES_SUFFIX = ".temporal.safetensors"
EXPORT_TABLES = "temporal.safetensors"


def user_path(weights: str | Path) -> Path:
    """A path as the user wrote it, with ``~`` expanded where it names a home folder."""
    try:
        return Path(str(weights)).expanduser()
    except RuntimeError:  # "~nouser/..." names no home folder
        return Path(str(weights))


def bundled_names() -> list[str]:
    """Names of the bundled rate points, lowest rate first (none if not installed)."""
    return list(RATE_POINTS) if (BUNDLED_DIR / f"{MODEL}{SUFFIX}").is_file() else []


@dataclass(frozen=True)
class WeightsRef:
    """A ``weights`` value parsed once: a bundled rate point, an export directory, a file.

    Parsing never fails; ``safetensors`` and ``export`` raise ``WeightsError`` naming what
    is missing when the backend that needs them asks.
    """

    text: str  # as given ('' for the bundled default)
    kind: str  # "bundled", "export" or "file"
    path: Path  # the user's path, or the bundled model's file
    name: str | None = None  # the rate point's or other bundled model's name
    quality: float | None = None  # the quality the name stands for

    @classmethod
    def parse(cls, weights: str | Path | WeightsRef | None) -> WeightsRef:
        """What ``weights`` names: None or '' the default rate point, a name, or a path."""
        if isinstance(weights, WeightsRef):
            return weights
        text = "" if weights is None else str(weights)
        if text == "" or text in RATE_POINTS or text in ALIASES:
            name = ALIASES.get(text, text) or DEFAULT_NAME
            return cls(text, "bundled", BUNDLED_DIR / f"{MODEL}{SUFFIX}", name,
                       RATE_POINTS[name])
        path = user_path(text)
        return cls(text, "export" if is_export(path) else "file", path)

    @property
    def bundled(self) -> bool:
        """Whether this names a rate point of the bundled model."""
        return self.kind == "bundled"

    def safetensors(self) -> Path:
        """The weights file the torch backend loads (an export's path as it is)."""
        if self.bundled:
            if not bundled_names():
                raise WeightsError(f"no bundled weights are installed in {BUNDLED_DIR}; train "
                                   "a codec with gan-compress-train and pass its .safetensors "
                                   "path")
            return self.path
        if not self.path.suffix and "/" not in self.text and not self.path.exists():
            raise WeightsError(f"weights {self.text!r}: neither a bundled name "
                               f"({bundled_names() or 'none'}) nor an "
                               "existing file")
        return self.path

    def export(self) -> Path:
        """The export directory the onnxruntime backend loads.

        A rate point maps to the bundled export; a directory (or its ``codec.json``) is
        taken as it is. A ``.safetensors`` file needs exporting first, which needs torch.
        """
        if self.bundled:
            directory = ONNX_DIR / self.safetensors().stem
            if not is_export(directory):
                raise WeightsError(f"no ONNX export of the bundled model is installed in "
                                   f"{ONNX_DIR}; write one with gan-compress-export --bundled")
            return directory
        if self.kind == "export":
            return self.path
        if self.path.is_file():
            raise WeightsError(f"weights {self.path}: the onnxruntime backend loads an export "
                               f"directory written by gan-compress-export, not a "
                               f"{self.path.suffix or 'plain'} file; run gan-compress-export "
                               f"{self.path} --out DIR and pass DIR")
        raise WeightsError(f"weights {self.path}: no ONNX export there (a directory with "
                           f"{MANIFEST})")

    def has_bundled_export(self) -> bool:
        """Whether this is a rate point and the bundled export is installed."""
        return self.bundled and is_export(ONNX_DIR / MODEL)

    @staticmethod
    def tables_beside(path: Path | None) -> list[Path]:
        """Where temporal tables lie for weights loaded from ``path``, then the bundled ones."""
        found = []
        if path is not None:
            path = Path(path)
            found.append(path / EXPORT_TABLES if path.is_dir() else
                         path.with_name(path.name.split(".")[0] + TABLES_SUFFIX))
        found.append(BUNDLED_DIR / (MODEL + TABLES_SUFFIX))
        return found


def resolve(weights: str | Path | WeightsRef | None) -> Path:
    """A weights file from ``None`` (bundled default), a bundled name, or a file path."""
    return WeightsRef.parse(weights).safetensors()


def resolve_export(weights: str | Path | WeightsRef | None) -> Path:
    """The export directory the onnxruntime backend loads for ``weights``."""
    return WeightsRef.parse(weights).export()
