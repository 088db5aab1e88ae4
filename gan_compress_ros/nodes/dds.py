"""What DDS needs from a process that publishes camera frames (one place for the fact).

Fast DDS, as rmw_fastrtps runs it on Kilted, publishes synchronously by default. A reliable
writer of large frames (900 kB at 640x480) then stalls after about 5,000 samples: from then
on its readers, even ones that join later, get a small fraction of the frames (measured
with plain rclpy, no codec: ``dev/soak_repro.py``, docs/benchmarks.md "The soak's stall").
Asynchronous publishing does not stall. The variable is read when rclpy initialises, so a
process that publishes camera frames calls ``publish_frames_asynchronously`` before that.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

PUBLICATION_MODE_ENV = "RMW_FASTRTPS_PUBLICATION_MODE"
ASYNCHRONOUS = "ASYNCHRONOUS"


def publish_frames_asynchronously() -> bool:
    """Ask rmw_fastrtps for asynchronous publishing unless the user chose a mode; whether set."""
    if os.environ.get(PUBLICATION_MODE_ENV):
        return False
    os.environ[PUBLICATION_MODE_ENV] = ASYNCHRONOUS
    return True


@contextlib.contextmanager
def frames_published_asynchronously() -> Iterator[None]:
    """``publish_frames_asynchronously`` for one block, then the environment as it was.

    For a camera that lives inside a process doing other ROS work (the benchmarks' probe,
    run in a test runner): contexts made later in that process keep their own default.
    """
    before = os.environ.get(PUBLICATION_MODE_ENV)
    publish_frames_asynchronously()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(PUBLICATION_MODE_ENV, None)
        else:
            os.environ[PUBLICATION_MODE_ENV] = before
