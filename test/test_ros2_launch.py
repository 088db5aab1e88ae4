"""`ros2 launch gan_compress_ros pipeline.launch.py` for real: colcon build, then the launch.

The ``ros2`` command comes from ``../shared/ros2-cli`` (pip wheels of launch, launch_ros and
ros2cli), installed into this environment when missing; the tier skips where that folder is
absent. Topics, namespace and remapping, a parameter set at run time, a failing node and
SIGINT are checked on the launched processes.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sensor_msgs.msg import CompressedImage, Image
from testkit.colcon import ROS2_CLI, build, colcon, ros2_env
from testkit.ros import spin_until, stamp_ns


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A built workspace and the environment `ros2 launch` runs in."""
    if not ROS2_CLI.is_dir():
        pytest.skip(f"{ROS2_CLI} is absent: no `ros2` command line to launch with")
    if colcon() is None:
        pytest.skip("colcon is not installed (make setup installs colcon-core and colcon-ros)")
    if importlib.util.find_spec("ros2launch") is None:
        proc = subprocess.run([str(ROS2_CLI / "install"), sys.executable], capture_output=True,
                              text=True, timeout=600)
        importlib.invalidate_caches()
        assert importlib.util.find_spec("ros2launch") is not None, \
            "ros2-cli install did not provide ros2launch: " + proc.stderr[-2000:]
    ws = tmp_path_factory.mktemp("launch_ws")
    proc = build(ws)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return ws, ros2_env(ws)


