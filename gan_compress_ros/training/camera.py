"""One camera's footage for fine-tuning: frames in time order, a later hold-out, node views.

A robot's codec sees whole frames through the encoder node's resize (``image.fit``), so the
fine-tuning samples are those views plus square crops at a few scales (close views of the
same scene). The footage is held out by time: the last ``holdout`` of each video or bag
(still images count as one sequence, in name order), so the measured gain is on frames the
training never saw, later in the same scene, as a robot meets them after the update.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..extras import need
from ..image import IMAGE_SUFFIXES, SIZE, fit
from .data import MULTISCALE, shrink
from .sources import BAG_SUFFIXES, IMAGE_TYPES, _is_rosbag2_dir, find_sources, iter_frames

#: Fraction of the footage, by time, held out for the before/after measurement.
HOLDOUT = 0.2
#: Frames kept per video or bag at most (every other one is dropped while reading above it).
MAX_FRAMES = 1000
#: Frames are kept with their shorter side at most this long (1/4-scale crops stay sharp).
KEEP_SIDE = 256
#: Scales (fractions of the shorter side) of the training crops besides the whole frame.
CROP_SCALES = (0.25, 1.0)


class FootageError(ValueError):
    """The footage cannot be used (no frames, unreadable bag, a topic that is not an image)."""


def bag_topic(path: Path, topic: str | None) -> str:
    """The image topic of bag ``path`` to read: ``topic``, or its only image topic."""
    AnyReader = need("rosbags.highlevel").AnyReader  # noqa: N806 - a class
    try:
        with AnyReader([path]) as reader:
            types = {c.topic: c.msgtype for c in reader.connections}
    except Exception as exc:  # rosbags raises its own error types for every kind of damage
        raise FootageError(f"{path}: cannot read as a bag ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})") \
            from None
    images = sorted(t for t, m in types.items() if m in IMAGE_TYPES)
    if topic:
        if topic not in types:
            raise FootageError(f"{path}: no topic {topic} (image topics: "
                               f"{', '.join(images) or 'none'})")
        if types[topic] not in IMAGE_TYPES:
            raise FootageError(f"{path}: topic {topic} is {types[topic]}, not "
                               "sensor_msgs/msg/Image or CompressedImage")
        return topic
    if not images:
        raise FootageError(f"{path}: no image topic (topics: "
                           f"{', '.join(sorted(types)) or 'none'})")
    if len(images) > 1:
        raise FootageError(f"{path}: image topics {', '.join(images)}: choose one with --topic")
    return images[0]


@dataclass
class Sequence:
    """Frames of one video, bag or image folder in time order: kept size and node view."""

    name: str
    frames: list[np.ndarray] = field(default_factory=list)
    views: list[np.ndarray] = field(default_factory=list)
    stride: int = 1

    def add(self, rgb: np.ndarray, resize_mode: str, max_frames: int) -> None:
        """Append a frame; above ``max_frames``, drop every other frame (stride doubles)."""
        self.frames.append(shrink(rgb, KEEP_SIDE))
        self.views.append(fit(rgb, resize_mode, fast=True))
        if len(self.frames) > max_frames:
            self.frames, self.views = self.frames[::2], self.views[::2]
            self.stride *= 2

    def split(self, holdout: float) -> tuple[Sequence, Sequence]:
        """Earlier and later part (the later ``holdout`` fraction, at least one frame)."""
        n = len(self.frames)
        cut = n - max(1, int(round(n * holdout))) if n > 1 else n
        return (Sequence(self.name, self.frames[:cut], self.views[:cut], self.stride),
                Sequence(self.name, self.frames[cut:], self.views[cut:], self.stride))


def _sequences(paths: list[str], topic: str | None) -> list[tuple[str, list[Path], str | None]]:
    """(name, files, bag topic) per sequence: each video and bag, all still images as one."""
    try:
        sources = find_sources(list(paths))
    except FileNotFoundError as exc:
        raise FootageError(str(exc)) from None
    stills = [p for p in sources if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    out = []
    for path in sources:
        if path in stills:
            continue
        is_bag = _is_rosbag2_dir(path) or path.suffix.lower() in BAG_SUFFIXES
        out.append((path.name, [path], bag_topic(path, topic) if is_bag else None))
    if stills:
        out.append((f"{len(stills)} images", stills, None))
    return out


def load_footage(paths: list[str], topic: str | None = None, resize_mode: str = "crop",
                 stride: int = 1, max_frames: int = MAX_FRAMES) -> list[Sequence]:
    """Every frame of the camera footage in ``paths``, as sequences in time order.

    FootageError (one line) when a path is missing, a bag unreadable, a topic not an image,
    or no frame at all is found.
    """
    sequences = []
    for name, files, bag in _sequences(paths, topic):
        seq = Sequence(name)
        for path in files:
            try:
                for _, rgb in iter_frames(path, stride, [bag] if bag else None):
                    if min(rgb.shape[:2]) >= 8:
                        seq.add(rgb, resize_mode, max_frames)
            except FootageError:
                raise
            except (ValueError, OSError) as exc:
                raise FootageError(str(exc).splitlines()[0]) from None
        if seq.frames:
            sequences.append(seq)
    if not sequences:
        raise FootageError(f"no frames in {', '.join(paths)} (image files, videos or bags "
                           "with an image topic)")
    return sequences


def split_footage(sequences: list[Sequence], holdout: float = HOLDOUT) -> tuple[
        list[Sequence], list[Sequence]]:
    """Earlier (training) and later (held-out) parts of every sequence."""
    if sum(len(s.frames) for s in sequences) < 2:
        raise FootageError("need at least 2 frames: the later ones measure the gain")
    parts = [s.split(holdout) for s in sequences]
    return [a for a, _ in parts if a.frames], [b for _, b in parts if b.frames]


def camera_eval_frames(sequences: list[Sequence], limit: int = 0) -> np.ndarray:
    """Held-out evaluation frames: each frame's node view, then centre squares at 1/2, 1/4.

    The node view is what the robot sends; the smaller squares are the close views the
    general validation set also holds (``data.MULTISCALE``). ``limit`` keeps that many
    frames, evenly spaced (0: all).
    """
    frames = [f for s in sequences for f in s.frames]
    views = [v for s in sequences for v in s.views]
    if limit and len(frames) > limit:
        keep = np.linspace(0, len(frames) - 1, limit).round().astype(int)
        frames, views = [frames[i] for i in keep], [views[i] for i in keep]
    out = []
    for frame, view in zip(frames, views, strict=True):
        out.append(view)
        h, w = frame.shape[:2]
        for scale in MULTISCALE[1:]:
            side = max(SIZE // 4, int(round(min(h, w) * scale)))
            y0, x0 = (h - side) // 2, (w - side) // 2
            out.append(cv2.resize(frame[y0:y0 + side, x0:x0 + side], (SIZE, SIZE),
                                  interpolation=cv2.INTER_AREA if side > SIZE
                                  else cv2.INTER_LINEAR))
    return np.stack(out) if out else np.zeros((0, SIZE, SIZE, 3), np.uint8)


class CameraSampler:
    """Training samples as the encoder node sees the camera: whole-frame views and crops.

    Half the samples are node views of whole frames (exactly what the robot codes), half are
    squares of ``CROP_SCALES`` of the shorter side at random places. No flips: the camera's
    scene has one orientation.
    """

    def __init__(self, sequences: list[Sequence], seed: int = 0, whole: float = 0.5) -> None:
        self.frames = [f for s in sequences for f in s.frames]
        self.views = [v for s in sequences for v in s.views]
        if not self.frames:
            raise FootageError("no training frames")
        self.whole = whole
        self.rng = np.random.default_rng(seed)

    def crop(self) -> np.ndarray:
        """One 64x64 RGB sample."""
        i = int(self.rng.integers(len(self.frames)))
        if self.rng.random() < self.whole:
            return self.views[i]
        frame = self.frames[i]
        h, w = frame.shape[:2]
        short = min(h, w)
        lo = min(1.0, max(CROP_SCALES[0], SIZE / 4 / short))
        side = max(8, int(round(short * self.rng.uniform(lo, CROP_SCALES[1]))))
        y0, x0 = int(self.rng.integers(h - side + 1)), int(self.rng.integers(w - side + 1))
        crop = frame[y0:y0 + side, x0:x0 + side]
        interp = cv2.INTER_AREA if side > SIZE else cv2.INTER_LINEAR
        return cv2.resize(crop, (SIZE, SIZE), interpolation=interp)

    def batch(self, n: int) -> np.ndarray:
        """``n`` samples stacked as uint8 (n, 64, 64, 3)."""
        return np.stack([self.crop() for _ in range(n)])
