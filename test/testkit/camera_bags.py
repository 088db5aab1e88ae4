"""A camera added to a real rosbag2 bag in the bag's own schema, its version kept.

sqlite3 bags get rows in their first file's ``topics`` and ``messages`` tables (and
``message_definitions`` where the file has that table); mcap bags get one more storage
file, as a split bag has. ``metadata.yaml`` gets the topics, counts and file entries in
the style of its version. The camera: Image (rgb8) and CameraInfo of the given frames.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore
from ruamel.yaml import YAML

SHARED_BAGS = Path(__file__).resolve().parents[3] / "shared" / "ros2-bags"
IMAGE = "sensor_msgs/msg/Image"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
#: A 96x72 camera's intrinsics (fx, fy, cx, cy) and a stereo baseline term in P.
FX, FY, CX, CY, TX = 80.0, 81.0, 47.5, 35.5, -8.0


def shared_bag(name: str) -> Path:
    """A bag of ../shared/ros2-bags, or a skip saying it is absent."""
    import pytest

    path = SHARED_BAGS / name
    if not path.is_dir():
        pytest.skip(f"shared rosbag2 test bags not present: {path}")
    return path


def camera_messages(frames: np.ndarray, t0_ns: int, period_ns: int,
                    topic: str = "/cam/image_raw") -> list[tuple[str, str, int, bytes]]:
    """(topic, type, stamp, CDR bytes) of an Image and a CameraInfo per frame."""
    store = get_typestore(Stores.ROS2_HUMBLE)
    t = store.types
    info_topic = topic.rsplit("/", 1)[0] + "/camera_info"
    out = []
    for i, frame in enumerate(frames):
        stamp = t0_ns + i * period_ns
        header = t["std_msgs/msg/Header"](
            stamp=t["builtin_interfaces/msg/Time"](sec=stamp // 10**9, nanosec=stamp % 10**9),
            frame_id="cam_optical")
        h, w = frame.shape[:2]
        image = t[IMAGE](header=header, height=h, width=w, encoding="rgb8", is_bigendian=0,
                         step=w * 3, data=frame.reshape(-1))
        info = t[CAMERA_INFO](
            header=header, height=h, width=w, distortion_model="plumb_bob",
            d=np.array([0.1, -0.05, 0.001, 0.002, 0.0]),
            k=np.array([FX, 0, CX, 0, FY, CY, 0, 0, 1.0]), r=np.eye(3).reshape(-1),
            p=np.array([FX, 0, CX, TX, 0, FY, CY, 0, 0, 0, 1.0, 0]), binning_x=0, binning_y=0,
            roi=t["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0,
                                                      width=0, do_rectify=False))
        out.append((topic, IMAGE, stamp, bytes(store.serialize_cdr(image, IMAGE))))
        out.append((info_topic, CAMERA_INFO, stamp + 1,
                    bytes(store.serialize_cdr(info, CAMERA_INFO))))
    return out


def _yaml() -> Any:
    yaml = YAML(typ="rt")
    yaml.width = 4096
    return yaml


def add_camera(src: Path, dst: Path, frames: np.ndarray, topic: str = "/cam/image_raw"
               ) -> list[tuple[str, str, int, bytes]]:
    """Copy bag ``src`` to ``dst`` and add a camera to it; returns the added messages."""
    shutil.copytree(src, dst)
    meta_path = dst / "metadata.yaml"
    yaml = _yaml()
    meta = yaml.load(meta_path.read_text())
    info = meta["rosbag2_bagfile_information"]
    start = int(info["starting_time"]["nanoseconds_since_epoch"])
    if not info["message_count"]:  # an empty bag's start is "never"
        start = 1_700_000_000 * 10**9
    added = camera_messages(frames, start, 10_000_000, topic)
    topics = info["topics_with_message_count"]
    like = topics[0]["topic_metadata"] if topics else {}
    if info["storage_identifier"] == "sqlite3":
        _add_sqlite3(dst / Path(info["relative_file_paths"][0]).name, added, like)
    else:
        name = _add_mcap_file(dst, added)
        info["relative_file_paths"].append(name)
        if "files" in info:
            info["files"].append({"path": name,
                                  "starting_time": {"nanoseconds_since_epoch": start},
                                  "duration": {"nanoseconds": added[-1][2] - start},
                                  "message_count": len(added)})
    for name, msgtype in dict.fromkeys((n, m) for n, m, _, _ in added):
        entry = {"name": name, "type": msgtype,
                 "serialization_format": "cdr",
                 "offered_qos_profiles": like.get("offered_qos_profiles", "")}
        if "type_description_hash" in like:
            entry["type_description_hash"] = ""
        topics.append({"topic_metadata": entry,
                       "message_count": sum(1 for n, *_ in added if n == name)})
    info["message_count"] = int(info["message_count"]) + len(added)
    end = max(start + int(info["duration"]["nanoseconds"]), added[-1][2])
    info["starting_time"]["nanoseconds_since_epoch"] = start
    info["duration"]["nanoseconds"] = end - start
    if "files" in info and info["storage_identifier"] == "sqlite3":
        info["files"][0]["message_count"] = int(info["files"][0]["message_count"]) + len(added)
    with meta_path.open("w") as f:
        yaml.dump(meta, f)
    return added


def _add_sqlite3(db: Path, added: list[tuple[str, str, int, bytes]], like: dict) -> None:
    store = get_typestore(Stores.ROS2_HUMBLE)
    con = sqlite3.connect(db)
    try:
        columns = [r[1] for r in con.execute("PRAGMA table_info(topics)")]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        qos = like.get("offered_qos_profiles", "")
        ids = {}
        for name, msgtype in dict.fromkeys((n, m) for n, m, _, _ in added):
            row = {"name": name, "type": msgtype, "serialization_format": "cdr",
                   "offered_qos_profiles": qos, "type_description_hash": ""}
            cur = con.execute(
                f"INSERT INTO topics ({', '.join(c for c in columns if c != 'id')}) VALUES "
                f"({', '.join('?' for c in columns if c != 'id')})",
                [row[c] for c in columns if c != "id"])
            ids[name] = cur.lastrowid
            if "message_definitions" in tables:
                con.execute("INSERT INTO message_definitions (topic_type, encoding, "
                            "encoded_message_definition, type_description_hash) "
                            "VALUES (?, ?, ?, ?)",
                            (msgtype, "ros2msg", store.generate_msgdef(msgtype,
                                                                      ros_version=2)[0],
                             store.hash_rihs01(msgtype)))
        con.executemany("INSERT INTO messages (topic_id, timestamp, data) VALUES (?, ?, ?)",
                        [(ids[n], stamp, raw) for n, _, stamp, raw in added])
        con.commit()
    finally:
        con.close()


def _add_mcap_file(dst: Path, added: list[tuple[str, str, int, bytes]]) -> str:
    store = get_typestore(Stores.ROS2_HUMBLE)
    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / "camera_part"
        with Writer(part, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
            conns = {}
            for name, msgtype, stamp, raw in added:
                if name not in conns:
                    conns[name] = writer.add_connection(name, msgtype, typestore=store)
                writer.write(conns[name], stamp, raw)
        name = f"{dst.name}_camera.mcap"
        shutil.copy(part / "camera_part.mcap", dst / name)
    return name
