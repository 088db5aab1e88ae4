"""Architecture presets: the paper's Table 1 as read in docs/paper.md, and the default."""

import pytest
import torch

from gan_compress_ros.codec.nn.model import CodecModel
from gan_compress_ros.codec.nn.profile import profile
from gan_compress_ros.codec.presets import DEFAULT_PRESET, preset_config


def test_paper_preset_follows_table_1() -> None:
    model = CodecModel("paper").eval()
    x = torch.rand(2, 3, 64, 64)
    y = model.analyse(x)
    assert tuple(y.shape) == (2, 512, 4, 4) and y[0].numel() == 8192
    sizes = [tuple(m(x).shape[1:]) for m in [model.encoder[:2], model.encoder[:6],
                                             model.encoder[:13]]]
    assert sizes == [(32, 32, 32), (64, 16, 16), (128, 8, 8)]
    assert model.config["noise_channels"] == 100
    assert tuple(model.synthesise(torch.round(y)).shape) == (2, 3, 64, 64)


def test_default_preset_is_small_and_rate_oriented() -> None:
    assert DEFAULT_PRESET == "compact"
    stats = profile(CodecModel(DEFAULT_PRESET))
    assert stats["latent_values"] <= 1024  # vs 8192 for the paper
    assert stats["encoder_params"] + stats["decoder_params"] < 2_000_000
    assert stats["encoder_macs"] + stats["decoder_macs"] < 200_000_000


def test_paper_decoder_is_far_heavier_than_default() -> None:
    paper, compact = profile(CodecModel("paper")), profile(CodecModel("compact"))
    assert paper["decoder_macs"] > 10 * compact["decoder_macs"]


def test_training_forward_returns_likelihoods() -> None:
    model = CodecModel("compact", {"channels": 16, "latent_channels": 8})
    out = model(torch.rand(2, 3, 64, 64))
    assert out["x_hat"].shape == (2, 3, 64, 64)
    assert out["likelihoods"].shape == (2, 8, 4, 4)
    assert ((out["likelihoods"] > 0) & (out["likelihoods"] <= 1)).all()


@pytest.mark.parametrize("preset, overrides, match", [
    ("nosuch", {}, "unknown preset"),
    ("compact", {"bogus": 1}, "no setting"),
    ("compact", {"channels": -1}, "non-negative"),
    ("compact", {"channels": 2.5}, "integer"),
    ("paper", {"latent_channels": 64}, "fixed"),
])
def test_bad_preset_configs(preset: str, overrides: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        preset_config(preset, overrides)
