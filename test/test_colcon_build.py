"""The package builds as a ROS 2 workspace would build it: ``colcon build`` (ament_python)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.colcon import build, colcon

ROOT = Path(__file__).resolve().parent.parent


def _console_scripts() -> list[str]:
    text = (ROOT / "setup.py").read_text()
    return re.findall(r'"([\w-]+) = gan_compress_ros\.', text)


@pytest.fixture(scope="module")
def install_space(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if colcon() is None:
        pytest.skip("colcon is not installed (make setup installs colcon-core and colcon-ros)")
    ws = tmp_path_factory.mktemp("ws")
    proc = build(ws)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return ws / "install" / "gan_compress_ros"


def test_ament_index_marker(install_space: Path) -> None:
    assert (install_space / "share/ament_index/resource_index/packages/gan_compress_ros").is_file()


def test_share_holds_manifest_launch_and_config(install_space: Path) -> None:
    share = install_space / "share/gan_compress_ros"
    assert (share / "package.xml").read_text() == (ROOT / "package.xml").read_text()
    assert (share / "launch").is_dir() and any((share / "launch").iterdir())
    assert (share / "config").is_dir() and any((share / "config").iterdir())


def test_executables_under_lib_package(install_space: Path) -> None:
    scripts = _console_scripts()
    assert scripts, "setup.py declares no console scripts"
    for name in scripts:
        exe = install_space / "lib/gan_compress_ros" / name
        assert exe.is_file() and os.access(exe, os.X_OK), exe


def test_installed_package_runs(install_space: Path) -> None:
    site = next((install_space / "lib").glob("python3*/site-packages"))
    env = dict(os.environ, PYTHONPATH=str(site))
    proc = subprocess.run([sys.executable, str(install_space / "lib/gan_compress_ros"
                                                / "gan-compress-train"), "--help"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "gan-compress-train" in proc.stdout, proc.stderr
    proc = subprocess.run([sys.executable, "-c", "import gan_compress_ros.codec as c; "
                           "print(c.__file__)"], env=env, capture_output=True, text=True,
                          timeout=120, cwd="/")
    assert proc.returncode == 0 and proc.stdout.startswith(str(site)), proc.stdout + proc.stderr


def test_bundled_weights_and_sample_clip_are_installed(install_space: Path) -> None:
    site = next((install_space / "lib").glob("python3*/site-packages")) / "gan_compress_ros"
    bundled = sorted(p.name for p in (ROOT / "gan_compress_ros/weights").glob("*.safetensors"))
    for name in bundled:
        assert (site / "weights" / name).is_file()
        assert (install_space / "share/gan_compress_ros/weights" / name).is_file()
    export = site / "weights/onnx/codec"
    assert {p.name for p in export.iterdir()} >= {"codec.json", "encoder.onnx", "decoder.onnx",
                                                  "entropy.safetensors"}
    clip = sorted(p.name for p in (ROOT / "gan_compress_ros/data/sample_clip").glob("*.jpg"))
    assert clip and sorted(p.name for p in (site / "data/sample_clip").glob("*.jpg")) == clip
