"""ONNX export of a weights file: the two transforms as ONNX models, ``codec.json`` beside.

Uses torch's ``torch.export``-based ONNX exporter (the TorchScript one is deprecated). The
models take and return float32 with a dynamic batch axis; an fp16 export casts inside the
graph, so both precisions have the same interface. After writing, each model is run with
onnxruntime (when installed) against torch on probe inputs, and the largest difference is
recorded in the manifest, so an export states how close it is to the weights it came from.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import platform
import shutil
import time
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from .. import context_coding
from ..bundled import WeightsRef, resolve
from ..choices import PRECISIONS
from ..context_coding import ContextModel
from ..errors import WeightsError
from ..export_dir import (
    DEFAULT_OPSET,
    ENTROPY_FILE,
    EXPORT_FORMAT,
    EXPORT_VERSION,
    MANIFEST,
    ROLES,
    file_sha256,
    model_filename,
    share,
    write_manifest,
)
from ..presets import FRAME_SIZE
from .gdn import GDN
from .model import CodecModel
from .weights import load_weights

#: ONNX IR version written: the exporter writes 10, which onnxruntime before 1.18 refuses
#: (JetPack's wheels include 1.16 and 1.17); 8 is the lowest that carries opset 18, and the
#: models use nothing newer.
IR_VERSION = 8
#: Input and output names of the models (the backend reads the input names from the model).
IO_NAMES = {"encoder": ("x", "y"), "decoder": ("y_hat", "x_hat")}
_PROBE_SEED = 11
_MAX_BATCH = 4096


class _Transform(nn.Module):
    """One transform of the model in ``dtype``, float32 at its input and output."""

    def __init__(self, model: CodecModel, method: str, dtype: torch.dtype) -> None:
        super().__init__()
        self.model = model
        self.method = method
        self.dtype = dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the transform."""
        return getattr(self.model, self.method)(x.to(self.dtype)).float()