def _ros2_param(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """``ros2 param ...`` without the daemon, with time for discovery (ros2-cli README)."""
    ros2 = str(Path(sys.executable).parent / "ros2")
    return subprocess.run([ros2, "param", *args, "--no-daemon", "--spin-time", "5"], env=env,
                          capture_output=True, text=True, timeout=60)


class Launch:
    """`ros2 launch` in its own session, so SIGINT reaches it as from a terminal."""

    def __init__(self, env: dict[str, str], *args: str,
                 file: str = "pipeline.launch.py") -> None:
        ros2 = str(Path(sys.executable).parent / "ros2")
        self.proc = subprocess.Popen([ros2, "launch", "gan_compress_ros", file, *args],
                                     env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)

    def interrupt(self, timeout: float = 30) -> tuple[int, str]:
        """SIGINT to the launch's process group; (exit code, output)."""
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.wait(timeout)

    def wait(self, timeout: float) -> tuple[int, str]:
        """Wait for the launch to end (killed after ``timeout``); (exit code, output)."""
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            out, _ = self.proc.communicate()
            return -9, out
        return self.proc.returncode, out


def test_pipeline_launch_namespace_remap_param_set_and_sigint(ros, workspace) -> None:
    _, env = workspace
    launch = Launch(env, "start_source:=true", "namespace:=/lt1",
                    "input_topic:=/lt_cam/image_raw")
    latents: list[tuple[int, int]] = []  # (camera stamp ns, payload bytes)
    decoded: list[Image] = []
    subs = [ros.create_subscription(CompressedImage, "/lt_cam/image_raw/gan",
                                    lambda m: latents.append((stamp_ns(m), len(m.data))), 10),
            ros.create_subscription(Image, "/lt1/image_decoded", decoded.append, 10)]
    try:
        # latents beside the remapped input, decoded frames in the launch's namespace
        assert spin_until(ros, lambda: len(decoded) >= 5, 90.0), "no decoded frames"
        assert (decoded[-1].width, decoded[-1].height) == (64, 64)
        got = _ros2_param(env, "get", "/lt1/encoder", "weights")
        assert got.returncode == 0 and "mid" in got.stdout, got.stdout + got.stderr
        before = sum(n for _, n in latents[-5:]) / 5
        got = _ros2_param(env, "set", "/lt1/encoder", "quality", "0")
        assert got.returncode == 0 and "successful" in got.stdout, got.stdout + got.stderr
        # frames stamped after the change (the probe did not spin during the command, so
        # older latents are still queued for it)
        changed = time.time_ns() + 200_000_000

        def later() -> list[int]:
            return [n for stamp, n in latents if stamp > changed]
        assert spin_until(ros, lambda: len(later()) >= 5, 30.0)
        after = sum(later()[:5]) / 5
        assert after < before, (before, after)
        refused = _ros2_param(env, "set", "/lt1/encoder", "resize_mode", "bogus")
        assert "use one of" in refused.stdout + refused.stderr
    finally:
        for sub in subs:
            ros.destroy_subscription(sub)
        start = time.monotonic()
        code, out = launch.interrupt()
    assert code == 0, out[-3000:]
    assert time.monotonic() - start < 20, out[-3000:]
    assert "Traceback" not in out, out[-3000:]


def test_a_bad_weights_file_fails_the_launch_within_seconds(workspace) -> None:
    _, env = workspace
    start = time.monotonic()
    code, out = Launch(env, "start_source:=true",
                       "weights:=/nonexistent/w.safetensors").wait(timeout=60)
    assert code != 0, out[-3000:]
    assert time.monotonic() - start < 40, out[-3000:]
    for node in ("encoder_node", "decoder_node"):  # one clear line per cause
        assert out.count(f"{node}: cannot start: cannot load weights") == 1, out[-3000:]
    assert "Traceback" not in out, out[-3000:]


def test_a_bad_parameter_fails_the_launch(workspace, tmp_path: Path) -> None:
    _, env = workspace
    code, out = Launch(env, "weights:=low", "backend:=tensorflow").wait(timeout=60)
    assert code != 0, out[-3000:]
    assert "bad codec parameters" in out or "bad parameter backend" in out, out[-3000:]


def test_link_launch_files_carry_latents_over_udp(ros, workspace, tmp_path: Path) -> None:
    """link_send.launch.py and link_receive.launch.py over UDP on localhost, decoder included.

    Authenticated with one key file (``key_file:=``), the receiver taking its peer only.
    """
    import socket

    import numpy as np

    from gan_compress_ros.codec import Codec
    from gan_compress_ros.link.auth import keygen

    _, env = workspace
    key = keygen(tmp_path / "link.key")
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    receive = Launch(env, "namespace:=/lbase", f"udp:=127.0.0.1:{port}", f"key_file:={key}",
                     "peer:=127.0.0.1", file="link_receive.launch.py")
    send = Launch(env, "namespace:=/lrobot", f"udp:=127.0.0.1:{port}", f"key_file:={key}",
                  file="link_send.launch.py")
    payload = Codec.load().encode(np.full((64, 64, 3), 90, np.uint8))[0]
    pub = ros.create_publisher(CompressedImage, "/lrobot/image_raw/gan", 10)
    decoded: list[Image] = []
    sub = ros.create_subscription(Image, "/lbase/image_decoded", decoded.append, 10)
    try:
        stamps = iter(range(1_800_000_000, 1_900_000_000))

        def once() -> bool:  # with a key, each frame needs a newer stamp
            msg = CompressedImage(format="gan_compress", data=payload)
            msg.header.stamp.sec = next(stamps)
            msg.header.frame_id = "cam_link"
            pub.publish(msg)
            return spin_until(ros, lambda: bool(decoded), 0.5)
        assert spin_until(ros, once, 60.0), "nothing came across the link"
        assert decoded[-1].header.frame_id == "cam_link"
    finally:
        ros.destroy_publisher(pub)
        ros.destroy_subscription(sub)
        codes = [launch.interrupt() for launch in (send, receive)]
    assert all(code == 0 for code, _ in codes), [out[-2000:] for _, out in codes]
    assert all("not authenticated" not in out for _, out in codes)
    assert "authenticated" in codes[0][1] and "(authenticated)" in codes[1][1]
