"""CameraInfo that matches the 64x64 images, without spending the link on it.

Encoder side (:func:`fitted_camera_info`): the camera's CameraInfo (image_transport's
sibling ``camera_info`` of the resolved input topic, so a remap of ``image_raw`` carries
it along) is fitted as ``resize_mode`` fits the frame (K, P, width, height; D unchanged)
and published on ``<latent topic>/camera_info`` only when what it says changes, reliable
and transient local, so that a late subscriber still gets it. Decoder side
(:func:`decoded_camera_info`): that message, scaled to ``output_size`` when the decoder
resizes, is republished on ``<output topic>/camera_info`` the same way. Under the image
topic rather than image_transport's sibling: in the one-namespace pipeline the sibling
is the camera's own ``camera_info``, where a 64x64 CameraInfo would mislead every other
subscriber, the encoder included.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo

from ..image import camera_info_key, camera_info_of, fit_camera_info_msg, info_beside

#: Reliable, transient local, newest only: a late subscriber gets the current CameraInfo.
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)


class CameraInfoRelay:
    """Subscribes a CameraInfo, transforms it, publishes the result when it changes."""

    def __init__(self, node: Node, in_topic: str, in_qos: QoSProfile, out_topic: str,
                 transform: Callable[[CameraInfo], CameraInfo]) -> None:
        self.node = node
        self.transform = transform
        self.last_in: CameraInfo | None = None
        self._key: tuple | None = None
        self.published = 0
        self.pub = node.create_publisher(CameraInfo, out_topic, LATCHED)
        self.sub = node.create_subscription(CameraInfo, in_topic, self.on_info, in_qos)

    def on_info(self, msg: CameraInfo) -> None:
        """Transform and publish ``msg`` if the result differs from the last published."""
        self.last_in = msg
        try:
            out = self.transform(copy.deepcopy(msg))
        except ValueError as exc:  # no size to fit: said, counted as bad input
            self.node.get_logger().warning(f"camera_info not fitted: {exc}",
                                           throttle_duration_sec=5.0)
            return
        key = camera_info_key(out)
        if key == self._key:
            return
        self._key = key
        self.pub.publish(out)
        self.published += 1

    def refresh(self) -> None:
        """Re-transform the last CameraInfo (a parameter the transform reads changed)."""
        if self.last_in is not None:
            self.on_info(self.last_in)


def fitted_camera_info(node: Node, input_topic: str, latent_topic: str,
                       resize_mode: Callable[[], str]) -> CameraInfoRelay:
    """The encoder's: the camera's CameraInfo fitted to the frame, beside the latents."""
    source = camera_info_of(node.resolve_topic_name(input_topic))
    return CameraInfoRelay(node, source, QoSProfile(
        depth=1, reliability=qos_profile_sensor_data.reliability,
        durability=qos_profile_sensor_data.durability),  # matches any camera
        info_beside(node.resolve_topic_name(latent_topic)),
        lambda info: fit_camera_info_msg(info, resize_mode()))


def decoded_camera_info(node: Node, latent_topic: str, output_topic: str,
                        output_size: Callable[[], int]) -> CameraInfoRelay:
    """The decoder's: the latent side's CameraInfo, at ``output_size`` when it resizes."""
    def scaled(info: CameraInfo) -> CameraInfo:
        size = output_size()
        return fit_camera_info_msg(info, "stretch", size) if size and size != info.width \
            else info
    return CameraInfoRelay(node, info_beside(node.resolve_topic_name(latent_topic)), LATCHED,
                           info_beside(node.resolve_topic_name(output_topic)), scaled)
