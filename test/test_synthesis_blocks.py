"""The capacity lever: residual blocks added to a trained synthesis start as the identity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from testkit.files import DATA

from gan_compress_ros.codec.api import Codec
from gan_compress_ros.codec.bitstream import header_bytes
from gan_compress_ros.codec.nn.export import export
from gan_compress_ros.codec.nn.model import CodecModel
from gan_compress_ros.codec.nn.weights import load_weights
from gan_compress_ros.codec.presets import preset_config
from gan_compress_ros.training.trainer import TrainConfig, Trainer

TINY = {"channels": 8, "latent_channels": 8, "context_hidden": 8, "slices": 2}


def _config(out: Path, **kw: object) -> TrainConfig:
    return TrainConfig(data=[str(DATA / "train")], val=[str(DATA / "val")], out=str(out),
                       preset="compact2", lmbda=12.0, lmbda_q0=3000.0, batch=2, threads=1,
                       checkpoint_every=0, max_val=2, **kw)  # type: ignore[arg-type]


def test_the_default_leaves_the_config_and_so_old_model_ids_alone() -> None:
    assert "synthesis_blocks" not in preset_config("compact2", {"synthesis_blocks": 0})
    assert preset_config("compact2", {"synthesis_blocks": 2})["synthesis_blocks"] == 2
    with pytest.raises(ValueError, match="synthesis_blocks"):
        preset_config("compact2", {"synthesis_blocks": 9})
    with pytest.raises(ValueError, match="no setting"):
        preset_config("compact", {"synthesis_blocks": 1})
    Codec.load()  # the bundled file's model id still matches its contents


def test_blocks_start_as_the_identity_and_take_gradient() -> None:
    torch.manual_seed(0)
    plain = CodecModel("compact2", TINY)
    wide = CodecModel("compact2", {**TINY, "synthesis_blocks": 2})
    missing = wide.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert missing and all(k.startswith("decoder.res") for k in missing)
    y = torch.randn(2, *plain.latent_shape)
    assert torch.equal(wide.synthesise(y), plain.synthesise(y))
    wide.synthesise(y).square().mean().backward()
    grad = wide.decoder.res1_0.conv2.weight.grad  # type: ignore[union-attr]
    assert grad is not None and grad.abs().sum() > 0  # the zero start is not a dead end


def test_a_run_with_blocks_starts_from_weights_without_them(tmp_path: Path) -> None:
    Trainer(_config(tmp_path / "a", steps=1, preset_overrides=TINY)).train()
    weights = tmp_path / "a" / "weights.safetensors"
    for init in (weights, tmp_path / "a" / "checkpoint.pt"):
        wide = Trainer(_config(tmp_path / "b", steps=1, init=str(init),
                               preset_overrides={**TINY, "synthesis_blocks": 1}))
        plain = load_weights(weights).model
        y = torch.randn(1, *plain.latent_shape)
        with torch.no_grad():
            assert torch.allclose(wide.model.synthesise(y), plain.synthesise(y))
    wide.train()
    assert load_weights(tmp_path / "b" / "weights.safetensors").model.config[
        "synthesis_blocks"] == 1
    codec = Codec.load(tmp_path / "b" / "weights.safetensors")
    frame = np.full((64, 64, 3), 128, np.uint8)
    assert codec.decode(codec.encode(frame)).shape == (1, 64, 64, 3)


def test_a_model_with_blocks_exports_and_decodes_alike_on_onnxruntime(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    overrides = {**TINY, "synthesis_blocks": 1}
    Trainer(_config(tmp_path / "a", steps=2, preset_overrides=overrides)).train()
    weights = tmp_path / "a" / "weights.safetensors"
    export(weights, tmp_path / "onnx")
    by_torch = Codec.load(weights, backend="torch")
    by_onnx = Codec.load(tmp_path / "onnx", backend="onnxruntime")
    frames = np.random.default_rng(0).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    payloads = by_torch.encode(frames, quality=0.5)
    diff = np.abs(by_torch.decode(payloads).astype(int) - by_onnx.decode(payloads).astype(int))
    assert diff.max() <= 2  # float transforms on two runtimes; the integer latent is shared


def test_synthesis_only_training_keeps_every_payload_and_changes_the_picture(
        tmp_path: Path) -> None:
    Trainer(_config(tmp_path / "a", steps=1, preset_overrides=TINY)).train()
    before = tmp_path / "a" / "weights.safetensors"
    Trainer(_config(tmp_path / "b", steps=3, lr=1e-2, init=str(before),
                    train_only="synthesis", preset_overrides={**TINY, "synthesis_blocks": 1})
            ).train()
    after = tmp_path / "b" / "weights.safetensors"
    old, new = load_weights(before).model.state_dict(), load_weights(after).model.state_dict()
    for name, tensor in old.items():  # the bitstream's side is as it was
        if not (name.startswith("decoder.") or name == "gain.log_dec"):
            assert torch.equal(new[name], tensor), name
    frames = np.random.default_rng(1).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    a, b = Codec.load(before), Codec.load(after)
    for q in (0.0, 0.5, 1.0):
        pa, pb = a.encode(frames, quality=q), b.encode(frames, quality=q)
        # all but the header (the model tag and the check byte, or the model id)
        assert [p[header_bytes(p[0]):] for p in pa] == [p[header_bytes(p[0]):] for p in pb]
        assert not np.array_equal(a.decode(pa), b.decode(pb))  # the synthesis learned


def test_synthesis_only_needs_trained_weights_to_keep(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs --init"):
        Trainer(_config(tmp_path / "a", steps=1, preset_overrides=TINY,
                        train_only="synthesis"))
    with pytest.raises(ValueError, match="train_only"):
        Trainer(_config(tmp_path / "a", steps=1, preset_overrides=TINY, train_only="prior"))
