"""The link bridge end to end, as processes over real DDS, serial (pty pair) and UDP.

encoder -> link_send -> a damaged, rate-limited byte stream -> link_receive -> decoder.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from sensor_msgs.msg import Image
from testkit.files import SAMPLE, read_photos
from testkit.ros import DiagnosticsWatch, image_msg, spin_until, start_node, stop_node

from gan_compress_ros.link.simulate import SerialRelay, UdpRelay

pytest.importorskip("serial", reason="pyserial (the link extra)")


def _run_pipeline(ros, send_args: list[str], receive_args: list[str], seconds: float,
                  ns: str) -> tuple[list[int], list[Image], dict, list[str]]:
    """Stream the demo clip at 10 fps through encoder, link and decoder; what came out."""
    frames = read_photos(SAMPLE)
    robot, base = f"/{ns}_robot", f"/{ns}_base"
    procs = [start_node("encoder_node", "-r", f"__ns:={robot}"),
             start_node("link_send", "-r", f"__ns:={robot}", *send_args,
                        "-p", f"encoder:={robot}/encoder", "-p", "diagnostics_period:=1.0"),
             start_node("link_receive", "-r", f"__ns:={base}", *receive_args,
                        "-p", "diagnostics_period:=1.0"),
             start_node("decoder_node", "-r", f"__ns:={base}", "-p", "diagnostics_period:=1.0")]
    decoded: list[Image] = []
    sub = ros.create_subscription(Image, f"{base}/image_decoded", decoded.append, 50)
    pub = ros.create_publisher(Image, f"{robot}/image_raw", 10)
    watch = DiagnosticsWatch(ros)
    sent: list[int] = []
    try:
        assert spin_until(ros, lambda: pub.get_subscription_count() > 0, 60.0)
        spin_until(ros, lambda: False, 3.0)  # the sender hands its budget to the encoder
        start = time.monotonic()
        i = 0
        while time.monotonic() - start < seconds:
            stamp = 1_800_000_000 * 10**9 + i * 100_000_000 + 123_456  # sub-ms part dropped
            pub.publish(image_msg(frames[i % len(frames)], stamp, frame_id="cam_front"))
            sent.append(stamp)
            i += 1
            spin_until(ros, lambda: False, max(0.0, start + i * 0.1 - time.monotonic()))
        spin_until(ros, lambda: False, 4.0)
        stats = {name: dict(values) for name, values in watch.latest.items()}
    finally:
        watch.close()
        ros.destroy_subscription(sub)
        ros.destroy_publisher(pub)
        logs = []
        for proc in procs:
            code, log = stop_node(proc)
            logs.append(log)
            assert code == 0, log
    return sent, decoded, stats, logs


def test_serial_link_at_9600_baud_with_bit_errors(ros) -> None:
    relay = SerialRelay(9600, 1e-4)
    try:
        sent, decoded, stats, logs = _run_pipeline(
            ros, ["-p", f"serial_port:={relay.sender_port}", "-p", "baud:=9600"],
            ["-p", f"serial_port:={relay.receiver_port}", "-p", "baud:=9600"], 12.0, "ser")
    finally:
        relay.close()
    stamps = {s - s % 1_000_000 for s in sent}
    got = [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in decoded]
    assert got and set(got) <= stamps  # stamps restored (to the millisecond)
    assert all(m.header.frame_id == "cam_front" for m in decoded)
    assert len(got) / 12.0 >= 3.0, len(got)  # 9600 baud carries several frames a second
    receiver = stats["gan_compress link_receive"]
    decoder = stats["gan_compress decoder"]
    assert int(decoder["errors"]) == 0  # nothing damaged was published
    assert relay.flipped == 0 or float(receiver["crc_errors"]) + float(
        receiver["skipped_bytes"]) > 0
    assert "max_bitrate 7680 bit/s with 8 bytes of framing per frame (the encoder accepted)" \
        in logs[1]


def test_udp_link_with_loss_and_reordering(ros) -> None:
    relay = UdpRelay(0.1)
    try:
        sent, decoded, stats, logs = _run_pipeline(
            ros, ["-p", f"udp:=127.0.0.1:{relay.in_port}", "-p", "rate_bytes_per_s:=4000"],
            ["-p", f"udp:=127.0.0.1:{relay.out_port}"], 10.0, "udp")
    finally:
        relay.close()
    stamps = {s - s % 1_000_000 for s in sent}
    got = [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in decoded]
    assert set(got) <= stamps
    assert relay.dropped > 0
    assert len(got) >= 0.6 * len(sent), (len(got), len(sent))  # ~10% lost, the rest arrive
    assert int(stats["gan_compress decoder"]["errors"]) == 0
    assert np.all(np.diff(sorted(got)) > 0)  # each frame once
    receiver = stats["gan_compress link_receive"]
    # every byte that crossed the link belonged to a frame: nothing else (no DDS) is on it
    assert float(receiver["skipped_bytes"]) == 0 and float(receiver["crc_errors"]) == 0
