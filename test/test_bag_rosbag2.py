"""gan-compress-bag on bags as rosbag2 writes them, a camera added in each bag's own schema.

The bags of ../shared/ros2-bags were written by rosbag2 itself (metadata versions 4, 7 and
8; sqlite3 and mcap; a split bag; an empty bag): no type hashes, no definitions, QoS in
metadata.yaml unlike the storage file's. Each round-trips through compress and
decompress with every other topic intact (type, QoS, count, bytes) and a CameraInfo that
matches the 64x64 image.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag2 import CompressionFormat, CompressionMode, StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore
from testkit.camera_bags import CX, CY, FX, FY, TX, add_camera, camera_messages, shared_bag
from testkit.files import DATA, read_photos

from gan_compress_ros.bagio import open_bag
from gan_compress_ros.image import fit_camera_info
from gan_compress_ros.tools.bag import iter_topic, main

CAMERA = {"/cam/image_raw", "/cam/camera_info"}
SHARED = ["sqlite3_talker", "mcap_talker", "sqlite3_cdr_test", "mcap_cdr_test",
          "sqlite3_wbag", "mcap_bag_with_topics_and_service_events", "empty_bag"]


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.stack(read_photos(DATA / "val", size=(96, 72))[:5])


def _others(path: Path, skip: set[str]) -> tuple[list, list]:
    """Topics (name, type, QoS, count) and messages (topic, stamp, bytes) not in ``skip``."""
    with open_bag(path) as bag:
        topics = sorted((t.name, t.msgtype, repr(t.qos), t.count, t.serialization_format)
                        for t in bag.topics if t.name not in skip)
        messages = sorted((t.name, stamp, bytes(raw)) for t, stamp, raw in bag.messages()
                          if t.name not in skip)
    return topics, messages


def _round_trip(src: Path, tmp: Path, frames: np.ndarray, capsys) -> None:
    topics, messages = _others(src, CAMERA)
    # every message metadata.yaml counts is read (rosbags alone reads none of the talker's)
    assert len(messages) == sum(t[3] for t in topics)
    assert main(["compress", str(src), str(tmp / "gan")]) == 0, capsys.readouterr().err
    latent = {"/cam/image_raw/gan", "/cam/image_raw/gan/camera_info"}
    assert _others(tmp / "gan", latent) == (topics, messages)  # everything else unchanged
    assert len(list(iter_topic(tmp / "gan", "/cam/image_raw/gan"))) == len(frames)
    assert main(["decompress", str(tmp / "gan"), str(tmp / "out")]) == 0, \
        capsys.readouterr().err
    decoded = {"/cam/image_raw/decoded", "/cam/image_raw/decoded/camera_info"}
    assert _others(tmp / "out", decoded) == (topics, messages)
    images = [m for _, m in iter_topic(tmp / "out", "/cam/image_raw/decoded")]
    assert len(images) == len(frames) and {(m.width, m.height) for m in images} == {(64, 64)}
    infos = [m for _, m in iter_topic(tmp / "out", "/cam/image_raw/decoded/camera_info")]
    assert len(infos) == 1  # the camera's never changed: written once
    k, p, w, h = fit_camera_info([FX, 0, CX, 0, FY, CY, 0, 0, 1],
                                 [FX, 0, CX, TX, 0, FY, CY, 0, 0, 0, 1, 0], 96, 72, "crop")
    assert (infos[0].width, infos[0].height) == (w, h) == (64, 64)
    assert np.allclose(infos[0].k, k) and np.allclose(infos[0].p, p)
    assert infos[0].d[0] == 0.1 and infos[0].header.frame_id == "cam_optical"  # D unchanged


@pytest.mark.parametrize("name", SHARED)
def test_rosbag2_written_bags_round_trip(name: str, tmp_path: Path, frames: np.ndarray,
                                         capsys) -> None:
    src = tmp_path / name
    add_camera(shared_bag(name), src, frames)
    _round_trip(src, tmp_path, frames, capsys)


def test_version_5_as_humble_writes_it(tmp_path: Path, frames: np.ndarray, capsys) -> None:
    """rosbag2's version 4 talker relabelled 5 (per-file entries added), as Humble writes."""
    from ruamel.yaml import YAML

    src = tmp_path / "humble"
    added = add_camera(shared_bag("sqlite3_talker"), src, frames)
    yaml = YAML(typ="rt")
    meta = yaml.load((src / "metadata.yaml").read_text())
    info = meta["rosbag2_bagfile_information"]
    info["version"] = 5
    info["files"] = [{"path": "talker.db3", "starting_time": dict(info["starting_time"]),
                      "duration": dict(info["duration"]),
                      "message_count": info["message_count"]}]
    with (src / "metadata.yaml").open("w") as f:
        yaml.dump(meta, f)
    assert len(added) == 2 * len(frames)
    _round_trip(src, tmp_path, frames, capsys)


def test_bare_db3_written_by_rosbag2(tmp_path: Path, frames: np.ndarray, capsys) -> None:
    """The storage file alone, without its metadata.yaml, is a bag too."""
    folder = tmp_path / "talker"
    add_camera(shared_bag("sqlite3_talker"), folder, frames)
    _round_trip(folder / "talker.db3", tmp_path, frames, capsys)
    assert (tmp_path / "gan" / "gan.db3").is_file()  # same storage as the input


def test_shared_bag_without_a_camera_is_one_line(tmp_path: Path, capsys) -> None:
    src = shared_bag("mcap_talker")
    assert main(["compress", str(src), str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "0 image topics" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def _write_camera_bag(path: Path, frames: np.ndarray, storage: StoragePlugin,
                      compression: CompressionMode | None = None) -> Path:
    """A bag written by rosbags with a camera and a String topic (optionally compressed)."""
    store = get_typestore(Stores.ROS2_HUMBLE)
    writer = Writer(path, version=9, storage_plugin=storage)
    if compression:
        writer.set_compression(compression, CompressionFormat.ZSTD)
    with writer:
        conns = {}
        for name, msgtype, stamp, raw in camera_messages(frames, 10**18, 10**7):
            if name not in conns:
                conns[name] = writer.add_connection(name, msgtype, typestore=store)
            writer.write(conns[name], stamp, raw)
        chat = writer.add_connection("/chatter", "std_msgs/msg/String", typestore=store)
        for i in range(3):
            writer.write(chat, 10**18 + i, bytes(store.serialize_cdr(
                store.types["std_msgs/msg/String"](data=f"hello {i}"), "std_msgs/msg/String")))
    return path


def test_bare_mcap(tmp_path: Path, frames: np.ndarray, capsys) -> None:
    folder = _write_camera_bag(tmp_path / "rec", frames, StoragePlugin.MCAP)
    bare = tmp_path / "camera.mcap"
    shutil.move(folder / "rec.mcap", bare)
    shutil.rmtree(folder)
    _round_trip(bare, tmp_path, frames, capsys)


@pytest.mark.parametrize("mode", [CompressionMode.FILE, CompressionMode.MESSAGE])
@pytest.mark.parametrize("storage", [StoragePlugin.SQLITE3, StoragePlugin.MCAP])
def test_compressed_bags_keep_their_compression(tmp_path: Path, frames: np.ndarray, mode,
                                                storage, capsys) -> None:
    src = _write_camera_bag(tmp_path / "zbag", frames, storage, mode)
    _round_trip(src, tmp_path, frames, capsys)
    with open_bag(tmp_path / "out") as bag:
        assert bag.compression == (mode.name.lower(), "zstd")
