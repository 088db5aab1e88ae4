"""Frame providers for camera_source: a video file, an image folder, a webcam, a test pattern.

Each is an iterator of uint8 RGB frames that loops (files) or runs forever (webcam, pattern).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from ..image import IMAGE_SUFFIXES

SOURCES = ("pattern", "video", "folder", "webcam")


def pattern_frames(width: int = 320, height: int = 240) -> Iterator[np.ndarray]:
    """A moving test pattern: colour gradients, a bouncing disc and a frame counter."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    t = 0
    while True:
        base = np.stack([(xx + 3 * t) % width / width, yy / height,
                         0.5 + 0.5 * np.sin((xx + yy + 5 * t) / 40)], axis=-1)
        frame = (base * 255).astype(np.uint8)
        cx = int(width / 2 + width / 3 * np.sin(t / 15))
        cy = int(height / 2 + height / 3 * np.cos(t / 11))
        cv2.circle(frame, (cx, cy), height // 8, (255, 255, 255), -1)
        cv2.putText(frame, str(t), (8, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
        yield frame
        t += 1


def video_frames(path: str, loop: bool = True) -> Iterator[np.ndarray]:
    """Frames of a video file, from the start again at its end when ``loop``."""
    while True:
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            return
        count = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            count += 1
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        cap.release()
        if not loop or count == 0:
            return


def folder_frames(files: list[Path], loop: bool = True) -> Iterator[np.ndarray]:
    """The images in name order, again and again when ``loop``; ends if none can be read."""
    while True:
        count = 0
        for p in files:
            bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
            if bgr is not None:
                count += 1
                yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if not loop or count == 0:
            return


def webcam_frames(cap: cv2.VideoCapture) -> Iterator[np.ndarray]:
    """Frames of an opened webcam until it stops delivering."""
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                return
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def open_source(source: str, path: str = "", loop: bool = True) -> Iterator[np.ndarray]:
    """The frame iterator for ``source`` (pattern, video, folder, webcam).

    Everything that can be checked up front is checked here, so a bad path fails at start
    with a clear ValueError instead of inside a running node.
    """
    if source == "pattern":
        return pattern_frames()
    if source == "video":
        cap = cv2.VideoCapture(path) if Path(path).is_file() else None
        if cap is None or not cap.isOpened() or not cap.read()[0]:
            raise ValueError(f"cannot read video {path!r}")
        cap.release()
        return video_frames(path, loop)
    if source == "folder":
        files = sorted(p for p in Path(path).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"no images in folder {path!r}")
        return folder_frames(files, loop)
    if source == "webcam":
        try:
            index = int(path or 0)
        except ValueError:
            raise ValueError(f"webcam path must be an index, got {path!r}") from None
        cap = cv2.VideoCapture(index)
        if not cap.isOpened():
            raise ValueError(f"cannot open webcam {index}")
        return webcam_frames(cap)
    raise ValueError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
