"""Training and evaluation samples: 64x64 RGB crops from images, videos and bags.

Training takes random resized crops (several scales down to 64x64) and horizontal flips, so a
few thousand photos give many distinct samples; evaluation takes a centre crop resized to
64x64, so its numbers are repeatable. Without a validation set, a deterministic split (by a
hash of the file name and, for videos and bags, the block of 50 frames) holds some out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from tqdm import tqdm

from ..image import IMAGE_SUFFIXES, RESIZE_MODES, SIZE, center_crop, fit  # noqa: F401
from .sources import find_sources, iter_frames

#: Images are stored with their shorter side at most this long (keeps memory bounded).
MAX_SIDE = 320
#: Neighbouring video/bag frames stay on the same side of the split, in blocks of this many.
SPLIT_BLOCK = 50


def find_images(roots: Iterable[str | Path]) -> list[Path]:
    """Still-image files below ``roots`` (recursive), sorted."""
    return [p for p in find_sources(list(roots)) if p.suffix.lower() in IMAGE_SUFFIXES]


def shrink(image: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """``image`` with its shorter side at most ``max_side`` (area interpolation)."""
    short = min(image.shape[:2])
    if short <= max_side:
        return image
    scale = max_side / short
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _held_out(key: str, fraction: float) -> bool:
    name, _, index = key.rpartition("#")
    block = f"{name}#{int(index) // SPLIT_BLOCK}" if index.isdigit() and name \
        else Path(key).name
    h = int(hashlib.sha1(block.encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < fraction


def load_frames(roots: Iterable[str | Path], stride: int = 1, topics: list[str] | None = None,
                holdout: float = 0.0, held: bool = False,
                progress: bool = True) -> list[np.ndarray]:
    """Frames of every source below ``roots``, shrunk.

    With ``holdout``, only the training side (``held=False``) or the held-out side
    (``held=True``) of the deterministic split.
    """
    frames = []
    sources = find_sources(list(roots))
    for path in tqdm(sources, desc="loading data", unit="file", disable=not progress or None,
                     mininterval=2.0):
        for key, rgb in iter_frames(path, stride, topics):
            if min(rgb.shape[:2]) < 8:
                continue
            if holdout and _held_out(key, holdout) != held:
                continue
            frames.append(shrink(rgb))
    return frames


def load_balanced(roots: Iterable[str | Path], stride: int = 1,
                  topics: list[str] | None = None, holdout: float = 0.0,
                  progress: bool = True) -> tuple[list[np.ndarray], np.ndarray]:
    """Training frames of every root and weights that give each root an equal share.

    Without balancing, a root of 2,000 bird photos drowns one of 100 city photos.
    """
    images: list[np.ndarray] = []
    weights: list[float] = []
    roots = list(roots)
    for root in roots:
        frames = load_frames([root], stride, topics, holdout, held=False, progress=progress)
        images += frames
        weights += [1.0 / len(frames)] * len(frames) if frames else []
    return images, np.asarray(weights)


def eval_crops(images: list[np.ndarray]) -> np.ndarray:
    """Centre crops of ``images`` as uint8 (N, 64, 64, 3)."""
    frames = [center_crop(im) for im in images]
    return np.stack(frames) if frames else np.zeros((0, SIZE, SIZE, 3), np.uint8)


#: Sides of the multi-scale evaluation crops, as fractions of an image's shorter side: the
#: whole frame (as the encoder node's default ``crop`` resize sees it), then 1/2 and 1/4.
MULTISCALE = (1.0, 0.5, 0.25)
#: How evaluation frames are cut from images: ``centre`` (one centre crop of each) or
#: ``multiscale`` (a centre crop at each scale of :data:`MULTISCALE`).
CROP_MODES = ("multiscale", "centre")


def multiscale_crops(images: list[np.ndarray]) -> np.ndarray:
    """Centre squares of ``images`` at each scale of :data:`MULTISCALE`, resized to 64x64.

    Robot cameras see whole scenes shrunk to 64x64 as well as close views; a set of only
    whole frames (or only centre crops) measures one of the two.
    """
    frames = []
    for image in images:
        h, w = image.shape[:2]
        short = min(h, w)
        for scale in MULTISCALE:
            side = max(SIZE // 4, int(round(short * scale)))
            y0, x0 = (h - side) // 2, (w - side) // 2
            frames.append(center_crop(image[y0:y0 + side, x0:x0 + side]))
    return np.stack(frames) if frames else np.zeros((0, SIZE, SIZE, 3), np.uint8)


def crops_of(images: list[np.ndarray], crops: str = "multiscale") -> np.ndarray:
    """Evaluation frames of ``images`` in the way ``crops`` (one of :data:`CROP_MODES`) names."""
    if crops not in CROP_MODES:
        raise ValueError(f"crops must be one of {', '.join(CROP_MODES)}, not {crops!r}")
    return multiscale_crops(images) if crops == "multiscale" else eval_crops(images)


def eval_frames(roots: Iterable[str | Path], stride: int = 1,
                crops: str = "centre") -> np.ndarray:
    """Evaluation frames of every frame below ``roots`` (centre crops unless ``crops`` says)."""
    return crops_of(load_frames(roots, stride, progress=False), crops)


class CropSampler:
    """Random resized 64x64 crops with flips from a list of in-memory images."""

    def __init__(self, images: list[np.ndarray], min_scale: float = 0.25, seed: int = 0,
                 weights: np.ndarray | None = None) -> None:
        if not images:
            raise ValueError("no training images")
        self.images = images
        self.min_scale = min_scale
        self.rng = np.random.default_rng(seed)
        #: Probability of drawing each image (None: uniform).
        self.p = None if weights is None else np.asarray(weights, float) / np.sum(weights)

    def crop(self) -> np.ndarray:
        """One random 64x64 RGB crop."""
        index = self.rng.integers(len(self.images)) if self.p is None else \
            self.rng.choice(len(self.images), p=self.p)
        image = self.images[index]
        h, w = image.shape[:2]
        short = min(h, w)
        lo = min(1.0, max(self.min_scale, SIZE / short))
        side = max(8, int(round(short * self.rng.uniform(lo, 1.0))))
        y0 = self.rng.integers(h - side + 1)
        x0 = self.rng.integers(w - side + 1)
        crop = image[y0:y0 + side, x0:x0 + side]
        interp = cv2.INTER_AREA if side > SIZE else cv2.INTER_LINEAR
        crop = cv2.resize(crop, (SIZE, SIZE), interpolation=interp)
        if self.rng.random() < 0.5:
            crop = crop[:, ::-1]
        return crop

    def batch(self, n: int) -> np.ndarray:
        """``n`` crops stacked as uint8 (n, 64, 64, 3)."""
        return np.stack([self.crop() for _ in range(n)])


class BatchSource(Protocol):
    """Anything that makes uint8 (n, 64, 64, 3) batches (``CropSampler``, fine-tuning's)."""

    def batch(self, n: int) -> np.ndarray:
        """``n`` samples."""
        ...


class Prefetcher:
    """Makes batches in a background thread, overlapping sampling with the training step.

    OpenCV releases the GIL while resizing; batches come in the sampler's order, so a seeded
    run stays reproducible.
    """

    def __init__(self, sampler: BatchSource, batch: int, depth: int = 4) -> None:
        import queue
        import threading

        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(sampler, batch), daemon=True)
        self._thread.start()

    def _run(self, sampler: BatchSource, batch: int) -> None:
        import queue

        while not self._stop.is_set():
            item = sampler.batch(batch)
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue

    def next(self) -> np.ndarray:
        """The next batch, uint8 (n, 64, 64, 3); RuntimeError if the sampler thread died."""
        import queue

        while True:
            try:
                return self._queue.get(timeout=1.0)
            except queue.Empty:
                if not self._thread.is_alive():
                    raise RuntimeError("the batch sampler thread stopped") from None

    def close(self) -> None:
        """Stop the thread."""
        self._stop.set()
        self._thread.join(timeout=5)
