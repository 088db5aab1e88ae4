"""The trainer CLI: outputs, model card, CSV log, and resuming from a checkpoint."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from testkit.files import DATA, read_photos

from gan_compress_ros.codec import Codec
from gan_compress_ros.tools.train import main

#: The default architecture (the bundled model's) at a width that trains in seconds.
TINY = '{"channels": 8, "latent_channels": 4, "context_hidden": 8}'


def _args(out: Path, steps: int) -> list[str]:
    return ["--data", str(DATA / "train"), "--val", str(DATA / "val"), "--out", str(out),
            "--preset-config", TINY, "--steps", str(steps), "--batch", "4", "--threads", "1",
            "--seed", "3"]


def test_cli_writes_weights_card_and_log(tmp_path: Path, capsys) -> None:
    assert main(_args(tmp_path, 60)) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    codec = Codec.load(tmp_path / "weights.safetensors")
    assert summary["model_id"] == codec.model_id
    card = (tmp_path / "model_card.md").read_text()
    assert "gan-compress-train --data" in card and "Seed: 3" in card and "bytes/frame" in card
    rows = list(csv.DictReader((tmp_path / "train_log.csv").open()))
    assert [int(r["step"]) for r in rows] == [50, 60]


def test_resume_continues_from_checkpoint(tmp_path: Path) -> None:
    assert main(_args(tmp_path, 30)) == 0
    assert main(_args(tmp_path, 60) + ["--resume"]) == 0
    codec = Codec.load(tmp_path / "weights.safetensors")
    assert codec.metadata["training"]["steps_done"] == 60
    rows = list(csv.DictReader((tmp_path / "train_log.csv").open()))
    assert [int(r["step"]) for r in rows] == [30, 50, 60]


def test_bad_preset_config_is_reported(tmp_path: Path, capsys) -> None:
    args = _args(tmp_path, 1)
    args[args.index(TINY)] = "{not json"
    assert main(args) == 2
    assert "--preset-config is not JSON" in capsys.readouterr().err


def test_resume_with_other_settings_is_reported(tmp_path: Path, capsys) -> None:
    assert main(_args(tmp_path, 5)) == 0
    other = _args(tmp_path, 10) + ["--resume"]
    other[other.index(TINY)] = '{"channels": 12, "latent_channels": 4, "context_hidden": 8}'
    assert main(other) == 2
    assert "cannot resume" in capsys.readouterr().err


def test_plain_run_trains_what_codec_load_loads(tmp_path: Path) -> None:
    """No architecture option: the bundled model's preset, config and rate range."""
    assert main(["--data", str(DATA / "train"), "--steps", "20", "--out", str(tmp_path),
                 "--batch", "2", "--threads", "1"]) == 0
    bundled = Codec.load()
    codec = Codec.load(tmp_path / "weights.safetensors")
    assert (codec.metadata["preset"], codec.metadata["config"]) == (
        bundled.metadata["preset"], bundled.metadata["config"])
    assert codec.variable_rate
    training = codec.metadata["training"]
    assert (training["lmbda"], training["lmbda_q0"]) == (
        bundled.metadata["training"]["lmbda"], bundled.metadata["training"]["lmbda_q0"])
    frames = np.stack(read_photos(DATA / "val", size=(64, 64))[:2])
    low, high = codec.encode(frames, quality=0.0), codec.encode(frames, quality=1.0)
    assert codec.decode(high).shape == frames.shape
    assert sum(map(len, low)) < sum(map(len, high))


def test_legacy_preset_only_when_named(tmp_path: Path) -> None:
    args = _args(tmp_path, 2) + ["--preset", "compact", "--lmbda", "50"]
    args[args.index(TINY)] = '{"channels": 8, "latent_channels": 4}'
    assert main(args) == 0
    codec = Codec.load(tmp_path / "weights.safetensors")
    assert codec.metadata["preset"] == "compact" and not codec.variable_rate


