"""A colcon workspace holding this package, built as a ROS user builds it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = ["package.xml", "setup.py", "setup.cfg", "resource", "gan_compress_ros", "launch",
           "config"]
#: The pip-installable ``ros2`` command line (launch, run, topic, param) beside the checkout.
ROS2_CLI = ROOT.parent / "shared" / "ros2-cli"


def colcon() -> str | None:
    """The colcon executable of this environment, None if not installed."""
    found = shutil.which("colcon") or str(Path(sys.executable).parent / "colcon")
    return found if Path(found).exists() else None


def build(ws: Path) -> subprocess.CompletedProcess:
    """Copy the package into ``ws/src`` and run ``colcon build`` there."""
    src = ws / "src" / "gan_compress_ros"
    src.mkdir(parents=True)
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    return subprocess.run([str(colcon()), "build", "--base-paths", "src", "--event-handlers",
                           "console_direct-"], cwd=ws, env=env, capture_output=True,
                          text=True, timeout=300)


def ros2_env(ws: Path) -> dict[str, str]:
    """What ``. install/setup.sh`` gives, plus the venv's ROS packages (ros2-cli README)."""
    venv = Path(sys.executable).parent.parent
    install = ws / "install" / "gan_compress_ros"
    site = install / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / \
        "site-packages"
    env = dict(os.environ)
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    env["AMENT_PREFIX_PATH"] = f"{install}:{venv}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    env["VIRTUAL_ENV"] = str(venv)
    env["PYTHONUNBUFFERED"] = "1"
    return env
