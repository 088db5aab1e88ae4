"""gan-compress-bench prints its table (figures are reported, never asserted)."""

from pathlib import Path

from gan_compress_ros.tools.bench import main


def test_bench_prints_a_table(trained_weights: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench.md"
    assert main(["--weights", str(trained_weights), "--threads", "1", "--repeats", "3",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| 1 |" in text and "JPEG q10" in text and out.read_text() == text.rstrip("\n") + "\n"
