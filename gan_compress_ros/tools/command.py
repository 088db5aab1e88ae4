"""Command lines as docs, reports and weights metadata record them.

A reader reruns a recorded command from the project root, so a path under the folder the
tool ran in, or in a folder beside it, is written relative to that folder; other
absolute paths (``/dev/ttyUSB0``) stay as they are.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path


def _relative(arg: str, cwd: Path) -> str:
    if "=" in arg and arg.startswith("-"):  # --flag=/path
        flag, _, value = arg.partition("=")
        return f"{flag}={_relative(value, cwd)}"
    if not arg.startswith("/"):
        return arg
    try:
        common = os.path.commonpath([arg, str(cwd)])
    except ValueError:
        return arg
    # within the working folder or a folder beside it (a data set next to the checkout)
    if common in ("/", "") or len(Path(common).parts) < len(cwd.parts) - 1:
        return arg
    return os.path.relpath(arg, cwd)


def recorded(prog: str, argv: list[str], cwd: Path | None = None) -> str:
    """``prog`` and ``argv`` as one shell-quoted line, machine paths made relative."""
    cwd = Path(cwd or Path.cwd()).resolve()
    return shlex.join([prog, *(_relative(a, cwd) for a in argv)])
