"""A DDS writer that refuses a sample costs that frame, never the node.

Fast DDS's ``write`` can fail (seen here once in a ten-minute soak: the camera's
``publish`` raised ``RCLError: cannot publish data`` after about 8,300 640x480 frames), and
rclpy turns that into an exception in the callback, which would end the node. No real writer
can be made to refuse on demand, so each node here gets its real publisher wrapped to raise
rclpy's own ``RCLError`` once; everything else (node, codec, messages) is real.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rclpy
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.parameter import Parameter
from sensor_msgs.msg import CompressedImage
from testkit.ros import image_msg

from gan_compress_ros.codec import Codec
from gan_compress_ros.nodes.camera_source import CameraSource
from gan_compress_ros.nodes.convert import LATENT_FORMAT
from gan_compress_ros.nodes.decoder_node import DecoderNode
from gan_compress_ros.nodes.diagnostics import PUBLISH_FAILED
from gan_compress_ros.nodes.encoder_node import EncoderNode


class RefusingOnce:
    """A real publisher whose first ``publish`` fails as Fast DDS's refused write does."""

    def __init__(self, pub) -> None:
        self.pub = pub
        self.topic_name = pub.topic_name
        self.calls = 0
        self.sent: list = []

    def publish(self, msg) -> None:
        """Refuse the first message, publish the rest for real."""
        self.calls += 1
        if self.calls == 1:
            raise _rclpy.RCLError("Failed to publish: cannot publish data, at rmw_publish.cpp")
        self.pub.publish(msg)
        self.sent.append(msg)


@pytest.fixture()
def context():
    rclpy.init()
    yield
    rclpy.shutdown()


def _weights(path: Path) -> list[Parameter]:
    return [Parameter("weights", value=str(path)), Parameter("diagnostics_period", value=0.0)]


def test_encoder_counts_a_refused_latent_and_serves_the_next(context, trained_weights: Path,
                                                             val_frames: np.ndarray) -> None:
    node = EncoderNode(parameter_overrides=_weights(trained_weights))
    try:
        node.pub = RefusingOnce(node.pub)
        node.on_image(image_msg(val_frames[0], 1))
        node.on_image(image_msg(val_frames[1], 2))
        stats = node.diag.stats
        assert stats.errors[PUBLISH_FAILED] == 1 and stats.frames == 1
        assert [m.header.stamp.nanosec for m in node.pub.sent] == [2]
        assert node.diag.stats.diagnostics(node.get_clock().now().to_msg(), "x") \
            .status[0].message == "errors seen"
    finally:
        node.destroy_node()


def test_decoder_counts_a_refused_image_and_serves_the_next(context, trained_weights: Path,
                                                            val_frames: np.ndarray) -> None:
    payloads = Codec.load(trained_weights).encode(val_frames[:2])
    node = DecoderNode(parameter_overrides=_weights(trained_weights))
    try:
        node.pub = RefusingOnce(node.pub)
        for stamp, payload in enumerate(payloads, 1):
            msg = CompressedImage(format=LATENT_FORMAT, data=payload)
            msg.header.stamp.nanosec = stamp
            node.on_latent(msg)
        assert node.diag.stats.errors[PUBLISH_FAILED] == 1 and node.diag.stats.frames == 1
        assert [m.header.stamp.nanosec for m in node.pub.sent] == [2]
    finally:
        node.destroy_node()


def test_camera_source_goes_on_after_a_refused_frame(context) -> None:
    node = CameraSource(parameter_overrides=[Parameter("source", value="pattern")])
    try:
        node.timer.cancel()  # ticks by hand
        node.pub = RefusingOnce(node.pub)
        node.tick()
        node.tick()
        assert node.publish_failed == 1 and node.published == 1 and len(node.pub.sent) == 1
    finally:
        node.destroy_node()
