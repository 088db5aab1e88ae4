"""camera_source: publishes ``image_raw`` (rgb8) from a video, a folder, a webcam or a pattern.

A stand-in camera for demos, tests and replays: frames carry the publish time as stamp and
the ``frame_id`` parameter, at ``rate_hz``.
"""

from __future__ import annotations

from typing import Any

from rclpy.node import Node
from rclpy.qos import qos_profile_system_default
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import Image

from .convert import rgb_to_image
from .dds import configure_camera_process
from .declare import declare
from .diagnostics import try_publish
from .frames import open_source
from .runner import StartupError, main_for

OUTPUT_TOPIC = "image_raw"


#: A camera's QoS as REP 2003 asks (system default: reliable; Fast DDS keeps the last frame).
#: With the camera process's DDS settings (``dds.py``) such a writer delivers large frames
#: whole and without stalls; the benchmarks' camera uses the same.
CAMERA_QOS = qos_profile_system_default

class CameraSource(Node):
    """Publishes frames from a file source at a fixed rate, looping."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("camera_source", **kwargs)
        source = declare(self, "source")
        path = declare(self, "path")
        rate = float(declare(self, "rate_hz"))
        self.frame_id = declare(self, "frame_id")
        loop = declare(self, "loop")
        self.max_frames = int(declare(self, "max_frames"))
        try:
            self.frames = open_source(source, path, loop)
        except ValueError as exc:
            raise StartupError(f"bad source: {exc}") from None
        self.published = 0
        self.publish_failed = 0  # frames the DDS writer refused (logged, throttled)
        self.pub = self.create_publisher(
            Image, OUTPUT_TOPIC, CAMERA_QOS,
            qos_overriding_options=QoSOverridingOptions.with_default_policies())
        self.timer = self.create_timer(1.0 / rate, self.tick)
        self.get_logger().info(
            f"publishing {source}{f' {path}' if path else ''} at {rate:g} Hz on "
            f"{self.pub.topic_name}{'' if loop else ', once through'}"
            f"{f', at most {self.max_frames} frames' if self.max_frames else ''}")

    @property
    def done(self) -> bool:
        """Whether the source has published all it will."""
        return self.timer.is_canceled()

    def tick(self) -> None:
        """Publish the next frame; at the end of the source, stop the timer."""
        try:
            frame = next(self.frames, None)
        except Exception as exc:  # a source failing mid-run must not kill the executor
            self.get_logger().error(f"source failed, stopping: {exc}")
            frame = None
        if frame is None or (self.max_frames and self.published >= self.max_frames):
            if frame is None:
                self.get_logger().info(f"source ended after {self.published} frames")
            self.timer.cancel()
            return
        if not self.published:
            self.get_logger().info(f"first frame: {frame.shape[1]}x{frame.shape[0]} rgb8")
        msg = rgb_to_image(frame, frame_id=self.frame_id)
        msg.header.stamp = self.get_clock().now().to_msg()
        if try_publish(self, self.pub, msg) is not None:
            self.publish_failed += 1  # that frame is lost; the next one is tried as usual
            return
        self.published += 1


_main = main_for(CameraSource, "camera_source")


def main(args: list[str] | None = None) -> None:
    """Console entry point: DDS set for large frames (``dds.py``) before rclpy starts."""
    configure_camera_process()
    _main(args)


if __name__ == "__main__":
    main()
