"""Frames from the places users keep camera data: image folders, videos and rosbags.

Each source yields ``(key, rgb)`` pairs: ``key`` names the file and, for videos and bags,
the frame index, so the train/validation split can keep neighbouring frames together.
Bags are read with ``rosbags`` (ROS 1 ``.bag``, rosbag2 ``.mcap``/``.db3`` or a rosbag2
folder), taking ``sensor_msgs/Image`` and ``sensor_msgs/CompressedImage`` topics.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from ..image import IMAGE_SUFFIXES, bytes_per_pixel, compressed_to_rgb, image_msg_to_rgb  # noqa: F401

VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg"}
BAG_SUFFIXES = {".bag", ".mcap", ".db3"}
IMAGE_TYPES = {"sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage"}


def _is_rosbag2_dir(path: Path) -> bool:
    return path.is_dir() and (path / "metadata.yaml").is_file()


def find_sources(roots: list[str | Path]) -> list[Path]:
    """Every image, video and bag below ``roots`` (recursive), sorted; roots may be files."""
    found: list[Path] = []
    for root in map(Path, roots):
        if _is_rosbag2_dir(root):
            found.append(root)
        elif root.is_dir():
            bag_dirs = {p.parent for p in root.rglob("metadata.yaml")}
            found.extend(bag_dirs)
            for p in root.rglob("*"):
                if p.is_file() and not any(d in p.parents for d in bag_dirs) \
                        and p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES | BAG_SUFFIXES:
                    found.append(p)
        elif root.is_file():
            found.append(root)
        else:
            raise FileNotFoundError(f"training data {root}: no such file or folder")
    return sorted(set(found))


def _video_frames(path: Path, stride: int) -> Iterator[tuple[str, np.ndarray]]:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: cannot open as a video")
    index = 0
    try:
        while True:
            ok = cap.grab()
            if not ok:
                break
            if index % stride == 0:
                ok, bgr = cap.retrieve()
                if ok and bgr is not None:
                    yield f"{path.name}#{index}", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            index += 1
    finally:
        cap.release()


def _bag_frames(path: Path, stride: int, topics: list[str] | None) -> Iterator[
        tuple[str, np.ndarray]]:
    from ..bagio import open_bag  # rosbags: the `bags` extra, named where missing

    with open_bag(path) as bag:
        wanted = [t.name for t in bag.topics if t.msgtype in IMAGE_TYPES
                  and (not topics or t.name in topics)]
        if not wanted:
            return
        counts: dict[str, int] = {}
        for topic, _, raw in bag.messages(wanted):
            if topic.msgtype not in IMAGE_TYPES:
                continue
            index = counts.get(topic.name, 0)
            counts[topic.name] = index + 1
            if index % stride:
                continue
            try:
                msg = bag.deserialize(raw, topic.msgtype)
                if topic.msgtype.endswith("CompressedImage"):
                    rgb = compressed_to_rgb(msg.data)
                else:
                    rgb = image_msg_to_rgb(msg)
            except Exception:  # one undecodable frame must not end the run
                continue
            yield f"{path.name}:{topic.name}#{index}", np.ascontiguousarray(rgb[..., :3])


def iter_frames(path: Path, stride: int = 1,
                topics: list[str] | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """Yield ``(key, rgb uint8)`` for each frame of an image, video or bag.

    Videos give every ``stride``-th frame; bags every ``stride``-th message per image topic.
    """
    suffix = path.suffix.lower()
    if _is_rosbag2_dir(path) or suffix in BAG_SUFFIXES:
        yield from _bag_frames(path, stride, topics)
    elif suffix in VIDEO_SUFFIXES:
        yield from _video_frames(path, stride)
    elif suffix in IMAGE_SUFFIXES:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is not None:
            yield str(path), cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    else:
        raise ValueError(f"{path}: not an image, video or bag")
