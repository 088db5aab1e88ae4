"""gan-compress-train --finetune: footage in time order, outputs, payload safety, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from testkit.bags import write_rosbag1, write_rosbag2
from testkit.files import DATA, read_photos

from gan_compress_ros.codec import BitstreamError, Codec
from gan_compress_ros.image import fit
from gan_compress_ros.tools.train import main
from gan_compress_ros.training import camera
from gan_compress_ros.training.data import load_balanced
from gan_compress_ros.training.finetune import GENERAL_SAMPLE
from gan_compress_ros.training.trainer import TrainConfig, Trainer

#: A variable-rate model small enough to train in a test (the bundled one is the real start).
TINY = {"channels": 8, "latent_channels": 4, "context_hidden": 8}


@pytest.fixture(scope="module")
def tiny_init(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Weights of a tiny variable-rate codec: the starting point of the runs here."""
    out = tmp_path_factory.mktemp("init")
    Trainer(TrainConfig(data=[str(DATA / "train")], val=[str(DATA / "val")], out=str(out),
                        preset="compact2", preset_overrides=TINY, lmbda=12.0, lmbda_q0=3000.0,
                        steps=2, batch=2, threads=1, checkpoint_every=0)).train()
    return out / "weights.safetensors"


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    """Ten 96x128 frames of one scene, the view drifting right (a slow pan)."""
    photo = read_photos(DATA / "val")[0]
    return np.stack([np.ascontiguousarray(photo[40:136, 4 * i:4 * i + 128]) for i in range(10)])


def _run(args: list[str], init: Path, out: Path) -> int:
    return main(["--finetune", *args, "--init", str(init), "--out", str(out), "--batch", "2",
                 "--threads", "1", "--eval-frames", "2"])


def test_footage_holds_out_the_last_fifth_in_time_order(tmp_path: Path, clip: np.ndarray) -> None:
    bag = write_rosbag2(tmp_path / "bag", clip)
    sequences = camera.load_footage([str(bag)])
    early, late = camera.split_footage(sequences)
    assert [len(s.frames) for s in early] == [8] and [len(s.frames) for s in late] == [2]
    np.testing.assert_array_equal(late[0].views[0], fit(clip[8], "crop"))
    assert camera.camera_eval_frames(late).shape == (6, 64, 64, 3)  # view + 1/2 + 1/4 each


def test_finetune_writes_weights_that_work_and_refuse_other_models(
        tmp_path: Path, tiny_init: Path, clip: np.ndarray, capsys) -> None:
    bag = write_rosbag1(tmp_path / "cam.bag", clip)  # also holds a camera_info topic
    out = tmp_path / "tuned"
    assert _run(["--data", str(bag), "--steps", "3", "--val", str(DATA / "val"), "--export"],
                tiny_init, out) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["steps"] == 3 and "camera" in summary and "general" in summary
    assert "BD-rate on the camera's later frames" in captured.err
    tuned = Codec.load(out / "weights.safetensors")
    start = Codec.load(tiny_init)
    assert tuned.model_id == summary["model_id"] != start.model_id
    frames = camera.camera_eval_frames(camera.load_footage([str(bag)]))[:2]
    payloads = tuned.encode(frames, quality=0.5)
    assert tuned.decode(payloads).shape == frames.shape
    with pytest.raises(BitstreamError) as refused:
        start.decode(payloads)
    message = str(refused.value)
    # the header keeps the id's last byte (its tag); where two ids end alike, the check byte
    # (which covers the whole id) refuses the payload instead
    named = f"id ends in {tuned.model_id[2:]}" if tuned.model_id[2:] != start.model_id[2:] \
        else "from other weights whose id ends like"
    assert named in message and start.model_id in message and "\n" not in message
    exported = Codec.load(out / "onnx", backend="onnxruntime")
    assert exported.model_id == tuned.model_id
    assert exported.decode(payloads).shape == frames.shape
    card = (out / "model_card.md").read_text()
    assert f"model id {tuned.model_id}" in card and "same file" in card
    assert "held out" in card and "BD-rate" in card
    meta = tuned.metadata["training"]
    assert meta["train_frames"] == 8 and meta["held_out_frames"] == 2
    assert meta["init_model_id"] == start.model_id
    assert meta["general"] == [str(GENERAL_SAMPLE)]  # the shipped sample, mixed in by default


def test_the_shipped_general_sample_loads_and_may_be_redistributed() -> None:
    images, _ = load_balanced([str(GENERAL_SAMPLE)], 1, progress=False)
    assert len(images) >= 150 and {im.shape for im in images} == {(96, 96, 3)}
    sources = (GENERAL_SAMPLE / "SOURCES.md").read_text()
    licences = [line.split("|")[2].strip() for line in sources.splitlines()
                if line.startswith("| ") and not line.startswith(("| photo", "| ---"))]
    assert licences and all(lic.startswith(("CC0", "Apache-2.0")) for lic in licences)


