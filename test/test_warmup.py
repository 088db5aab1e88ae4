"""Resuming from weights alone (optimizer state lost, as on a new machine) ramps the lr up."""

from __future__ import annotations

from pathlib import Path

from testkit.files import DATA

from gan_compress_ros.training.trainer import TrainConfig, Trainer

TINY = {"channels": 8, "latent_channels": 8, "context_hidden": 8, "slices": 2}


def _config(out: Path, **kw: object) -> TrainConfig:
    return TrainConfig(data=[str(DATA / "train")], val=[str(DATA / "val")], out=str(out),
                       preset="compact2", preset_overrides=TINY, lmbda=12.0, lmbda_q0=3000.0,
                       batch=2, threads=1, checkpoint_every=0, max_val=2, **kw)  # type: ignore


def _record_lrs(trainer: Trainer) -> list[float]:
    """The generator's lr at each optimizer step ``trainer`` takes from now on."""
    seen: list[float] = []
    step = trainer.opt_g.step

    def record(*args: object, **kwargs: object) -> object:
        seen.append(trainer.opt_g.param_groups[0]["lr"])
        return step(*args, **kwargs)

    trainer.opt_g.step = record  # type: ignore[method-assign]
    return seen


def test_warmup_ramps_the_lr_from_init_and_not_after_a_resume(tmp_path: Path) -> None:
    Trainer(_config(tmp_path / "a", steps=2)).train()
    weights = tmp_path / "a" / "weights.safetensors"
    trainer = Trainer(_config(tmp_path / "b", steps=3, warmup=4, init=str(weights)))
    seen = _record_lrs(trainer)
    trainer.train()
    assert seen == [trainer.config.lr * k / 4 for k in (1, 2, 3)]
    assert trainer.optimizer_fresh
    trainer.save_checkpoint()
    resumed = Trainer(_config(tmp_path / "b", steps=4, warmup=4, init=str(weights)))
    assert resumed.resume() and not resumed.optimizer_fresh  # Adam's state came back


def test_a_restarted_run_keeps_the_lineage_of_the_weights_it_started_from(tmp_path: Path) -> None:
    """Trunk restarted from the bundled file, then an ending resumed from its checkpoint.

    The final weights must still say what the first run learned from and how, or the model
    card could not show that the bundled model learned from scratch on commercial data.
    """
    from gan_compress_ros.codec import Codec

    Trainer(_config(tmp_path / "a", steps=2)).train()
    first = Codec.load(tmp_path / "a" / "weights.safetensors", backend="torch")
    weights = tmp_path / "a" / "weights.safetensors"
    trunk = Trainer(_config(tmp_path / "b", steps=2, warmup=4, init=str(weights)))
    trunk.train()
    trunk.save_checkpoint()
    ending = Trainer(_config(tmp_path / "b", steps=3))  # resumed without --init
    assert ending.resume()
    ending.train()
    meta = ending.finish()["training"]
    (ancestor,) = meta["ancestry"]
    assert ancestor["model_id"] == first.model_id and ancestor["init"] == ""
    assert ancestor["data"] == [str(DATA / "train")] and ancestor["steps_done"] == 2
    card = (tmp_path / "b" / "model_card.md").read_text()
    assert f"ancestor model {first.model_id} (2 steps" in card
    assert f"Initialised from: model {first.model_id}'s weights (an earlier command" in card
    # restarted again from those weights: the middle run names where it started, not scratch
    second = tmp_path / "b" / "weights.safetensors"
    Trainer(_config(tmp_path / "c", steps=2, warmup=4, init=str(second))).train()
    mid = Codec.load(second, backend="torch").model_id
    card = (tmp_path / "c" / "model_card.md").read_text()
    assert f"ancestor model {first.model_id} (2 steps" in card and "from scratch)" in card
    assert (f"ancestor model {mid} (3 steps, data {DATA / 'train'}; initialised from model "
            f"{first.model_id}'s weights") in card


