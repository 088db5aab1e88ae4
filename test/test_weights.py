"""Weights files: safe to load, validated, and every failure names the file and the cause."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from gan_compress_ros.codec import Codec, WeightsError
from gan_compress_ros.codec.nn.model import CodecModel
from gan_compress_ros.codec.nn.weights import METADATA_KEY, load_weights, save_weights


def _rewrite(src: Path, dst: Path, tensors_edit=None, meta_edit=None) -> Path:
    with safe_open(str(src), framework="pt") as f:
        meta = json.loads(f.metadata()[METADATA_KEY])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if tensors_edit:
        tensors_edit(tensors)
    if meta_edit:
        meta_edit(meta)
    save_file(tensors, str(dst), metadata={METADATA_KEY: json.dumps(meta)})
    return dst


def test_reload_gives_same_codec(trained_weights: Path, codec: Codec,
                                 val_frames: np.ndarray) -> None:
    again = Codec.load(trained_weights)
    assert again.model_id == codec.model_id
    payloads = codec.encode(val_frames)
    assert again.encode(val_frames) == payloads
    assert np.array_equal(again.decode(payloads), codec.decode(payloads))


def test_metadata_records_preset_and_training(codec: Codec) -> None:
    meta = codec.metadata
    assert meta["preset"] == "compact" and meta["weights_version"] == 1
    assert meta["training"]["command"] == "pytest fixture"
    assert meta["evaluation"]["bytes_per_frame"] > 0


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="nope.safetensors: not found"):
        Codec.load(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("content", [b"", b"\x00" * 7, b"garbage" * 100,
                                     np.random.default_rng(0).bytes(5000)])
def test_unreadable_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match="bad.safetensors"):
        Codec.load(path)


def test_truncated_file(tmp_path: Path, trained_weights: Path) -> None:
    data = trained_weights.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut{cut}.safetensors"
        path.write_bytes(data[:cut])
        with pytest.raises(WeightsError, match=path.name):
            Codec.load(path)


class _Boom:
    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_pickle_renamed_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    boom = _Boom()
    boom.marker = str(marker)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"weights": boom}))
    with pytest.raises(WeightsError, match="evil.safetensors"):
        Codec.load(path)
    torch_path = tmp_path / "evil2.safetensors"
    torch.save({"weights": torch.zeros(3)}, torch_path)
    with pytest.raises(WeightsError, match="evil2.safetensors"):
        Codec.load(torch_path)
    assert not marker.exists()


@pytest.mark.parametrize("edit, cause", [
    (lambda m: m.update(preset="nosuch"), "unknown preset 'nosuch'"),
    (lambda m: m.update(weights_version=99), "weights version 99 is not supported"),
    (lambda m: m.update(format="other"), "metadata format"),
    (lambda m: m["config"].update(channels=32), "shape"),
    (lambda m: m["config"].update(bogus=1), "no setting 'bogus'"),
    (lambda m: m.update(model_id="0000"), "altered or corrupted"),
    (lambda m: m.pop("config"), "lacks a preset name or config"),
])
def test_tampered_metadata(tmp_path: Path, trained_weights: Path, edit, cause: str) -> None:
    path = _rewrite(trained_weights, tmp_path / "t.safetensors", meta_edit=edit)
    with pytest.raises(WeightsError, match=f"t.safetensors: .*{cause}"):
        Codec.load(path)


def test_no_metadata(tmp_path: Path) -> None:
    path = tmp_path / "plain.safetensors"
    save_file({"x": torch.zeros(2)}, str(path))
    with pytest.raises(WeightsError, match="plain.safetensors: no 'gan_compress_ros' metadata"):
        Codec.load(path)


def _scale_first(tensors: dict) -> None:
    key = sorted(k for k in tensors if k.startswith("encoder"))[0]
    tensors[key] = tensors[key] * 1.01


def _drop_tensor(tensors: dict) -> None:
    tensors.pop(sorted(tensors)[0])


def _nan_tensor(tensors: dict) -> None:
    key = sorted(k for k in tensors if k.startswith("decoder"))[0]
    tensors[key] = torch.full_like(tensors[key], float("nan"))


def _bad_table(tensors: dict) -> None:
    pmf = tensors["entropy.pmf"].clone()
    pmf[0, 0] += 5
    tensors["entropy.pmf"] = pmf


@pytest.mark.parametrize("edit, cause", [
    (_scale_first, "altered or corrupted"),
    (_drop_tensor, "missing"),
    (_nan_tensor, "NaN"),
    (_bad_table, "not a valid 16-bit distribution"),
])
def test_tampered_tensors(tmp_path: Path, trained_weights: Path, edit, cause: str) -> None:
    path = _rewrite(trained_weights, tmp_path / "t.safetensors", tensors_edit=edit)
    with pytest.raises(WeightsError, match=cause):
        Codec.load(path)


def test_weights_error_is_a_value_error() -> None:
    assert issubclass(WeightsError, ValueError)


def test_paper_preset_saves_and_loads(tmp_path: Path) -> None:
    model = CodecModel("paper").eval()
    meta = save_weights(tmp_path / "paper.safetensors", model, model.freeze_tables())
    loaded = load_weights(tmp_path / "paper.safetensors")
    assert loaded.model_id == meta["model_id"] and loaded.model.preset == "paper"
    # readable by a robot service running as another user (safetensors alone gives 0600)
    assert (tmp_path / "paper.safetensors").stat().st_mode & 0o777 == 0o644


def test_unknown_bundled_name(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="neither a bundled name"):
        Codec.load("no_such_rate_point")


def test_bad_device(trained_weights: Path) -> None:
    with pytest.raises(ValueError, match="device"):
        Codec.load(trained_weights, device="tpu")


def test_default_load_reports_missing_bundled_weights() -> None:
    if Codec.bundled():
        assert Codec.load().model_id == Codec.load(Codec.bundled()[len(Codec.bundled()) // 2]
                                                   ).model_id
    else:
        with pytest.raises(WeightsError, match="no bundled weights are installed"):
            Codec.load()
