"""Weights files: safetensors tensors plus JSON metadata, validated on load.

Only safetensors is ever read (no pickle, so no code from a weights file runs). The metadata
names the preset and its config; loading rebuilds that network and insists every tensor
matches it by name, dtype and shape, that the entropy tables are valid distributions, and
that the model id recomputed from the contents equals the stored one (tamper check).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .. import context_coding
from ..context_coding import ContextModel
from ..errors import WeightsError
from ..export_dir import share
from ..metadata import FILE_FORMAT, METADATA_KEY, WEIGHTS_VERSION, read_metadata
from ..tables import CdfTables
from .model import CodecModel

#: Frozen tensors whose shape depends on training (not on the preset): shapes not checked.
TABLE_KEYS = ("entropy.offsets", "entropy.lengths", "entropy.pmf", "context.offsets",
              "context.lengths", "context.pmf")
#: What a frozen entropy model is: tables of the factorized prior, or the context model.
Frozen = CdfTables | ContextModel


@dataclass
class LoadedWeights:
    """A validated weights file: the network in eval mode, its tables and metadata."""

    model: CodecModel
    tables: Frozen
    metadata: dict[str, Any]
    path: Path | None

    @property
    def model_id(self) -> str:
        """Short id every payload is bound to (its last byte in the header)."""
        return self.metadata["model_id"]


def compute_model_id(tensors: dict[str, torch.Tensor], preset: str,
                     config: dict[str, Any]) -> str:
    """16-bit content hash (4 hex digits) of the tensors, preset and config."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"preset": preset, "config": config}, sort_keys=True).encode())
    for key in sorted(tensors):
        t = tensors[key].detach().cpu().contiguous()
        digest.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()[:4]


def model_tensors(model: CodecModel, tables: Frozen) -> dict[str, torch.Tensor]:
    """Every tensor a weights file stores for ``model`` with its frozen entropy model."""
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    if isinstance(tables, ContextModel):
        for key, arr in context_coding.to_arrays(tables).items():
            tensors[key] = torch.from_numpy(np.ascontiguousarray(arr))
        return tensors
    tensors["entropy.offsets"] = torch.from_numpy(tables.offsets.copy())
    tensors["entropy.lengths"] = torch.from_numpy(tables.lengths.copy())
    tensors["entropy.pmf"] = torch.from_numpy(tables.pmf.copy())
    return tensors


def frozen_from_tensors(model: CodecModel, tensors: dict[str, Any]) -> Frozen:
    """The frozen entropy model stored beside ``model``'s weights (ValueError if invalid)."""
    if model.context:
        arrays = {k: v.numpy() for k, v in tensors.items() if k.startswith("context.")}
        return context_coding.from_arrays(arrays, model.latent_shape, model.config["slices"],
                                          bool(model.config["checkerboard"]))
    tables = CdfTables(tensors["entropy.offsets"].numpy(), tensors["entropy.lengths"].numpy(),
                       tensors["entropy.pmf"].numpy())
    if tables.pmf.ndim != 2:
        raise ValueError("tensor entropy.pmf must be 2-D")
    tables.validate(model.latent_shape[0])
    return tables


def save_weights(path: str | Path, model: CodecModel, tables: Frozen,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``model`` and its tables to ``path``; returns the metadata written."""
    tensors = model_tensors(model, tables)
    metadata = dict(extra or {})
    metadata.update({
        "format": FILE_FORMAT,
        "weights_version": WEIGHTS_VERSION,
        "preset": model.preset,
        "config": model.config,
        "model_id": compute_model_id(tensors, model.preset, model.config),
    })
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={METADATA_KEY: json.dumps(metadata, sort_keys=True)})
    share(tmp).replace(path)
    return metadata


def load_weights(path: str | Path, device: str | torch.device = "cpu") -> LoadedWeights:
    """Load and validate a weights file; any problem raises WeightsError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path}: not found")
    metadata = read_metadata(path)
    try:
        model, tables = _build_and_fill(path, metadata)
    except WeightsError:
        raise
    except (SafetensorError, ValueError, KeyError, TypeError, RuntimeError, IndexError,
            OverflowError) as exc:
        raise WeightsError(f"weights file {path}: {exc}") from None
    return LoadedWeights(model.to(device).eval(), tables, metadata, path)


def _build_and_fill(path: Path, metadata: dict[str, Any]) -> tuple[CodecModel, Frozen]:
    if metadata.get("format") != FILE_FORMAT:
        raise ValueError(f"metadata format is {metadata.get('format')!r}, expected "
                         f"{FILE_FORMAT!r}")
    if metadata.get("weights_version") != WEIGHTS_VERSION:
        raise ValueError(f"weights version {metadata.get('weights_version')!r} is not "
                         f"supported (this package reads version {WEIGHTS_VERSION})")
    preset, config = metadata.get("preset"), metadata.get("config")
    if not isinstance(preset, str) or not isinstance(config, dict):
        raise ValueError("metadata lacks a preset name or config")
    model = CodecModel(preset, config)  # raises ValueError for unknown presets/settings
    expected = model_tensors(model, model.freeze_tables() if model.context else
                             CdfTables(np.zeros(1, np.int32), np.ones(1, np.int32),
                                       np.ones((1, 1), np.int32)))
    with safe_open(str(path), framework="pt") as f:
        keys = set(f.keys())
        missing = sorted(set(expected) - keys)
        unexpected = sorted(keys - set(expected))
        if missing or unexpected:
            raise ValueError(f"tensors do not match preset {preset!r}: missing {missing[:5]}, "
                             f"unexpected {unexpected[:5]}")
        tensors = {k: f.get_tensor(k) for k in sorted(keys)}
    for key, ref in expected.items():
        got = tensors[key]
        if got.dtype != ref.dtype:
            raise ValueError(f"tensor {key} has dtype {got.dtype}, expected {ref.dtype}")
        if key not in TABLE_KEYS and got.shape != ref.shape:
            raise ValueError(f"tensor {key} has shape {tuple(got.shape)}, preset {preset!r} "
                             f"needs {tuple(ref.shape)}")
        if got.is_floating_point() and not torch.isfinite(got).all():
            raise ValueError(f"tensor {key} holds NaN or infinite values")
    tables = frozen_from_tensors(model, tensors)
    stored_id = metadata.get("model_id")
    actual_id = compute_model_id(tensors, preset, model.config)
    if stored_id != actual_id:
        raise ValueError(f"contents do not match the stored model id {stored_id!r} "
                         f"(computed {actual_id!r}): the file was altered or corrupted")
    model.load_state_dict({k: v for k, v in tensors.items()
                           if not k.startswith(("entropy.", "context."))})
    return model, tables
