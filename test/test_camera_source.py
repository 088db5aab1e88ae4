"""camera_source's frame providers: every source, and bad paths caught at start."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from testkit.files import SAMPLE as CLIP

from gan_compress_ros.nodes.frames import open_source


def test_pattern_moves() -> None:
    frames = open_source("pattern")
    a, b = next(frames), next(frames)
    assert a.shape == (240, 320, 3) and not np.array_equal(a, b)


def test_folder_loops(tmp_path: Path) -> None:
    files = sorted(CLIP.glob("*.jpg"))[:3]
    for f in files:
        (tmp_path / f.name).write_bytes(f.read_bytes())
    frames = [next(it) for it in [open_source("folder", str(tmp_path))] for _ in range(7)]
    assert np.array_equal(frames[0], frames[3]) and np.array_equal(frames[1], frames[4])
    assert len(list(open_source("folder", str(tmp_path), loop=False))) == 3


def test_video_source(tmp_path: Path) -> None:
    path = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(5):
        writer.write(np.full((48, 64, 3), i * 40, np.uint8))
    writer.release()
    assert len(list(open_source("video", str(path), loop=False))) == 5


@pytest.mark.parametrize("source, path, reason", [
    ("folder", "/no/such/folder", "no images"),
    ("video", "/no/such.avi", "cannot read video"),
    ("webcam", "front", "index"),
    ("drone", "", "unknown source"),
])
def test_bad_sources_fail_at_start(source: str, path: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        open_source(source, path)


def test_unreadable_folder_ends_instead_of_spinning(tmp_path: Path) -> None:
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    assert list(open_source("folder", str(tmp_path))) == []
