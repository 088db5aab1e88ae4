"""Tuning the encoder alone (``--train-only analysis``) against the rate the range coder sees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from testkit.files import DATA

from gan_compress_ros.codec.api import Codec
from gan_compress_ros.codec.bitstream import header_bytes
from gan_compress_ros.codec.bundled import resolve
from gan_compress_ros.codec.nn.weights import load_weights
from gan_compress_ros.training.data import crops_of, load_frames
from gan_compress_ros.training.trainer import TrainConfig, Trainer

TINY = {"channels": 8, "latent_channels": 8, "context_hidden": 8, "slices": 2}


def _config(out: Path, **kw: object) -> TrainConfig:
    return TrainConfig(data=[str(DATA / "train")], val=[str(DATA / "val")], out=str(out),
                       preset="compact2", lmbda=12.0, lmbda_q0=3000.0, batch=2, threads=1,
                       checkpoint_every=0, max_val=2, **kw)  # type: ignore[arg-type]


def test_only_the_encoder_side_learns(tmp_path: Path) -> None:
    Trainer(_config(tmp_path / "a", steps=1, preset_overrides=TINY)).train()
    before = tmp_path / "a" / "weights.safetensors"
    Trainer(_config(tmp_path / "b", steps=3, lr=1e-2, init=str(before), train_only="analysis",
                    preset_overrides=TINY)).train()
    old = load_weights(before).model.state_dict()
    new = load_weights(tmp_path / "b" / "weights.safetensors").model.state_dict()
    encoder_side = [n for n in old if n.startswith("encoder.") or n == "gain.log_enc"]
    assert encoder_side
    for name, tensor in old.items():
        if name in encoder_side:
            continue
        assert torch.equal(new[name], tensor), name  # decoder, entropy model, decoder gains
    assert any(not torch.equal(new[n], old[n]) for n in encoder_side)


def test_encoder_tuning_needs_weights_to_keep(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs --init"):
        Trainer(_config(tmp_path / "a", steps=1, preset_overrides=TINY, train_only="analysis"))


def test_the_rounded_rate_is_what_the_range_coder_spends() -> None:
    """Bits priced on the rounded latent match the real body bytes; the noisy price does not.

    Measured on the bundled model and the repo's validation frames at quality 0: the float
    model's price of the rounded latent is within a few percent of the range-coded bodies.
    """
    codec = Codec.load(backend="torch")
    model = load_weights(resolve(None)).model.eval()
    frames = crops_of(load_frames([DATA / "val"], progress=False))[:8]
    payloads = codec.encode(frames, quality=0.0)
    body_bits = 8.0 * sum(len(p) - header_bytes(p) for p in payloads)
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float().div(255.0)
    qbytes = torch.zeros(len(frames), dtype=torch.long)
    with torch.no_grad():
        priced = [float(-torch.log2(model(x, qbytes=qbytes, rate_quant="ste")["likelihoods"])
                        .sum()) for _ in range(2)]
        torch.manual_seed(0)
        noisy = float(-torch.log2(model(x, qbytes=qbytes)["likelihoods"]).sum())
    assert priced[0] == priced[1]  # no noise drawn
    assert priced[0] == pytest.approx(body_bits, rel=0.05)
    assert abs(noisy - body_bits) > abs(priced[0] - body_bits)
