"""The fuzz tool and the markdown sections the tools write into docs/benchmarks.md."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from gan_compress_ros.tools import fuzz
from gan_compress_ros.tools.report import update_section


def test_update_section_keeps_the_rest(tmp_path: Path) -> None:
    page = tmp_path / "b.md"
    page.write_text("# Title\n\nprose\n")
    update_section(page, "a", "first")
    update_section(page, "b", "other")
    update_section(page, "a", "second")
    text = page.read_text()
    assert text.startswith("# Title\n\nprose\n") and "second" in text and "first" not in text
    assert text.index("begin a") < text.index("begin b") and "other" in text


def test_fuzz_tool_reports_every_case(trained_weights: Path, tmp_path: Path) -> None:
    out, data = tmp_path / "r.md", str(Path(__file__).parent / "data" / "val")
    assert fuzz.main(["--weights", str(trained_weights), "--cases", "3000", "--data", data,
                      "--out", str(out), "--json", str(tmp_path / "r.json")]) == 0
    text = out.read_text()
    assert "3,000 cases" in text and "**0 broke the contract**" in text
    import json

    result = json.loads((tmp_path / "r.json").read_text())
    assert sum(sum(c.values()) for c in result["counts"].values()) == 3000
    assert result["counts"]["valid_header_mutated_body"].get("decoded", 0) > 0


def test_fuzz_tool_catches_a_contract_break(trained_weights: Path, monkeypatch) -> None:
    """A decoder that raises anything but BitstreamError is reported (the tool can fail)."""
    from gan_compress_ros.codec import Codec

    codec = Codec.load(str(trained_weights))
    seeds = codec.encode(__import__("numpy").zeros((2, 64, 64, 3), "uint8"))

    def bad_decode(payloads):
        raise IndexError("boom")
    monkeypatch.setattr(codec, "decode", bad_decode)
    result = fuzz.fuzz(codec, seeds, 50, seed=1, progress=False)
    assert sum(c.get("broken", 0) for c in result["counts"].values()) == 50
    assert "IndexError: boom" in result["failures"][0]["outcome"]


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None,
                    reason="atheris is not installed on this platform")
def test_fuzz_tool_atheris_engine(trained_weights: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    assert fuzz.main(["--weights", str(trained_weights), "--cases", "1500", "--engine",
                      "atheris", "--data", str(Path(__file__).parent / "data" / "val"),
                      "--out", str(out)]) == 0
    # libFuzzer's -runs counts its own runs; it may call the target again for an input it
    # re-checks (1,518 calls for -runs=1500 in one CI run), and the report counts every call.
    found = re.search(r"([\d,]+) cases \(atheris", out.read_text())
    assert found, "the report names no atheris case count"
    assert 1500 <= int(found.group(1).replace(",", "")) <= 1600
