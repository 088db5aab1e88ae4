"""Markdown sections that tools rewrite in place.

One page (docs/benchmarks.md) collects figures from several tools; each tool owns a marked
section, so none clobbers the others or the prose around them.
"""

from __future__ import annotations

import os
import platform
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def write_json(path: str | Path, data: object, indent: int = 1) -> None:
    """``data`` as JSON at ``path``, its folder made first.

    A long benchmark's results are not lost to a missing folder at its end.
    """
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent) + "\n")


def machine_line() -> str:
    """What the figures were measured on: CPU model, cores, torch and onnxruntime builds."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    runtimes = []
    for name in ("torch", "onnxruntime", "onnxruntime-gpu"):  # JetPack's is -gpu
        try:
            runtimes.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return (f"{model}, {os.cpu_count()} logical cores, Python {platform.python_version()}, "
            + ", ".join(runtimes or ["no torch or onnxruntime"]))


def update_section(path: str | Path, name: str, body: str) -> None:
    """Replace the text between ``<!-- begin NAME -->`` and ``<!-- end NAME -->`` in ``path``.

    The markers are added at the end of the file (created if missing) the first time.
    """
    path = Path(path)
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + block
    path.write_text(text.rstrip() + "\n")
