"""An ONNX export on disk: encoder and decoder models plus ``codec.json`` beside them.

``codec.json`` holds what the ONNX graphs do not: the model id every payload is bound to, the
integer entropy tables (a context model's integer networks, tables and gains lie beside it in
``entropy.safetensors``), the latent shape and the source weights' metadata, and the SHA-256
of each file. Reading it needs neither torch nor onnx, and it is validated like a weights
file: files present and unaltered, tables valid, and a digest over the manifest itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import context_coding
from .choices import PRECISIONS
from .context_coding import ContextModel
from .errors import WeightsError
from .tables import CdfTables

MANIFEST = "codec.json"
#: A context model's integer entropy model, beside the manifest.
ENTROPY_FILE = "entropy.safetensors"
EXPORT_FORMAT = "gan_compress_ros.onnx"
EXPORT_VERSION = 1
ROLES = ("encoder", "decoder")
#: ONNX opset of exported models: the lowest the torch.export-based exporter writes.
#: onnxruntime 1.16.3 and 1.32.0 read them (tested); every op used is unchanged since 13.
MIN_OPSET = DEFAULT_OPSET = 18


def model_filename(role: str, precision: str) -> str:
    """``encoder.onnx``, ``decoder.fp16.onnx``, ..."""
    return f"{role}.onnx" if precision == "fp32" else f"{role}.{precision}.onnx"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


#: Weights files and exports are read by other users (a robot service account): 0644, and
#: 0755 for an export directory. safetensors writes 0600 whatever the umask.
FILE_MODE, DIR_MODE = 0o644, 0o755


def share(path: Path) -> Path:
    """``path`` (a weights file, or an export directory and its files) readable by all."""
    path = Path(path)
    if path.is_dir():
        path.chmod(DIR_MODE)
        for child in path.iterdir():
            share(child)
    else:
        path.chmod(FILE_MODE)
    return path


def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest without its ``digest`` field, in canonical JSON."""
    body = {k: v for k, v in manifest.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def write_manifest(directory: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write ``codec.json`` with its digest; returns what was written."""
    manifest = dict(manifest, digest=manifest_digest(manifest))
    (Path(directory) / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True)
                                            + "\n")
    return manifest


def is_export(path: str | Path) -> bool:
    """Whether ``path`` is an export directory or its ``codec.json``."""
    path = Path(path)
    return (path / MANIFEST).is_file() or (path.name == MANIFEST and path.is_file())


@dataclass(frozen=True)
class ExportDir:
    """A validated export: where its models are, its tables and its metadata."""

    path: Path
    manifest: dict[str, Any]
    tables: CdfTables | ContextModel

    @property
    def model_id(self) -> str:
        """Short id every payload is bound to (the source weights' id)."""
        return self.manifest["model_id"]

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        """(C, h, w) of the latent."""
        c, h, w = self.manifest["latent_shape"]
        return (c, h, w)

    @property
    def precisions(self) -> list[str]:
        """Precisions this export has both models for."""
        models = self.manifest["models"]
        return [p for p in PRECISIONS if all(p in models[r] for r in ROLES)]

    def model_path(self, role: str, precision: str) -> Path:
        """The model file of ``role`` (encoder, decoder) at ``precision``."""
        return self.path / self.manifest["models"][role][precision]["file"]


def read_export(path: str | Path) -> ExportDir:
    """Read and validate an export directory; any problem raises WeightsError naming it."""
    path = Path(path)
    directory = path.parent if path.name == MANIFEST else path
    where = f"ONNX export {directory}"
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError:
        raise WeightsError(f"{where}: no {MANIFEST}; write one with gan-compress-export") \
            from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise WeightsError(f"{where}: {MANIFEST} is not readable JSON "
                           f"({type(exc).__name__})") from None
    try:
        tables = _validate(directory, manifest)
    except KeyError as exc:
        raise WeightsError(f"{where}: {MANIFEST} lacks {exc}") from None
    except (TypeError, ValueError, IndexError, OverflowError, AttributeError) as exc:
        raise WeightsError(f"{where}: {exc}") from None
    return ExportDir(directory, manifest, tables)


def _context_model(directory: Path, entry: Any, shape: list[int]) -> ContextModel:
    """The context model an export's manifest names, checked against its SHA-256."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    if not isinstance(entry, dict) or entry.get("file") != ENTROPY_FILE:
        raise ValueError(f"context must name {ENTROPY_FILE}")
    file = directory / ENTROPY_FILE
    if not file.is_file():
        raise ValueError(f"{ENTROPY_FILE} is missing")
    if file_sha256(file) != entry.get("sha256"):
        raise ValueError(f"{ENTROPY_FILE} does not match its SHA-256 in {MANIFEST}: the file "
                         "was altered or corrupted")
    slices, checkerboard = entry["slices"], entry["checkerboard"]
    if not isinstance(slices, int) or not isinstance(checkerboard, int):
        raise ValueError("context slices and checkerboard must be integers")
    try:
        arrays = load_file(str(file))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{ENTROPY_FILE} is not readable ({exc})") from None
    c, h, w = shape
    return context_coding.from_arrays(arrays, (c, h, w), slices, bool(checkerboard))


def _validate(directory: Path, manifest: Any) -> CdfTables | ContextModel:
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise ValueError(f"{MANIFEST} is not a {EXPORT_FORMAT!r} manifest")
    if manifest.get("bundle_version") != EXPORT_VERSION:
        raise ValueError(f"export version {manifest.get('bundle_version')!r} is not supported "
                         f"(this package reads version {EXPORT_VERSION})")
    if manifest.get("digest") != manifest_digest(manifest):
        raise ValueError(f"{MANIFEST} does not match its digest: the file was altered or "
                         "corrupted")
    model_id = manifest["model_id"]
    if not isinstance(model_id, str) or not re.fullmatch(r"[0-9a-f]{4}", model_id):
        raise ValueError(f"model id {model_id!r} is not 4 hex digits")
    source = manifest["source"]
    if not isinstance(source, dict) or not isinstance(source.get("metadata", {}), dict):
        raise ValueError("source must be an object with a metadata object")
    shape = manifest["latent_shape"]
    if not (isinstance(shape, list) and len(shape) == 3
            and all(isinstance(v, int) and v > 0 for v in shape)):
        raise ValueError(f"latent_shape {shape!r} is not three positive integers")
    tables: CdfTables | ContextModel
    if "context" in manifest:
        tables = _context_model(directory, manifest["context"], shape)
    else:
        raw = manifest["tables"]
        tables = CdfTables(np.asarray(raw["offsets"], np.int32),
                           np.asarray(raw["lengths"], np.int32),
                           np.asarray(raw["pmf"], np.int32))
        if tables.pmf.ndim != 2:
            raise ValueError("entropy table pmf must be 2-D")
        tables.validate(shape[0])
    models = manifest["models"]
    for role in ROLES:
        entries = models[role] if isinstance(models, dict) else None
        if not isinstance(entries, dict) or not all(isinstance(e, dict)
                                                    for e in entries.values()):
            raise ValueError(f"models.{role} must map precisions to file entries")
        if "fp32" not in entries:
            raise ValueError(f"no fp32 {role} model listed")
        for precision, entry in entries.items():
            if precision not in PRECISIONS:
                raise ValueError(f"{role}: unknown precision {precision!r}")
            name = entry["file"]
            if Path(name).name != name:
                raise ValueError(f"{role} file {name!r} must lie beside {MANIFEST}")
            file = directory / name
            if not file.is_file():
                raise ValueError(f"{role} model {name} is missing")
            if file_sha256(file) != entry["sha256"]:
                raise ValueError(f"{role} model {name} does not match its SHA-256 in "
                                 f"{MANIFEST}: the file was altered or corrupted")
    return tables
