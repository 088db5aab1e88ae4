"""Encoder effort: searched latents decode with today's decoder on both backends.

They never lose to the single pass in the real objective, and keep byte caps.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from gan_compress_ros.codec import Codec
from gan_compress_ros.codec.choices import MAX_EFFORT
from gan_compress_ros.codec.nn.objective import Objective
from gan_compress_ros.training.data import crops_of, load_frames

DATA = Path(__file__).parent / "data" / "val"


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return crops_of(load_frames([DATA], progress=False))[:6]


@pytest.fixture(scope="module")
def codecs() -> dict[str, Codec]:
    return {b: Codec.load(backend=b) for b in ("torch", "onnxruntime")}


def _objective(codec: Codec, frames: np.ndarray, payloads: list[bytes], quality: float
               ) -> np.ndarray:
    """Per-frame trained objective of payloads as the decoder sees them: whole bytes, uint8.

    MSE (0-255) + the model's MS-SSIM term + lambda * bpp (``Objective``).
    """
    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.float32) / 255.0).permute(0, 3, 1, 2)

    objective = Objective.of_metadata(codec.metadata)
    assert objective.msssim_weight > 0  # the bundled model's term is part of the check
    lam = objective.lmbda(torch.full((len(frames),), codec.quality_byte(quality)))
    bits = torch.tensor([8.0 * len(p) for p in payloads])
    with torch.no_grad():
        loss = objective.loss(tensor(codec.decode(payloads)), tensor(frames), bits, lam)
    return loss.double().numpy()


@pytest.mark.slow
@pytest.mark.parametrize("quality", [0.1, 0.8])
def test_effort_never_loses_to_the_single_pass(codecs: dict[str, Codec], frames: np.ndarray,
                                               quality: float) -> None:
    codec = codecs["torch"]
    single = codec.encode(frames, quality=quality)
    searched = codec.encode(frames, quality=quality, effort=2)
    assert searched != single  # the search changed something on these frames
    before = _objective(codec, frames, single, quality)
    after = _objective(codec, frames, searched, quality)
    # the payload header is the same for both; the search compares bodies and the pixels
    # the torch decoder makes, so the decoded objective is never worse
    assert np.all(after <= before + 1e-6), (before, after)
    assert after.mean() < before.mean()


@pytest.mark.slow
def test_greedy_moves_lower_the_float_objective(codecs: dict[str, Codec], frames: np.ndarray,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The greedy pass keeps a +-1 move only where the frame's float objective falls.

    The next round is ranked with the moves the first one rejected marked.
    """
    from gan_compress_ros.codec.nn import effort

    monkeypatch.setattr(effort, "ROUND_TRIALS", 8)  # 16 trials: two rounds
    marked: list[int] = []
    ranked = effort._ranked

    def spy(grad: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
        marked.append(int(rejected.sum()))
        return ranked(grad, rejected)

    monkeypatch.setattr(effort, "_ranked", spy)

    codec = codecs["torch"]
    model = codec._torch_model()
    coder = codec.coder
    qbytes = np.full(len(frames), codec.quality_byte(0.8), np.int64)
    start = np.round(coder.gained(codec.analyse(frames), qbytes)).astype(np.int64)
    x = torch.from_numpy(frames.astype(np.float32) / 255.0).permute(0, 3, 1, 2)
    q = torch.from_numpy(qbytes)
    gdec = torch.from_numpy(coder.model.gain_dec[qbytes].astype(np.float32))[:, :, None, None]
    objective = Objective.of_metadata(codec.metadata)
    lam = objective.lmbda(q)

    def loss(latent: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return effort._float_loss(model, x, torch.from_numpy(latent.astype(np.float32)), q,
                                      gdec, lam, objective).numpy()

    moved = effort._greedy(model, x, start, q, gdec, lam, objective, trials=16)
    changed = np.abs(moved - start).reshape(len(frames), -1).sum(1)
    assert changed.max() <= 16 and changed.sum() > 0  # one +-1 move per trial at most
    assert np.all(loss(moved) <= loss(start) + 1e-3)
    assert loss(moved).mean() < loss(start).mean()
    # the first round's rejections (of its 8 trials per frame) reach the second round
    assert len(marked) == 2 and marked[0] == 0 and 0 < marked[1] <= 8 * len(frames)


def test_greedy_ranking_puts_rejected_moves_last() -> None:
    """Strongest gradient first; an element whose move was rejected only after all others."""
    from gan_compress_ros.codec.nn import effort

    grad = torch.tensor([[0.5, -3.0, 1.0, -2.0], [0.1, 0.2, -0.3, 0.0]])
    rejected = torch.tensor([[False, True, False, False], [False, False, False, False]])
    order = effort._ranked(grad, rejected)
    assert order[0].tolist() == [3, 2, 0, 1]
    assert order[1].tolist() == [2, 1, 0, 3]


@pytest.mark.slow
def test_the_search_runs_the_greedy_pass_from_effort_2(codecs: dict[str, Codec],
                                                       frames: np.ndarray,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from gan_compress_ros.codec.nn import effort

    calls: list[int] = []
    greedy = effort._greedy

    def spy(*args: Any, **kwargs: Any) -> np.ndarray:
        calls.append(kwargs["trials"])
        return greedy(*args, **kwargs)

    monkeypatch.setattr(effort, "_greedy", spy)
    codec = codecs["torch"]
    codec.encode(frames[:2], quality=0.5, effort=1)
    assert calls == []
    codec.encode(frames[:2], quality=0.5, effort=2)
    assert calls == [effort.GREEDY_TRIALS[2]] and effort.GREEDY_TRIALS[2] > 0


@pytest.mark.slow
def test_searched_payloads_decode_on_both_backends(codecs: dict[str, Codec],
                                                   frames: np.ndarray) -> None:
    for name, codec in codecs.items():
        payloads = codec.encode(frames, quality=0.4, effort=1)
        fresh = {b: Codec.load(backend=b).decode(payloads) for b in ("torch", "onnxruntime")}
        # the integer latent decodes bit-exactly; float syntheses differ by a grey level
        diff = np.abs(fresh["torch"].astype(int) - fresh["onnxruntime"].astype(int))
        assert diff.max() <= 2, name
        assert fresh["torch"].shape == frames.shape


@pytest.mark.slow
def test_byte_caps_hold_at_any_effort(codecs: dict[str, Codec], frames: np.ndarray) -> None:
    codec = codecs["onnxruntime"]
    for cap in (150, 260):
        payloads = codec.encode(frames, max_bytes=cap, effort=2)
        assert max(len(p) for p in payloads) <= cap
        assert codec.decode(payloads).shape == frames.shape


@pytest.mark.parametrize("bad", [-1, MAX_EFFORT + 1, 1.5, True, "3"])
def test_bad_effort_is_refused(codecs: dict[str, Codec], frames: np.ndarray,
                               bad: object) -> None:
    with pytest.raises(ValueError, match="effort"):
        codecs["torch"].encode(frames, effort=bad)  # type: ignore[arg-type]


def test_effort_zero_is_the_single_pass(codecs: dict[str, Codec], frames: np.ndarray) -> None:
    codec = codecs["onnxruntime"]
    assert codec.encode(frames, quality=0.5, effort=0) == codec.encode(frames, quality=0.5)


def test_onnxruntime_only_install_says_so_in_one_line() -> None:
    script = ("import sys\nsys.modules['torch'] = None\n"
              "import numpy as np\nfrom gan_compress_ros.codec import Codec\n"
              "c = Codec.load()\nassert c.backend == 'onnxruntime'\n"
              "c.encode(np.zeros((64, 64, 3), np.uint8))\n"
              "try:\n    c.encode(np.zeros((64, 64, 3), np.uint8), effort=3)\n"
              "except ValueError as exc:\n    print(exc)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = proc.stdout.strip()
    assert "\n" not in line and "PyTorch" in line and "effort 0" in line


@pytest.mark.slow
def test_effort_bench_writes_its_table(tmp_path: Path) -> None:
    from gan_compress_ros.tools.bench import main
    from gan_compress_ros.training.rd_eval import bd_rate, read_csv

    out, csv = tmp_path / "results.md", tmp_path / "effort.csv"
    out.write_text("# Results\n")
    assert main(["effort", "--data", str(DATA), "--efforts", "1", "--max-frames", "2",
                 "--time-frames", "1", "--frame-stride", "1", "--out", str(out),
                 "--csv", str(csv)]) == 0
    text = out.read_text()
    assert text.startswith("# Results") and "<!-- begin effort -->" in text
    rows = [line for line in text.splitlines() if line.startswith("| 0 |") or
            line.startswith("| 1 |")]
    assert len(rows) == 2 and rows[0].split("|")[4].strip() == "+0.0%"
    curves = read_csv(csv)  # the table's BD-rate, recomputed from the written points
    assert sorted(curves) == ["effort 0", "effort 1"]
    assert all(len(pts) == 5 and pts[0].frames == 2 for pts in curves.values())
    recomputed = bd_rate(curves["effort 1"], curves["effort 0"], "psnr")
    assert rows[1].split("|")[4].strip() == f"{recomputed:+.1f}%"


@pytest.mark.slow
def test_effort_bench_compares_with_anchors_on_the_same_frames(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--anchors``: BD-rate of each effort against WebP measured on the very same frames."""
    from gan_compress_ros.tools.bench import main
    from gan_compress_ros.training.rd_eval import classic_curve, write_csv

    every = crops_of(load_frames([DATA], 1, progress=False))
    csv = tmp_path / "rd.csv"
    write_csv(classic_curve("WebP", every), csv)
    args = ["effort", "--data", str(DATA), "--efforts", "1", "--time-frames", "1",
            "--frame-stride", "1", "--anchors", str(csv)]
    assert main([*args, "--max-frames", str(len(every))]) == 0
    out = capsys.readouterr().out
    assert "against WebP, PSNR / MS-SSIM" in out
    row = next(line for line in out.splitlines() if line.startswith("| 1 |"))
    assert row.count("%") == 4  # against effort 0 and against WebP
    assert main([*args, "--max-frames", "2"]) == 2  # other frames: refused, not compared
    assert "same" in capsys.readouterr().err


@pytest.mark.slow
def test_effort_bench_measures_weights_without_an_export(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A user's file ships no ONNX export: the bench writes a temporary one, not an error."""
    from gan_compress_ros.tools.bench import main

    weights = tmp_path / "mine.safetensors"  # the bundled model's file, as a user's copy
    shutil.copyfile(Codec.load(backend="torch").path, weights)
    assert main(["effort", "--weights", str(weights), "--data", str(DATA), "--efforts", "1",
                 "--max-frames", "2", "--time-frames", "1", "--frame-stride", "1"]) == 0
    captured = capsys.readouterr()
    assert f"exporting {weights} to ONNX" in captured.err
    row = next(line for line in captured.out.splitlines() if line.startswith("| 1 |"))
    assert float(row.split("|")[8]) > 0  # the onnxruntime column was timed


def test_effort_bench_refuses_an_export_as_weights(capsys: pytest.CaptureFixture[str]) -> None:
    from gan_compress_ros.codec.bundled import MODEL, ONNX_DIR
    from gan_compress_ros.tools.bench import main

    assert main(["effort", "--weights", str(ONNX_DIR / MODEL), "--data", str(DATA),
                 "--max-frames", "2", "--frame-stride", "1"]) == 2
    assert "runs on torch" in capsys.readouterr().err


def test_an_export_alone_says_what_effort_needs(frames: np.ndarray, codec: Codec) -> None:
    """An export directory has no gradients: one line naming the fix, then search_with."""
    from gan_compress_ros.codec.bundled import MODEL, ONNX_DIR

    export = Codec.load(ONNX_DIR / MODEL, backend="onnxruntime")
    with pytest.raises(ValueError, match="needs the .safetensors weights"):
        export.encode(frames[:1], effort=1)
    with pytest.raises(ValueError, match="search_with"):
        export.search_with(codec)  # another model
    export.search_with(Codec.load(backend="torch"))
    assert len(export.encode(frames[:1], effort=1)) == 1


def test_effort_bench_refuses_bad_levels(capsys: pytest.CaptureFixture[str]) -> None:
    from gan_compress_ros.tools.bench import main

    assert main(["effort", "--data", str(DATA), "--efforts", "12"]) == 2
    assert "0..9" in capsys.readouterr().err


def test_bag_effort_option(tmp_path: Path, frames: np.ndarray,
                           capsys: pytest.CaptureFixture[str]) -> None:
    from testkit.bags import write_rosbag2

    from gan_compress_ros.tools.bag import main

    src = write_rosbag2(tmp_path / "in", frames[:2], "mcap", topic="/cam/image")
    assert main(["compress", str(src), str(tmp_path / "bad"), "--effort", "12"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gan-compress-bag: --effort 12: ") and err.count("\n") == 1, err
    assert not (tmp_path / "bad").exists()
    assert main(["compress", str(src), str(tmp_path / "out"), "--effort", "1"]) == 0
    assert (tmp_path / "out").is_dir()
