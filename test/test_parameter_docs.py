"""What users read about the parameters matches the table the nodes declare from.

The README's tables, ``NODE --help`` and ``ros2 param describe`` (the descriptors) come
from ``nodes/parameters.py``; words that went stale there are caught here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gan_compress_ros.nodes.declare import _descriptor, checked
from gan_compress_ros.nodes.parameters import (
    BY_NAME,
    MAX_OUTPUT_SIZE,
    NODES,
    README_MARKS,
    readme_section,
)

ROOT = Path(__file__).resolve().parent.parent
EXECUTABLES = {"encoder_node": "encoder", "decoder_node": "decoder",
               "camera_source": "camera_source", "link_send": "link_send",
               "link_receive": "link_receive"}


def test_readme_tables_are_the_parameter_table() -> None:
    """Names, defaults, ranges, run-time flags and descriptions, every node."""
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(README_MARKS[0]), readme.index(README_MARKS[1])
    assert readme[start:end + len(README_MARKS[1])] == readme_section(), \
        "README parameter tables are stale: run python -m gan_compress_ros.nodes.parameters"
    for node, params in NODES.items():
        for p in params:
            assert f"| `{p.name}` | " in readme[start:end], (node, p.name)


def test_ranges_show_in_param_describe() -> None:
    """Every bounded number has Min/Max (quality: -1 to 1, the gap refused by the check)."""
    quality = _descriptor(BY_NAME["quality"])
    assert [(r.from_value, r.to_value) for r in quality.floating_point_range] == [(-1.0, 1.0)]
    assert quality.additional_constraints == "0 to 1, or -1"
    with pytest.raises(ValueError, match="must be >= 0"):
        checked("quality", -0.5)
    for params in NODES.values():
        for p in params:
            d = _descriptor(p)
            if p.low is not None and p.high is not None and not isinstance(p.default, bool):
                assert d.floating_point_range or d.integer_range, p.name


def test_decoder_output_size_is_bounded() -> None:
    assert checked("output_size", MAX_OUTPUT_SIZE) == MAX_OUTPUT_SIZE == 1024
    with pytest.raises(ValueError, match="must be <= 1024"):
        checked("output_size", 4096)
    assert _descriptor(BY_NAME["output_size"]).integer_range[0].to_value == 1024


def test_backend_description_says_what_auto_takes() -> None:
    """The bundled model runs on onnxruntime under auto (codec.api.choose_backend)."""
    from gan_compress_ros.codec.api import choose_backend, onnxruntime_installed

    text = BY_NAME["backend"].description
    assert "onnxruntime for the bundled model on cpu" in text
    if onnxruntime_installed():
        assert choose_backend("auto", None, "cpu") == "onnxruntime"


@pytest.mark.parametrize("executable", sorted(EXECUTABLES))
def test_node_executables_answer_help(executable: str) -> None:
    """``--help`` prints the parameters and exits 0 without starting ROS."""
    out = subprocess.run([sys.executable, "-m", f"gan_compress_ros.nodes.{executable}",
                          "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"usage: {executable} ")
    for p in NODES[EXECUTABLES[executable]]:
        assert f"\n  {p.name} (default " in out.stdout, p.name


def test_node_executables_refuse_unknown_arguments() -> None:
    out = subprocess.run([sys.executable, "-m", "gan_compress_ros.nodes.decoder_node",
                          "--output-size", "96"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "-p output_size:=VALUE" in out.stderr
