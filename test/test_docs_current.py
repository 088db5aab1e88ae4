"""Docs that went stale once, checked against what they describe."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _texts() -> list[Path]:
    docs = [p for p in (ROOT / "docs").rglob("*") if p.suffix in (".md", ".json")]
    return [ROOT / "README.md", *docs]


def test_no_machine_paths_in_docs() -> None:
    """Commands in docs use paths relative to the project root (../shared/..., runs/...)."""
    for path in _texts():
        found = re.findall(r"(?<![\w.])/(?:work|home|root)/[\w./-]*", path.read_text())
        assert not found, (path.relative_to(ROOT), found[:3])


def test_targets_table_quotes_the_latest_pipeline_run() -> None:
    """docs/benchmarks.md's Targets row gives the 640x480 figures its own run table gives."""
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    target = next(line for line in text.splitlines()
                  if line.startswith("| pipeline latency at 30 fps"))
    latest = re.search(r"^\| 640x480 \| \d+ of \d+ \| ([\d.]+) / ([\d.]+) / [\d.]+ \|", text,
                       re.MULTILINE)
    assert latest, "no 640x480 run table with p50 / p99 / max"
    assert f"{latest[1]} / {latest[2]} ms" in target, target
    readme = (ROOT / "README.md").read_text()
    assert f"({latest[1]} ms p50, {latest[2]} ms p99" in readme


def test_ablation_help_matches_the_bundled_model() -> None:
    """The bundled model is one variable-rate model: low/mid/high are its quality presets."""
    import contextlib
    import io

    from gan_compress_ros.tools.ablation import parse_args

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        parse_args(["--help"])
    text = " ".join(out.getvalue().split())
    assert "e.g. low mid high" not in text and "quality presets" in text


def test_recorded_commands_are_relative(tmp_path: Path) -> None:
    from gan_compress_ros.tools.command import recorded

    root = tmp_path / "project"
    line = recorded("gan-compress-fuzz", ["--data", str(tmp_path / "shared" / "d"),
                                          f"--out={root / 'docs'}", "/dev/ttyUSB0"], root)
    assert line == "gan-compress-fuzz --data ../shared/d --out=docs /dev/ttyUSB0"


def test_card_quotes_its_gap_to_the_model_it_replaced() -> None:
    """codec.md's BD-rate against the default before it is what the two committed sweeps give."""
    from gan_compress_ros.training.rd_eval import bd_rate, neural_curve, read_csv

    card = (ROOT / "gan_compress_ros" / "weights" / "codec.md").read_text()
    quoted = re.search(r"against the default\s+before it \((\w+)\)\s+([+-][\d.]+)%\s+/\s+"
                       r"([+-][\d.]+)%", card)
    assert quoted, "codec.md no longer quotes its BD-rate against the default before it"
    # the card names the two sweeps it compared (measured with the same payload header)
    command = re.search(r"python dev/bd_between\.py\s+(docs/results/\w+/rd\.csv)\s+"
                        rf"docs/results/{quoted[1]}/rd\.csv", card)
    assert command, "codec.md no longer gives the command behind that BD-rate"
    sweeps = [ROOT / command[1], ROOT / "docs" / "results" / quoted[1] / "rd.csv"]
    test, anchor = (neural_curve(read_csv(p), str(p))[1] for p in sweeps)
    assert float(quoted[2]) == pytest.approx(bd_rate(test, anchor, "psnr"), abs=0.05)
    assert float(quoted[3]) == pytest.approx(bd_rate(test, anchor, "ms_ssim"), abs=0.05)


def _cells(line: str) -> int:
    return line.strip().replace("\\|", "").count("|") - 1


def test_tables_have_one_width() -> None:
    """Every markdown table's header, rule and rows have the same number of cells.

    A row pasted into the wrong table once turned docs/results.md's BD-rate header into nine
    cells over a four-cell rule.
    """
    texts = [*_texts(), *(ROOT / "gan_compress_ros" / "weights").glob("*.md")]
    for path in texts:
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if not re.fullmatch(r"\s*\|(\s*:?-+:?\s*\|)+\s*", line):
                continue
            width = _cells(line)
            rows = [lines[i - 1]]
            for row in lines[i + 1:]:
                if not row.strip().startswith("|"):
                    break
                rows.append(row)
            bad = [r.strip()[:60] for r in rows if _cells(r) != width]
            assert not bad, (path.relative_to(ROOT), i + 1, width, bad[:3])


def test_trunk_progress_table_is_current() -> None:
    """docs/results.md's table of the run's endings is what dev/trunk_progress.py measures."""
    spec = importlib.util.spec_from_file_location("trunk_progress",
                                                  ROOT / "dev" / "trunk_progress.py")
    trunk_progress = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(trunk_progress)
    rows = trunk_progress.measure(trunk_progress.TRUNK, trunk_progress.ANCHORS)
    assert len(rows) >= 2
    text = (ROOT / "docs" / "results.md").read_text()
    missing = [line for line in trunk_progress.table(rows) if line not in text]
    assert not missing, missing


def test_readme_tables_are_the_generated_ones() -> None:
    """The README's links and link-bridge tables are the benchmarks' sections, not copies.

    ``gan-compress-bench links|link --out docs/benchmarks.md README.md`` writes both; a table
    edited by hand in one file, or a rerun that wrote only the other, shows here.
    """
    def section(path: Path, name: str) -> str:
        found = re.search(rf"<!-- begin {name} -->.*?<!-- end {name} -->", path.read_text(),
                          re.S)
        assert found, f"{path.name} has no '{name}' section"
        return found[0]

    for name in ("links", "link"):
        assert section(ROOT / "README.md", name) == \
            section(ROOT / "docs" / "benchmarks.md", name), name