def test_help_says_what_the_default_trains(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "what Codec.load() loads" in text and "--finetune" in text
    assert "product codec (``compact``" not in text


def test_model_card_names_every_loss_term() -> None:
    """A run fine-tuned with ``--msssim-weight`` once had a card that read "MSE + lambda * bpp"."""
    from gan_compress_ros.training.trainer import model_card

    meta = {"preset": "compact2", "model_id": "abcd", "config": {},
            "training": {"commands": ["gan-compress-train --msssim-weight 1000"],
                         "msssim_weight": 1000.0, "beta": 0}}
    assert "MSE + lambda * bpp + 1000 * (1 - MS-SSIM)" in model_card(meta)
    assert "mode batch" in model_card(meta)  # the weights before the modes: batch
    meta["training"]["msssim_weight"] = 0.0
    assert "MSE + lambda * bpp; no adversarial term" in model_card(meta)


def test_msssim_modes_weigh_the_term_by_quality() -> None:
    """``batch`` is how model 184a was trained; ``rd`` weighs the term alike at every quality."""
    import torch

    from gan_compress_ros.codec.nn.objective import Objective, lmbda_of, msssim
    from gan_compress_ros.training.trainer import rd_loss

    torch.manual_seed(0)
    x = torch.rand(4, 3, 64, 64)
    out = {"x_hat": (x + 0.1 * torch.randn_like(x)).clamp(0, 1),
           "likelihoods": torch.rand(4, 16, 8, 8).clamp(0.05, 1)}
    q = torch.tensor([0, 80, 170, 255])
    lam = lmbda_of(q, 3.0, 4000.0)
    norm = torch.sqrt(lam / (3.0 * 4000.0) ** 0.5)
    mse = ((out["x_hat"] - x) ** 2).flatten(1).mean(1) * 255.0 ** 2
    bpp = -torch.log2(out["likelihoods"]).flatten(1).sum(1) / 4096
    ssim = msssim(out["x_hat"], x)
    plain = ((mse + lam * bpp) / norm).mean()
    batch, _, _ = rd_loss(out, x, q, Objective(3.0, 4000.0, 1000.0, "batch"))
    torch.testing.assert_close(batch, plain + 1000 * (1 - ssim.mean()))
    per_quality, _, _ = rd_loss(out, x, q, Objective(3.0, 4000.0, 1000.0, "rd"))
    torch.testing.assert_close(per_quality, ((mse + 1000 * (1 - ssim) + lam * bpp) / norm).mean())
    with pytest.raises(ValueError, match="msssim_mode 'other'"):
        Objective(3.0, 4000.0, 1.0, "other")


def test_msssim_mode_is_recorded(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main([*_args(out, 1), "--lmbda", "12", "--lmbda-q0", "3000", "--msssim-weight", "5",
                 "--msssim-mode", "rd"]) == 0
    training = Codec.load(out / "weights.safetensors").metadata["training"]
    assert (training["msssim_weight"], training["msssim_mode"]) == (5.0, "rd")
    assert "mode rd" in (out / "model_card.md").read_text()


def test_msssim_is_pytorch_msssims() -> None:
    """Our fused MS-SSIM gives the reference's numbers and gradients.

    The reference is pytorch-msssim, the project's MS-SSIM library (DESIGN.md), which
    reports the figures (``training.metrics``).
    """
    import pytorch_msssim as reference  # the torch extra's
    import torch

    from gan_compress_ros.codec.nn.objective import MSSSIM_WINDOW, msssim
    torch.manual_seed(1)
    for shape in ((3, 3, 64, 64), (2, 3, 66, 75)):  # odd sides pool with padding
        x = torch.rand(shape)
        y = (x + 0.2 * torch.randn_like(x)).clamp(0, 1).requires_grad_(True)
        ours = msssim(x, y)
        ref = reference.ms_ssim(x, y, data_range=1.0, win_size=MSSSIM_WINDOW,
                                size_average=False)
        torch.testing.assert_close(ours, ref)
        (grad_ours,) = torch.autograd.grad(ours.sum(), y)
        (grad_ref,) = torch.autograd.grad(ref.sum(), y)
        torch.testing.assert_close(grad_ours, grad_ref)
