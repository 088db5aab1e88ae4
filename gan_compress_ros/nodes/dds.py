"""What DDS needs from a process that publishes camera frames (one place for the fact).

Two Fast DDS defaults make large frames slow and fragile (measured with plain rclpy, no
codec: ``dev/soak_repro.py``; docs/benchmarks.md, "The soak's stall"):

- the shared-memory transport's 512 kB segment and 64 kB messages cut a 640x480 frame into
  15 fragments: 14 ms to deliver one between processes instead of 3, most 1920x1080 frames
  lost, and a reliable writer that stalls after about 5,000 frames;
- Kilted's rmw_fastrtps publishes synchronously, and a synchronous writer of fragmented
  frames is the one that stalls.

A camera process therefore gets the profile ``data/fastdds_large_frames.xml`` (one message
per frame over shared memory; UDP unchanged, so it still talks to every other process) and
asynchronous publishing. Both are environment variables read when rclpy initialises, set
only where the user has not chosen a value. Only the camera's side matters: the encoder
receives whole frames with its default transports.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterator
from pathlib import Path

PUBLICATION_MODE_ENV = "RMW_FASTRTPS_PUBLICATION_MODE"
PROFILES_ENV = "FASTDDS_DEFAULT_PROFILES_FILE"
ASYNCHRONOUS = "ASYNCHRONOUS"
#: Fast DDS profile of a camera process: frames up to 1920x1080 rgb8 as one message.
LARGE_FRAMES_PROFILE = Path(__file__).resolve().parent.parent / "data" / "fastdds_large_frames.xml"


def camera_environment() -> dict[str, str]:
    """The variables a camera process needs, e.g. ``Node(..., additional_env=...)`` in a launch."""
    return {PROFILES_ENV: str(LARGE_FRAMES_PROFILE), PUBLICATION_MODE_ENV: ASYNCHRONOUS}


def configure_camera_process() -> dict[str, str]:
    """Set each of ``camera_environment()`` the user has not set; the ones set here."""
    chosen = {k: v for k, v in camera_environment().items() if not os.environ.get(k)}
    os.environ.update(chosen)
    return chosen


@contextlib.contextmanager
def camera_process() -> Iterator[dict[str, str]]:
    """``configure_camera_process`` for one block, then the environment as it was.

    For a camera that lives inside a process doing other ROS work (the benchmarks' probe,
    run in a test runner): contexts made later in that process keep their own defaults.
    """
    chosen = configure_camera_process()
    try:
        yield chosen
    finally:
        for name in chosen:
            os.environ.pop(name, None)


def main() -> None:
    """``eval "$(python3 -m gan_compress_ros.nodes.dds)"``: the variables for a camera shell."""
    for name, value in camera_environment().items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
