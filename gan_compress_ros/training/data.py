"""Training and evaluation samples: 64x64 RGB crops from image folders.

Training takes random resized crops (several scales down to 64x64) and horizontal flips, so a
few thousand photos give many distinct samples; evaluation takes a centre crop resized to
64x64, so its numbers are repeatable. Without a validation set, a deterministic split (by a
hash of the file path) holds out a fraction of the images.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm"}
SIZE = 64
#: Images are stored with their shorter side at most this long (keeps memory bounded).
MAX_SIDE = 320


def find_images(roots: Iterable[str | Path]) -> list[Path]:
    """Image files below each root (recursive), sorted; a root may also be a file."""
    found: list[Path] = []
    for root in roots:
        root = Path(root)
        if root.is_file() and root.suffix.lower() in IMAGE_SUFFIXES:
            found.append(root)
        elif root.is_dir():
            found.extend(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            raise FileNotFoundError(f"training data {root}: no such file or folder")
    return sorted(found)


def read_rgb(path: Path, max_side: int = MAX_SIDE) -> np.ndarray | None:
    """An image as uint8 RGB with its shorter side at most ``max_side``; None if unreadable."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None or min(bgr.shape[:2]) < 8:
        return None
    short = min(bgr.shape[:2])
    if short > max_side:
        scale = max_side / short
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def split_holdout(paths: list[Path], fraction: float) -> tuple[list[Path], list[Path]]:
    """Deterministic train/validation split by a hash of each path's name."""
    def held(p: Path) -> bool:
        h = int(hashlib.sha1(p.name.encode()).hexdigest()[:8], 16)
        return h / 0xFFFFFFFF < fraction
    return [p for p in paths if not held(p)], [p for p in paths if held(p)]


def center_crop(image: np.ndarray, size: int = SIZE) -> np.ndarray:
    """The largest centred square of ``image`` resized to ``size`` x ``size``."""
    h, w = image.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    crop = image[y0:y0 + side, x0:x0 + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)


class CropSampler:
    """Random resized 64x64 crops with flips from a list of in-memory images."""

    def __init__(self, images: list[np.ndarray], min_scale: float = 0.25, seed: int = 0) -> None:
        if not images:
            raise ValueError("no training images")
        self.images = images
        self.min_scale = min_scale
        self.rng = np.random.default_rng(seed)

    def crop(self) -> np.ndarray:
        """One random 64x64 RGB crop."""
        image = self.images[self.rng.integers(len(self.images))]
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


def load_images(paths: list[Path]) -> list[np.ndarray]:
    """Read every path, skipping unreadable files."""
    images = (read_rgb(p) for p in paths)
    return [im for im in images if im is not None]


def eval_frames(paths: list[Path]) -> np.ndarray:
    """Centre crops of ``paths`` as uint8 (N, 64, 64, 3)."""
    frames = [center_crop(im) for im in load_images(paths)]
    return np.stack(frames) if frames else np.zeros((0, SIZE, SIZE, 3), np.uint8)
