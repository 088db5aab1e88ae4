"""ONNX exports on disk and backend choice: bad input fails clearly.

Tampering, wrong inputs and bad settings raise WeightsError or ValueError naming the cause,
never a runtime's traceback.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from gan_compress_ros.codec import Codec, WeightsError
from gan_compress_ros.codec.api import choose_backend
from gan_compress_ros.codec.backend_onnx import (
    CPU,
    CUDA,
    TENSORRT,
    choose_providers,
    engine_cache,
    provider_options,
)
from gan_compress_ros.codec.bundled import BUNDLED_DIR, ONNX_DIR
from gan_compress_ros.codec.export_dir import MANIFEST, read_export
from gan_compress_ros.codec.nn.export import export
from gan_compress_ros.tools.export import main as export_main


@pytest.fixture(scope="module")
def v1_export(trained_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An export of the session's small fixed-rate codec (manifest with inline tables)."""
    out = tmp_path_factory.mktemp("v1export") / "small"
    export(trained_weights, out)
    return out


@pytest.fixture()
def copy(v1_export: Path, tmp_path: Path) -> Path:
    """A writable copy of that export."""
    return Path(shutil.copytree(v1_export, tmp_path / "small"))


def _edit_manifest(directory: Path, change) -> None:
    manifest = json.loads((directory / MANIFEST).read_text())
    change(manifest)
    (directory / MANIFEST).write_text(json.dumps(manifest))


def test_export_is_readable_by_other_users(v1_export: Path) -> None:
    assert v1_export.stat().st_mode & 0o777 == 0o755
    assert {p.name: p.stat().st_mode & 0o777 for p in v1_export.iterdir()} == \
        {p.name: 0o644 for p in v1_export.iterdir()}


def test_copied_export_loads_by_directory_or_manifest(copy: Path) -> None:
    for weights in (copy, copy / MANIFEST):
        codec = Codec.load(str(weights))  # auto: an export directory runs on onnxruntime
        assert codec.backend == "onnxruntime" and codec.path == copy
        assert codec.decode(codec.encode(np.zeros((64, 64, 3), np.uint8))).shape == (1, 64, 64, 3)


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: (d / "decoder.onnx").write_bytes((d / "decoder.onnx").read_bytes()[:-1] + b"x"),
     "decoder model decoder.onnx does not match its SHA-256"),
    (lambda d: (d / "encoder.onnx").unlink(), "encoder model encoder.onnx is missing"),
    (lambda d: _edit_manifest(d, lambda m: m["tables"]["pmf"][0].__setitem__(0, 7)),
     "does not match its digest"),
    (lambda d: (d / MANIFEST).write_text("{not json"), "not readable JSON"),
    (lambda d: (d / MANIFEST).write_text("[]"), "not a 'gan_compress_ros.onnx' manifest"),
    (lambda d: (d / MANIFEST).unlink(), "no ONNX export there"),
])
def test_damaged_export_is_refused(copy: Path, damage, message: str) -> None:
    damage(copy)
    with pytest.raises(WeightsError, match=message) as exc:
        Codec.load(str(copy), backend="onnxruntime")
    assert str(copy) in str(exc.value)


def test_resigned_manifest_with_bad_tables_is_refused(copy: Path, v1_export: Path) -> None:
    """A manifest whose digest was recomputed still needs valid tables and fields."""
    from gan_compress_ros.codec.export_dir import write_manifest

    for change, message in ((lambda m: m["tables"]["pmf"][0].__setitem__(0, 7), "channel 0"),
                            (lambda m: m.__setitem__("model_id", "xyz"), "4 hex digits"),
                            (lambda m: m["models"]["decoder"]["fp32"].__setitem__(
                                "file", "../decoder.onnx"), "beside"),
                            (lambda m: m.__setitem__("bundle_version", 9), "version 9"),
                            (lambda m: m.__setitem__("model_id", "0x1f"), "4 hex digits"),
                            (lambda m: m.pop("source"), "lacks 'source'"),
                            (lambda m: m["source"].__setitem__("metadata", []),
                             "metadata object"),
                            (lambda m: m["models"].__setitem__("encoder", "encoder.onnx"),
                             "models.encoder must map"),
                            (lambda m: m.__setitem__("latent_shape", [64, 4]), "latent_shape")):
        manifest = json.loads((v1_export / MANIFEST).read_text())
        change(manifest)
        write_manifest(copy, manifest)
        with pytest.raises(WeightsError, match=message):
            read_export(copy)


def test_models_must_match_the_manifest_latent_shape(copy: Path, v1_export: Path) -> None:
    from gan_compress_ros.codec.export_dir import write_manifest

    manifest = json.loads((v1_export / MANIFEST).read_text())
    manifest["latent_shape"] = [32, 2, 8]  # same channels (tables fit), other layout
    write_manifest(copy, manifest)
    with pytest.raises(WeightsError, match=r"encoder's latent has shape \[32, 4, 4\]"):
        Codec.load(str(copy))


def test_wrong_kind_of_weights_for_a_backend(copy: Path) -> None:
    with pytest.raises(WeightsError, match="loads an export directory.*gan-compress-export"):
        Codec.load(str(BUNDLED_DIR / "codec.safetensors"), backend="onnxruntime")
    with pytest.raises(WeightsError, match="runs on backend onnxruntime, not torch"):
        Codec.load(str(copy), backend="torch")
    with pytest.raises(WeightsError, match="no ONNX export there"):
        Codec.load("~nosuchuser/mid", backend="onnxruntime")