def test_no_general_trains_on_the_camera_alone(tmp_path: Path, tiny_init: Path,
                                               clip: np.ndarray, capsys) -> None:
    bag = write_rosbag2(tmp_path / "bag", clip)
    out = tmp_path / "tuned"
    assert _run(["--data", str(bag), "--steps", "1", "--no-general", "--no-measure"],
                tiny_init, out) == 0
    assert "forget other scenes" in capsys.readouterr().err
    assert Codec.load(out / "weights.safetensors").metadata["training"]["general"] == []


def test_the_starting_models_msssim_term_is_kept(tmp_path: Path, clip: np.ndarray) -> None:
    """The bundled model trained with an MS-SSIM term; fine-tuning it once dropped the term."""
    init = tmp_path / "init"
    Trainer(TrainConfig(data=[str(DATA / "train")], val=[str(DATA / "val")], out=str(init),
                        preset="compact2", preset_overrides=TINY, lmbda=12.0, lmbda_q0=3000.0,
                        msssim_weight=7.0, msssim_mode="rd", steps=1, batch=2, threads=1,
                        checkpoint_every=0)).train()
    out = tmp_path / "tuned"
    assert _run(["--data", str(write_rosbag2(tmp_path / "bag", clip)), "--steps", "1",
                 "--no-general", "--no-measure"], init / "weights.safetensors", out) == 0
    training = Codec.load(out / "weights.safetensors").metadata["training"]
    assert (training["msssim_weight"], training["msssim_mode"]) == (7.0, "rd")


def test_ctrl_c_saves_what_it_has(tmp_path: Path, tiny_init: Path, clip: np.ndarray,
                                  monkeypatch) -> None:
    from gan_compress_ros.training.finetune import Finetuner

    real = Finetuner.train_step

    def interrupted_at_3(self: Finetuner, x):  # Ctrl-C arrives during the fourth step
        if self.step == 3:
            raise KeyboardInterrupt
        return real(self, x)

    monkeypatch.setattr(Finetuner, "train_step", interrupted_at_3)
    bag = write_rosbag2(tmp_path / "bag", clip)
    out = tmp_path / "tuned"
    assert _run(["--data", str(bag), "--minutes", "30", "--no-measure"], tiny_init, out) == 0
    meta = Codec.load(out / "weights.safetensors").metadata["training"]
    assert meta["steps_done"] == 3 and meta["interrupted"] is True
    assert "Ctrl-C" in (out / "model_card.md").read_text()


def _bad_bag(tmp_path: Path, clip: np.ndarray) -> list[str]:
    return [str(write_rosbag1(tmp_path / "cam.bag", clip[:3])), "--topic",
            "/camera/camera_info"]


@pytest.mark.parametrize("case, expected", [
    ("empty", "no frames in"),
    ("garbage", "cannot read as a bag"),
    ("not_image", "not sensor_msgs/msg/Image"),
    ("minutes", "--minutes 0: must be > 0"),
    ("missing", "no such file or folder"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(
        tmp_path: Path, tiny_init: Path, clip: np.ndarray, capsys, case: str,
        expected: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk.bag").write_bytes(b"#ROSBAG V2.0\nnot really a bag")
    data = {"empty": [str(tmp_path / "empty")], "garbage": [str(tmp_path / "junk.bag")],
            "not_image": _bad_bag(tmp_path, clip), "minutes": [str(tmp_path / "empty"),
                                                               "--minutes", "0"],
            "missing": [str(tmp_path / "nothing_here")]}[case]
    out = tmp_path / "tuned"
    assert _run(["--data", *data, "--steps", "1"], tiny_init, out) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1, err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tuned")]


def test_out_that_holds_files_is_refused(tmp_path: Path, tiny_init: Path, capsys) -> None:
    out = tmp_path / "tuned"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert _run(["--data", str(DATA / "val"), "--steps", "1"], tiny_init, out) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"


def test_minutes_stop_the_run_by_wall_clock(tmp_path: Path, tiny_init: Path) -> None:
    out = tmp_path / "tuned"
    assert _run(["--data", str(DATA / "val"), "--minutes", "0.02", "--no-measure"],
                tiny_init, out) == 0
    meta = Codec.load(out / "weights.safetensors").metadata["training"]
    assert meta["steps_done"] >= 1 and meta["wall_time_s"] >= 1.2
    assert meta["train_frames"] == 6 and meta["held_out_frames"] == 2  # 8 photos, by name


def test_ctrl_c_while_measuring_keeps_the_weights(tmp_path: Path, tiny_init: Path,
                                                  monkeypatch) -> None:
    from gan_compress_ros.training.finetune import Finetuner

    def interrupted(self: Finetuner, weights: Path) -> dict:
        raise KeyboardInterrupt

    monkeypatch.setattr(Finetuner, "measure", interrupted)
    out = tmp_path / "tuned"
    assert _run(["--data", str(DATA / "val"), "--steps", "2"], tiny_init, out) == 0
    assert Codec.load(out / "weights.safetensors").metadata["training"]["steps_done"] == 2
    assert "Not measured" in (out / "model_card.md").read_text()
