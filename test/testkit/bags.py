"""Write real rosbags of camera frames with ``rosbags`` (rosbag2 mcap/sqlite3 and ROS 1)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from rosbags.rosbag1 import Writer as Ros1Writer
from rosbags.rosbag2 import StoragePlugin
from rosbags.rosbag2 import Writer as Ros2Writer
from rosbags.typesys import Stores, get_typestore

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"


def _messages(store, frames: np.ndarray, compressed: bool, frame_id: str, t0_ns: int,
              period_ns: int, pad: int = 0):
    types = store.types
    for i, frame in enumerate(frames):
        stamp_ns = t0_ns + i * period_ns
        time = types["builtin_interfaces/msg/Time"](sec=stamp_ns // 10**9,
                                                    nanosec=stamp_ns % 10**9)
        header_fields = {"stamp": time, "frame_id": frame_id}
        if "seq" in types["std_msgs/msg/Header"].__dataclass_fields__:
            header_fields["seq"] = i
        header = types["std_msgs/msg/Header"](**header_fields)
        if compressed:
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
            msg = types[COMPRESSED](header=header, format="jpeg", data=buf.reshape(-1))
        else:
            h, w = frame.shape[:2]
            rows = np.zeros((h, w * 3 + pad), np.uint8)  # ``pad`` junk bytes end each row
            rows[:, w * 3:] = 77
            rows[:, :w * 3] = frame.reshape(h, w * 3)
            msg = types[IMAGE](header=header, height=h, width=w, encoding="rgb8",
                               is_bigendian=0, step=w * 3 + pad, data=rows.reshape(-1))
        yield stamp_ns, msg


def write_rosbag2(path: Path, frames: np.ndarray, storage: str = "mcap",
                  topic: str = "/camera/image_raw", compressed: bool = False,
                  frame_id: str = "camera", t0_ns: int = 1_700_000_000 * 10**9,
                  period_ns: int = 33_333_333, pad: int = 0) -> Path:
    """A rosbag2 folder with ``frames`` on ``topic`` (storage ``mcap`` or ``sqlite3``).

    ``pad``: bytes of row padding in each Image (``step`` = width * 3 + pad).
    """
    store = get_typestore(Stores.ROS2_HUMBLE)
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    msgtype = COMPRESSED if compressed else IMAGE
    with Ros2Writer(path, version=9, storage_plugin=plugin) as writer:
        conn = writer.add_connection(topic, msgtype, typestore=store)
        for stamp, msg in _messages(store, frames, compressed, frame_id, t0_ns, period_ns,
                                    pad):
            writer.write(conn, stamp, store.serialize_cdr(msg, msgtype))
    return path


def write_rosbag1(path: Path, frames: np.ndarray, topic: str = "/camera/image_raw",
                  compressed: bool = False, frame_id: str = "camera",
                  t0_ns: int = 1_700_000_000 * 10**9, period_ns: int = 33_333_333) -> Path:
    """A ROS 1 ``.bag`` with ``frames`` on ``topic`` and a camera_info beside each."""
    store = get_typestore(Stores.ROS1_NOETIC)
    msgtype = COMPRESSED if compressed else IMAGE
    info_type = "sensor_msgs/msg/CameraInfo"
    with Ros1Writer(path) as writer:
        conn = writer.add_connection(topic, msgtype, typestore=store)
        info_conn = writer.add_connection(topic.rsplit("/", 1)[0] + "/camera_info", info_type,
                                          typestore=store)
        for stamp, msg in _messages(store, frames, compressed, frame_id, t0_ns, period_ns):
            writer.write(conn, stamp, store.serialize_ros1(msg, msgtype))
            info = store.types[info_type](
                header=msg.header, height=int(frames.shape[1]), width=int(frames.shape[2]),
                distortion_model="plumb_bob", D=np.zeros(5), K=np.eye(3).reshape(-1),
                R=np.eye(3).reshape(-1), P=np.zeros(12), binning_x=0, binning_y=0,
                roi=store.types["sensor_msgs/msg/RegionOfInterest"](
                    x_offset=0, y_offset=0, height=0, width=0, do_rectify=False))
            writer.write(info_conn, stamp, store.serialize_ros1(info, info_type))
    return path
