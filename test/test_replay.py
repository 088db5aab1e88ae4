"""Rosbag replay: a recorded bag played at its timing into running nodes, output recorded."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore
from sensor_msgs.msg import Image
from testkit.bags import write_rosbag2
from testkit.files import DATA, read_photos
from testkit.ros import image_msg, reliable_input, spin_until, stamp_ns, start_node, stop_node

from gan_compress_ros.codec import Codec
from gan_compress_ros.nodes.convert import fit
from gan_compress_ros.tools.bag import iter_topic
from gan_compress_ros.tools.bag import main as bag_main

TOPIC = "/camera/image_raw"


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.stack(read_photos(DATA / "train", DATA / "val", size=(160, 120)))


def _record(path: Path, messages: list[Image]) -> None:
    store = get_typestore(Stores.ROS2_HUMBLE)
    types = store.types
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection("/image_decoded", "sensor_msgs/msg/Image", typestore=store)
        for m in messages:
            header = types["std_msgs/msg/Header"](
                stamp=types["builtin_interfaces/msg/Time"](sec=m.header.stamp.sec,
                                                           nanosec=m.header.stamp.nanosec),
                frame_id=m.header.frame_id)
            msg = types["sensor_msgs/msg/Image"](
                header=header, height=m.height, width=m.width, encoding=m.encoding,
                is_bigendian=0, step=m.step, data=np.frombuffer(bytes(m.data), np.uint8))
            writer.write(conn, stamp_ns(m), store.serialize_cdr(msg, "sensor_msgs/msg/Image"))


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_replay_into_running_nodes(tmp_path: Path, ros, trained_weights: Path, codec: Codec,
                                   frames: np.ndarray, storage: str) -> None:
    bag = write_rosbag2(tmp_path / "in", frames, storage, topic=TOPIC, frame_id="cam_link",
                        period_ns=66_666_666)
    enc = start_node("encoder_node", "-p", f"weights:={trained_weights}",
                     "-r", f"image_raw:={TOPIC}", *reliable_input(TOPIC))
    dec = start_node("decoder_node", "-p", f"weights:={trained_weights}",  # beside the input
                     "-r", f"image_raw/gan:={TOPIC}/gan", *reliable_input(f"{TOPIC}/gan"))
    pub = ros.create_publisher(Image, TOPIC, 50)
    decoded: list[Image] = []
    sub = ros.create_subscription(Image, "/image_decoded", decoded.append, 50)
    try:
        def up() -> bool:
            pub.publish(image_msg(frames[0], 1, frame_id="warmup"))
            return spin_until(ros, lambda: bool(decoded), 0.5)
        assert spin_until(ros, up, 90.0), enc.log + dec.log
        spin_until(ros, lambda: False, 0.5)
        decoded.clear()
        # play the bag at its recorded timing
        recorded = list(iter_topic(bag, TOPIC))
        start, t0 = time.monotonic(), recorded[0][0]
        for t, msg in recorded:
            while time.monotonic() - start < (t - t0) / 1e9:
                rclpy.spin_once(ros, timeout_sec=0.005)
            out = image_msg(np.frombuffer(bytes(msg.data), np.uint8).reshape(
                msg.height, msg.width, 3), stamp_ns(msg), frame_id=msg.header.frame_id)
            pub.publish(out)
        assert spin_until(ros, lambda: len(decoded) >= len(recorded), 30.0)
    finally:
        ros.destroy_subscription(sub)
        ros.destroy_publisher(pub)
        results = [stop_node(enc), stop_node(dec)]
    assert all(code == 0 for code, _ in results), results
    out_bag = tmp_path / "out"
    _record(out_bag, decoded)
    replayed = list(iter_topic(out_bag, "/image_decoded"))
    assert [t for t, _ in replayed] == [t for t, _ in recorded]
    assert {m.header.frame_id for _, m in replayed} == {"cam_link"}
    # the live pipeline's pixels equal the offline bag tool's, frame for frame
    compressed, restored = tmp_path / "gan", tmp_path / "restored"
    assert bag_main(["compress", str(bag), str(compressed), "--topic", TOPIC,
                     "--weights", str(trained_weights)]) == 0
    assert bag_main(["decompress", str(compressed), str(restored), "--topic", f"{TOPIC}/gan",
                     "--weights", str(trained_weights)]) == 0
    offline = list(iter_topic(restored, f"{TOPIC}/decoded"))
    assert [t for t, _ in offline] == [t for t, _ in recorded]
    for (_, live), (_, off), (_, src) in zip(replayed, offline, recorded, strict=True):
        assert np.array_equal(live.data, off.data)
        original = np.frombuffer(bytes(src.data), np.uint8).reshape(src.height, src.width, 3)
        expected = codec.decode(codec.encode(fit(original)))[0]
        assert np.array_equal(np.asarray(live.data).reshape(64, 64, 3), expected)