def test_bad_backend_precision_and_device_settings(copy: Path) -> None:
    with pytest.raises(ValueError, match="unknown backend 'tensorflow'"):
        Codec.load(backend="tensorflow")
    with pytest.raises(ValueError, match="unknown precision 'int8'"):
        Codec.load(precision="int8")
    with pytest.raises(ValueError, match="threads=-1"):
        Codec.load(threads=-1)
    with pytest.raises(ValueError, match="fp16 needs device cuda"):
        Codec.load(backend="torch", precision="fp16")
    with pytest.raises(ValueError, match=r"fp16 models in the export \(gan-compress-export"):
        Codec.load(str(copy), backend="onnxruntime", precision="fp16")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        Codec.load(backend="onnxruntime", device="tpu")
    import onnxruntime

    if not {CUDA, TENSORRT} & set(onnxruntime.get_available_providers()):
        with pytest.raises(ValueError, match="no CUDA or TensorRT provider"):
            Codec.load(backend="onnxruntime", device="cuda")


def test_providers_are_chosen_in_order() -> None:
    everything = [CPU, CUDA, TENSORRT, "OpenVINOExecutionProvider"]
    assert choose_providers("auto", everything) == [TENSORRT, CUDA, CPU]
    assert choose_providers("cuda:1", everything) == [TENSORRT, CUDA, CPU]
    assert choose_providers("auto", [CPU, CUDA]) == [CUDA, CPU]
    assert choose_providers("auto", [CPU]) == [CPU]
    assert choose_providers("cpu", everything) == [CPU]


def test_tensorrt_options_keep_each_model_apart(tmp_path: Path, v1_export: Path) -> None:
    """Each model file gets its own TensorRT engine folder, and fp16 reaches TensorRT.

    TensorRT names cached engines by file and node names, which all exports share.
    """
    folders = {engine_cache(read_export(d).manifest["models"][role]["fp32"])
               for d in (ONNX_DIR / "codec", v1_export) for role in ("encoder", "decoder")}
    assert len(folders) == 4
    options = provider_options([TENSORRT, CUDA, CPU], 1, True, tmp_path)
    assert options[0] == {"device_id": 1, "trt_fp16_enable": True,
                          "trt_engine_cache_enable": True,
                          "trt_engine_cache_path": str(tmp_path)}
    assert options[1:] == [{"device_id": 1}, {}]


def test_auto_backend_follows_the_weights(copy: Path) -> None:
    assert choose_backend("auto", str(copy)) == "onnxruntime"
    # the bundled model has its export: onnxruntime, installed here, is the faster choice
    assert choose_backend("auto", None) == "onnxruntime"
    assert choose_backend("auto", "low") == "onnxruntime"
    assert choose_backend("auto", "low", device="cuda") == "torch"  # torch is installed here
    assert choose_backend("auto", "/some/weights.safetensors") == "torch"
    assert choose_backend("onnxruntime", None) == "onnxruntime"


def test_export_refuses_a_folder_that_is_not_an_export(tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    assert export_main(["low", "--out", str(tmp_path)]) == 1
    assert "is not an ONNX export" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    (tmp_path / MANIFEST).write_text("[]")  # a manifest alone does not make it an export
    assert export_main(["low", "--out", str(tmp_path)]) == 1
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    with pytest.raises(WeightsError, match="not found"):
        export(str(tmp_path / "missing.safetensors"), tmp_path / "out")
    with pytest.raises(SystemExit):
        export_main(["low"])  # neither --out nor --bundled


def test_failed_export_leaves_nothing_behind(tmp_path: Path, monkeypatch, capsys) -> None:
    import gan_compress_ros.codec.nn.export as exporter

    def broken(*args, **kwargs):
        raise RuntimeError("exporter broke")
    monkeypatch.setattr(exporter, "_export_one", broken)
    assert export_main(["low", "--out", str(tmp_path / "out")]) == 1
    assert "RuntimeError: exporter broke" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_export_replaces_an_earlier_export(copy: Path) -> None:
    manifest = export("low", copy)  # the bundled model over the copy of another export
    assert read_export(copy).model_id == manifest["model_id"] == Codec.load("low").model_id
    assert not (copy.parent / "small.partial").exists()
    # The directory spends what the name did: its quality travels in the manifest.
    assert Codec.load(str(copy)).default_quality == Codec.load("low").default_quality < 0.5


class _GpuSession:
    """Stands in for an onnxruntime session on a GPU, which cannot run here."""

    def __init__(self, providers: list[str]) -> None:
        self.providers = providers

    def get_providers(self) -> list[str]:
        return self.providers

    def get_inputs(self) -> list[SimpleNamespace]:
        return [SimpleNamespace(shape=["batch", *Codec.load(backend="onnxruntime").latent_shape])]

    get_outputs = get_inputs


def test_gpu_providers_that_do_not_start_are_refused_not_hidden() -> None:
    transforms = Codec.load(backend="onnxruntime").transforms
    wanted = [TENSORRT, CUDA, CPU]
    transforms.device = "cuda"
    with pytest.raises(ValueError, match="could not start TensorrtExecutionProvider"):
        transforms._check(_GpuSession([CPU]), "encoder", wanted, False)
    transforms._check(_GpuSession([CUDA, CPU]), "encoder", wanted, False)  # CUDA is a GPU
    with pytest.raises(ValueError, match="fp16 needs the TensorRT provider"):
        transforms._check(_GpuSession([CUDA, CPU]), "decoder", wanted, True)
    transforms.device = "auto"  # auto may end on the CPU
    transforms._check(_GpuSession([CPU]), "decoder", wanted, False)
