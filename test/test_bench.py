"""gan-compress-bench prints its tables (figures are reported, never asserted)."""

from pathlib import Path

import pytest

from gan_compress_ros.tools.bench import main


def test_codec_bench_writes_its_section(trained_weights: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench.md"
    out.write_text("# Benchmarks\n\nprose stays\n")
    # ``codec`` is also the default; bundled weights have an export, so onnxruntime is timed
    for argv in (["codec"], ["--weights", str(trained_weights), "--no-eager"]):
        assert main([*argv, "--threads", "1", "--repeats", "3", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert "| 1 |" in text and "JPEG q10" in text and "1920x1080" in text
    assert text.count("| 1 | onnxruntime fp32 |") == 1 and "| 1 | torch eager |" in text
    assert "no onnxruntime rows" in captured.err  # the trained weights have no export
    page = out.read_text()
    assert page.startswith("# Benchmarks\n\nprose stays\n")
    assert page.count("<!-- begin codec -->") == 1 and "codec / JPEG time" in page


def test_bad_camera_size_is_refused(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["pipeline", "--size", "640by480"])
    assert exc.value.code == 2 and "WIDTHxHEIGHT" in capsys.readouterr().err


def test_temporal_bench_on_the_bundled_clip(tmp_path: Path, capsys) -> None:
    """``gan-compress-bench temporal`` without the shared data: the bundled clip alone."""
    import json

    out, figures = tmp_path / "t.md", tmp_path / "t.json"
    assert main(["temporal", "--shared", str(tmp_path / "none"), "--out", str(out),
                 "--json", str(figures)]) == 0
    capsys.readouterr()
    result = json.loads(figures.read_text())["sample clip"]
    assert result["frames"] == 48 and result["loss_10"]["exact"]
    assert result["temporal"]["bytes"] < 0.5 * result["intra"]["bytes"]
    assert "| sample clip | 48 |" in out.read_text()


def test_stage_bench_writes_its_section(tmp_path: Path, capsys) -> None:
    """``gan-compress-bench stages``: every stage at every size, the node's total their sum."""
    out = tmp_path / "s.md"
    assert main(["stages", "--repeats", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("| stage")}
    for stage in ("deserialise Image", "fit, two-step (node)",
                  "encode (onnxruntime, 1 thread)", "node total"):
        figures = [float(v) for v in rows[stage].split("|")[2:-1]]
        assert len(figures) == 3 and all(v >= 0 for v in figures), rows[stage]
    assert "6,220,848" in rows["message bytes"]  # 1920x1080 rgb8 and its header
    assert out.read_text().count("<!-- begin stages -->") == 1


def test_help_lists_every_subcommand(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    for name in ("codec", "rate", "pipeline", "soak", "temporal", "startup", "stages", "links",
                 "link"):
        assert f"\n    {name} " in out, name


def test_unknown_subcommand_is_an_argparse_error(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bogus"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "gan-compress-bench: error: argument COMMAND: invalid " \
        "choice: 'bogus'" in err
