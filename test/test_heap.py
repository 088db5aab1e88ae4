"""nodes/heap.py: glibc takes the thresholds; elsewhere the call is a no-op that says so."""

import ctypes.util
import platform

import pytest

from gan_compress_ros.nodes import heap


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_thresholds() -> None:
    assert heap.keep_frames_in_heap() is True
    # a 1920x1080 rgb8 frame and the largest common camera frame lie below the threshold
    assert 3840 * 2160 * 3 < heap.MMAP_THRESHOLD < heap.TRIM_THRESHOLD


def test_no_c_library_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert heap.keep_frames_in_heap() is False
