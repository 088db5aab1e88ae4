"""Training data from image folders, videos and rosbags (rosbag2 mcap/sqlite3, ROS 1)."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from testkit.bags import write_rosbag1, write_rosbag2
from testkit.files import DATA, read_photos

from gan_compress_ros.training.data import load_frames
from gan_compress_ros.training.sources import find_sources, iter_frames


@pytest.fixture(scope="module")
def photos() -> np.ndarray:
    return np.stack(read_photos(DATA / "train", size=(96, 80)))


def test_video_frames_with_stride(tmp_path: Path, photos: np.ndarray) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (96, 80))
    for frame in photos:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    frames = list(iter_frames(path, stride=3))
    assert [k for k, _ in frames] == [f"clip.avi#{i}" for i in range(0, len(photos), 3)]
    assert frames[0][1].shape == (80, 96, 3)
    assert np.abs(frames[1][1].astype(int) - photos[3]).mean() < 12  # MJPG is lossy


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
@pytest.mark.parametrize("compressed", [False, True])
def test_rosbag2_frames(tmp_path: Path, photos: np.ndarray, storage: str,
                        compressed: bool) -> None:
    bag = write_rosbag2(tmp_path / "bag", photos, storage, compressed=compressed)
    frames = list(iter_frames(bag, stride=2))
    assert len(frames) == (len(photos) + 1) // 2
    error = np.abs(frames[0][1].astype(int) - photos[0]).mean()
    assert error < (12 if compressed else 1e-9)
    # the storage file alone works too
    storage_file = next(p for p in bag.iterdir() if p.suffix in (".mcap", ".db3"))
    assert len(list(iter_frames(storage_file))) == len(photos)


def test_ros1_bag_and_topic_filter(tmp_path: Path, photos: np.ndarray) -> None:
    bag = write_rosbag1(tmp_path / "cam.bag", photos, topic="/cam/image_raw")
    assert len(list(iter_frames(bag))) == len(photos)
    assert list(iter_frames(bag, topics=["/other"])) == []
    assert np.array_equal(next(iter_frames(bag))[1], photos[0])


def test_shared_raspicam_bag() -> None:
    bag = Path(__file__).resolve().parents[2] / "shared/datasets/bags/raspicam_aruco_images.bag"
    if not bag.exists():
        pytest.skip(f"shared data set not present: {bag}")
    (key, rgb), = list(iter_frames(bag))
    assert key.endswith("/raspicam_node/image/compressed#0") and rgb.shape == (960, 1280, 3)


def test_mixed_sources_and_deterministic_split(tmp_path: Path, photos: np.ndarray) -> None:
    write_rosbag2(tmp_path / "bags" / "b1", photos, "mcap")
    write_rosbag1(tmp_path / "bags" / "b2.bag", photos[:4], compressed=True)
    roots = [DATA / "train", tmp_path / "bags"]
    assert len(find_sources(roots)) == len(photos) + 2
    everything = load_frames(roots, progress=False)
    assert len(everything) == 2 * len(photos) + 4
    train = load_frames(roots, holdout=0.3, progress=False)
    held = load_frames(roots, holdout=0.3, held=True, progress=False)
    assert len(train) + len(held) == len(everything) and held
    again = load_frames(roots, holdout=0.3, held=True, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(held, again, strict=True))


def test_missing_source_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing_here"):
        find_sources([tmp_path / "nothing_here"])
