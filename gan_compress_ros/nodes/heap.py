"""Large camera frames from the heap, not from fresh pages (glibc's allocator).

glibc serves every allocation above its mmap threshold (128 kB to start, 32 MiB at most)
with new pages from the kernel and returns them on free. A process that takes camera frames
allocates two frame-sized buffers per message (rmw's message, then rclpy's ``array``): at
1920x1080 that is 2 x 6.2 MB of page faults and zeroing per frame. Measured with plain
rclpy (``dev/soak_repro.py``, docs/benchmarks.md): a 1080p frame took 13 ms from publish
to the subscriber's callback, 4.5 ms with the subscriber's large buffers kept in its heap.
The publisher's side gained nothing. So a node that subscribes to camera frames raises
the thresholds once at start; the heap then holds a few frames' worth of memory.
"""

from __future__ import annotations

import ctypes
import ctypes.util

#: glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Allocations below this come from the heap: a 3840x2160 rgb8 frame is 24.9 MB.
MMAP_THRESHOLD = 64 << 20
#: Free memory at the heap's top kept for the next frames instead of given back.
TRIM_THRESHOLD = 128 << 20


def keep_frames_in_heap() -> bool:
    """Raise glibc's mmap and trim thresholds; False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl, macOS: no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
