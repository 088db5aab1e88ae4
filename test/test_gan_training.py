"""The adversarial stage, the paper's setting, bf16 training and the run's pictures."""

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from testkit.files import DATA

from gan_compress_ros.codec import Codec
from gan_compress_ros.tools.train import build_config, main, parse_args
from gan_compress_ros.training import losses
from gan_compress_ros.training.trainer import TrainConfig, Trainer

TINY = {"channels": 8, "latent_channels": 4}


def test_warm_up_then_gan(tmp_path: Path) -> None:
    config = TrainConfig(data=[str(DATA / "train")], val=[str(DATA / "val")], out=str(tmp_path),
                         preset_overrides=TINY, steps=100, gan_start=50, beta=4.0, batch=4,
                         threads=1, precision="auto")
    meta = Trainer(config).train()
    rows = list(csv.DictReader((tmp_path / "train_log.csv").open()))
    assert math.isnan(float(rows[0]["d_loss"]))  # steps 1-50: warm-up, no discriminator
    assert float(rows[1]["d_loss"]) > 0 and float(rows[1]["g_adv"]) > 0
    for name in ("losses.png", "samples.png", "model_card.md", "weights.safetensors"):
        assert (tmp_path / name).stat().st_size > 0
    assert "adversarial weight beta 4.0 from step 50" in (tmp_path / "model_card.md").read_text()
    assert Codec.load(tmp_path / "weights.safetensors").model_id == meta["model_id"]


def test_bf16_training_runs(tmp_path: Path) -> None:
    """bf16 autocast, forced: a few steps (emulated bf16 is slow on CPUs without it)."""
    config = TrainConfig(data=[str(DATA / "train")], val=[str(DATA / "val")], out=str(tmp_path),
                         preset_overrides=TINY, steps=4, gan_start=2, beta=4.0, batch=2,
                         threads=1, precision="bf16")
    Trainer(config).train()
    row = list(csv.DictReader((tmp_path / "train_log.csv").open()))[-1]
    assert math.isfinite(float(row["mse"])) and math.isfinite(float(row["d_loss"]))
    assert Codec.load(tmp_path / "weights.safetensors").encode(
        np.zeros((64, 64, 3), np.uint8))[0]


def test_gan_losses_follow_the_paper() -> None:
    logits = torch.zeros(4, 1)
    # BCE(D(x), 1) + BCE(D(G(x)), 0) at D = 0.5 everywhere is 2 ln 2
    assert losses.discriminator_loss(logits, logits).item() == pytest.approx(2 * math.log(2))
    assert losses.generator_adversarial(logits).item() == pytest.approx(math.log(2))
    assert losses.add_instance_noise(logits, 0.0) is logits


def test_paper_flag_sets_the_paper_setting() -> None:
    config = build_config(parse_args(["--paper", "--data", "x", "--out", "y"]), "cmd")
    assert (config.preset, config.batch, config.lr, config.lr_d) == ("paper", 8, 4e-4, 4e-3)
    assert config.discriminator == "paper" and config.fresh_decoder_noise
    explicit = build_config(parse_args(["--paper", "--batch", "16", "--data", "x", "--out",
                                        "y"]), "cmd")
    assert explicit.batch == 16


def test_paper_preset_trains_end_to_end(tmp_path: Path) -> None:
    args = ["--paper", "--data", str(DATA / "train"), "--val", str(DATA / "val"), "--out",
            str(tmp_path), "--steps", "3", "--gan-start", "1", "--batch", "2", "--threads", "1"]
    assert main(args) == 0
    codec = Codec.load(tmp_path / "weights.safetensors")
    assert codec.metadata["preset"] == "paper"
    assert codec.metadata["training"]["discriminator"] == "paper"
