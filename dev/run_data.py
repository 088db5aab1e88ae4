"""The from-scratch run's data folders for dev scripts, read from ``dev/trunk_flags.sh``.

The shell scripts that train and measure the bundled run source that file; Python dev tools
read the same arrays here, so the folder lists live in one place. Paths are relative to the
project root, under ``../shared/datasets`` (dev machines only).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

FLAGS = Path(__file__).resolve().parent / "trunk_flags.sh"


def _array(name: str) -> list[str]:
    """The elements of bash array ``name`` after sourcing ``trunk_flags.sh``."""
    script = f'source "$1"; printf "%s\\n" "${{{name}[@]}}"'
    out = subprocess.run(["bash", "-c", script, "bash", str(FLAGS)], check=True,
                         capture_output=True, text=True, cwd=FLAGS.parent.parent).stdout
    return out.splitlines()


def general_val() -> list[str]:
    """The general validation set's folders (docs/results.md): the run's --val."""
    return _array("GENERAL_VAL")


def train_folders() -> list[str]:
    """The run's training folders (commercial-use data only): RUN_DATA's --data list."""
    flags = _array("RUN_DATA")
    start = flags.index("--data") + 1
    end = next((i for i in range(start, len(flags)) if flags[i].startswith("--")), len(flags))
    return flags[start:end]


if __name__ == "__main__":
    print("general_val:", general_val())
    print("train:", train_folders())
