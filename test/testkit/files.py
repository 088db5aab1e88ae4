"""Test data and child-process environments: no ROS, no torch."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from gan_compress_ros.codec.bundled import BUNDLED_DIR
from gan_compress_ros.training.data import find_images

#: The photos the repository ships for tests (train/ and val/).
DATA = Path(__file__).resolve().parent.parent / "data"
#: The demo's bundled clip.
SAMPLE = BUNDLED_DIR.parent / "data" / "sample_clip"
NO_TORCH = Path(__file__).resolve().parent / "no_torch"


def read_photos(*folders: Path, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """uint8 RGB of every image under ``folders``, resized to ``size`` (w, h) if given."""
    photos = []
    for path in find_images(list(folders)):
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        photos.append(rgb if size is None else cv2.resize(rgb, size))
    return photos


def without_torch(*also: str) -> dict[str, str]:
    """Environment for a child process in which torch (and ``also``) cannot be imported."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(NO_TORCH), env.get("PYTHONPATH"))
                                        if p)
    env["GAN_TEST_BLOCK"] = ",".join(("torch", *also))
    return env