def test_a_slim_checkpoint_resumes_with_a_fresh_optimizer(tmp_path: Path) -> None:
    """``dev/trunk_snapshot.py``'s snapshot: the model in fp16, the step, no Adam state.

    The trunk resumes from it on a new machine: same step and records, the model within
    fp16 rounding, and the lr ramped up again from that step.
    """
    import torch

    from gan_compress_ros.training.trainer import slim_checkpoint

    trunk = Trainer(_config(tmp_path / "a", steps=3))
    trunk.train()
    trunk.save_checkpoint()
    full = tmp_path / "a" / "checkpoint.pt"
    (tmp_path / "b").mkdir()
    assert slim_checkpoint(full, tmp_path / "b" / "checkpoint.pt") == 3
    slim = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert "optimizer" not in slim and "disc" not in slim
    assert all(v.dtype == torch.float16 for v in slim["model"].values()
               if v.is_floating_point())
    assert (tmp_path / "b" / "checkpoint.pt").stat().st_size < 0.6 * full.stat().st_size
    resumed = Trainer(_config(tmp_path / "b", steps=5, warmup=4))
    assert resumed.resume() and resumed.optimizer_fresh and resumed.step == 3
    assert resumed.history == [trunk.config.command, "(resumed at step 3)"]
    for key, value in trunk.model.state_dict().items():
        if value.is_floating_point():
            assert torch.allclose(resumed.model.state_dict()[key], value, rtol=2 ** -10,
                                  atol=1e-7), key
    seen = _record_lrs(resumed)
    resumed.train()
    assert seen == [resumed.config.lr * k / 4 for k in (1, 2)]
    assert resumed.step == 5


def test_a_slim_checkpoint_past_the_adversarial_start_is_refused(tmp_path: Path) -> None:
    """It has no discriminator: the adversarial term would start from an untrained one."""
    import pytest

    from gan_compress_ros.training.trainer import slim_checkpoint

    run = Trainer(_config(tmp_path / "a", steps=2))
    run.train()
    run.save_checkpoint()
    (tmp_path / "b").mkdir()
    slim_checkpoint(tmp_path / "a" / "checkpoint.pt", tmp_path / "b" / "checkpoint.pt")
    with pytest.raises(ValueError, match="untrained discriminator"):
        Trainer(_config(tmp_path / "b", steps=4, beta=1.0, gan_start=1)).resume()
    assert Trainer(_config(tmp_path / "b", steps=4, beta=1.0, gan_start=3)).resume()


def test_a_paused_run_does_not_count_the_pause(tmp_path: Path, monkeypatch) -> None:
    """``kill -STOP`` between two steps: the wall time and ``time_limit`` leave it out.

    Benchmarks pause the trunk; until 2026-12-07 the cards counted every pause.
    """
    import types

    from gan_compress_ros.training import trainer as trainer_module

    clock = {"now": 1000.0, "calls": 0}

    def monotonic() -> float:  # 0.1 s per call, and an hour's pause after the 4th call
        clock["calls"] += 1
        clock["now"] += 3600.0 if clock["calls"] == 4 else 0.1
        return clock["now"]

    monkeypatch.setattr(trainer_module, "time", types.SimpleNamespace(monotonic=monotonic))
    run = Trainer(_config(tmp_path / "a", steps=4, time_limit=1800.0))
    run.train()
    assert run.step == 4  # the pause did not use up the time limit
    assert run.elapsed < 10.0, run.elapsed


def test_a_resumed_run_logs_each_step_once(tmp_path: Path) -> None:
    """Rows logged after the last checkpoint are dropped on resume: those steps run again."""
    run = Trainer(_config(tmp_path / "a", steps=3))
    run.train()  # checkpoint and a log row at step 3
    log = tmp_path / "a" / "train_log.csv"
    with log.open("a") as f:  # as if it had gone on to log step 6 before being stopped
        f.write("6,1.0,1.0,1.0,1.0,nan,nan\n")
    resumed = Trainer(_config(tmp_path / "a", steps=6))
    assert resumed.resume() and resumed.step == 3
    resumed.train()
    steps = [line.split(",")[0] for line in log.read_text().splitlines()[1:]]
    assert steps == ["3", "6"], steps