def _probe(role: str, latent_shape: tuple[int, int, int], batch: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(_PROBE_SEED)
    if role == "encoder":
        return torch.rand((batch, 3, FRAME_SIZE, FRAME_SIZE), generator=gen)
    return torch.round(torch.randn((batch, *latent_shape), generator=gen) * 3)


def _export_one(module: nn.Module, example: torch.Tensor, role: str, path: Path,
                opset: int) -> None:
    name_in, name_out = IO_NAMES[role]
    batch = torch.export.Dim("batch", min=1, max=_MAX_BATCH)
    quiet = logging.getLogger("torch.onnx")  # it warns about torchvision ops we do not use
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with torch.no_grad(), warnings.catch_warnings(), \
                contextlib.redirect_stdout(io.StringIO()):  # the exporter narrates each step
            warnings.simplefilter("ignore")
            program = torch.onnx.export(module, (example,), dynamo=True, opset_version=opset,
                                        input_names=[name_in], output_names=[name_out],
                                        dynamic_shapes={"x": {0: batch}}, verbose=False)
            if program is None:
                raise RuntimeError(f"torch.onnx.export gave no program for {name_in}")
            program.save(str(path))
    finally:
        quiet.setLevel(level)
    model = onnx.load(str(path))
    model.ir_version = IR_VERSION
    _strip_metadata(model)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def _strip_metadata(model: onnx.ModelProto) -> None:
    """Drop the exporter's per-node notes: source paths and line numbers of this machine.

    They would make an export differ with where and from which revision it ran, and IR 8
    has no metadata on nodes and values anyway.
    """
    graph = model.graph
    for item in (*graph.node, *graph.value_info, *graph.input, *graph.output,
                 *graph.initializer):
        item.ClearField("metadata_props")
    for node in graph.node:
        node.ClearField("doc_string")


def _max_difference(reference: nn.Module, path: Path, role: str,
                    latent_shape: tuple[int, int, int]) -> float | None:
    """Largest |onnxruntime - torch fp32| over a probe batch; None without onnxruntime."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    probe = _probe(role, latent_shape, 4)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    got = session.run(None, {IO_NAMES[role][0]: probe.numpy()})[0]
    with torch.no_grad():
        want = reference(probe).numpy()
    return float(np.abs(got - want).max())


def export(weights: str | Path | None, out: str | Path, half: bool = False,
           opset: int = DEFAULT_OPSET, command: str | None = None) -> dict[str, Any]:
    """Write the ONNX export of ``weights`` (a file or bundled name) into directory ``out``.

    ``out`` must be new, empty, or an earlier export (which is replaced). Returns the
    manifest written.
    """
    source = resolve(weights)
    loaded = load_weights(source)
    metadata = dict(loaded.metadata)
    quality = WeightsRef.parse(weights).quality
    if quality is not None and "default_quality" not in metadata:
        # A name (``mid``, ``high``) stands for a quality: the export keeps it, so
        # loading the directory spends what the name does, not the weights' 0.5.
        metadata["default_quality"] = f"{quality:g}"
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not _is_export(out))):
        raise WeightsError(f"output {out} exists and is not an ONNX export: choose a new or "
                           "empty directory")
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        written = _write(loaded, metadata, source, tmp, half, opset, command)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    share(tmp).replace(out)
    return written


def _is_export(directory: Path) -> bool:
    """Whether ``directory`` holds only an earlier export, so replacing it loses nothing."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError, RecursionError):
        return False
    names = {MANIFEST, ENTROPY_FILE,
             *(model_filename(r, p) for r in ROLES for p in PRECISIONS)}
    return (isinstance(manifest, dict) and manifest.get("format") == EXPORT_FORMAT
            and {p.name for p in directory.iterdir()} <= names)


def _write(loaded: Any, metadata: dict[str, str], source: Path, tmp: Path, half: bool,
           opset: int, command: str | None) -> dict[str, Any]:
    """Export into the empty folder ``tmp``; the manifest written."""
    model = loaded.model.eval().requires_grad_(False)
    shape = model.latent_shape
    models: dict[str, dict[str, Any]] = {role: {} for role in ROLES}
    start = time.perf_counter()
    for precision in PRECISIONS if half else PRECISIONS[:1]:
        dtype = torch.float16 if precision == "fp16" else torch.float32
        typed = copy.deepcopy(model)
        for layer in typed.modules():
            if isinstance(layer, GDN):
                layer.freeze(dtype)  # constants computed exactly, not the reparametrisation
        typed = typed.to(dtype)
        for role, method in zip(ROLES, ("analyse", "synthesise"), strict=True):
            module = _Transform(typed, method, dtype).eval()
            path = tmp / model_filename(role, precision)
            _export_one(module, _probe(role, shape, 2), role, path, opset)
            reference = _Transform(model, method, torch.float32).eval()
            models[role][precision] = {
                "file": path.name, "sha256": file_sha256(path), "bytes": path.stat().st_size,
                "max_abs_difference_to_torch_fp32": _max_difference(reference, path, role,
                                                                    shape)}
    tables = loaded.tables
    if isinstance(tables, ContextModel):
        from safetensors.numpy import save_file

        save_file(context_coding.to_arrays(tables), str(tmp / ENTROPY_FILE))
        entropy: dict[str, Any] = {"context": {
            "file": ENTROPY_FILE, "sha256": file_sha256(tmp / ENTROPY_FILE),
            "slices": tables.slices, "checkerboard": int(tables.checkerboard)}}
    else:
        entropy = {"tables": {"offsets": tables.offsets.tolist(),
                              "lengths": tables.lengths.tolist(), "pmf": tables.pmf.tolist()}}
    manifest = {
        "format": EXPORT_FORMAT, "bundle_version": EXPORT_VERSION,
        "model_id": loaded.model_id, "preset": model.preset, "config": model.config,
        "latent_shape": list(shape), "opset": opset, "models": models, **entropy,
        "source": {"file": source.name, "sha256": file_sha256(source),
                   "metadata": metadata},
        "exported_with": {"torch": torch.__version__, "onnx": onnx.__version__,
                          "onnxscript": version("onnxscript"),
                          "python": platform.python_version(),
                          "command": command, "seconds": round(time.perf_counter() - start, 1)},
    }
    return write_manifest(tmp, manifest)
