"""Encoder and decoder nodes (and optionally a camera source) with config/pipeline.yaml.

Example: ``ros2 launch gan_compress_ros pipeline.launch.py namespace:=/camera weights:=low
input_topic:=/usb_cam/image_raw`` (add ``start_source:=true source:=pattern`` for a test
pattern instead of a camera; ``backend:=onnxruntime device:=cuda`` on a Jetson). The latents
go beside the input (``/usb_cam/image_raw/gan``). When any node exits, the launch stops;
when one fails (a bad parameter or weights file), the launch exits with code 1.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, GroupAction, Shutdown
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node, PushRosNamespace

from gan_compress_ros.nodes.parameters import CODEC
from launch import LaunchDescription

PACKAGE = "gan_compress_ros"
#: Codec parameters the launch file passes to both codec nodes as launch arguments.
CODEC_ARGUMENTS = ("weights", "backend", "device", "precision")


def _stop_pipeline(event, context) -> list:
    """A node ended: stop the launch; a failed node makes the launch fail (exit code 1)."""
    name = event.action.name
    if event.returncode:
        # an exception is how a launch ends with a non-zero exit code
        raise RuntimeError(f"{name} exited with code {event.returncode}: stopping the pipeline")
    return [Shutdown(reason=f"{name} exited")]


def generate_launch_description() -> LaunchDescription:
    """Launch description: arguments, then the nodes in the namespace."""
    config = os.path.join(get_package_share_directory(PACKAGE), "config", "pipeline.yaml")
    args = [
        DeclareLaunchArgument("namespace", default_value="", description="namespace of all "
                              "nodes and their relative topics"),
        # the codec's arguments: defaults and descriptions from the nodes' parameter table
        *(DeclareLaunchArgument(p.name, default_value=str(p.default),
                                description=p.description)
          for p in CODEC if p.name in CODEC_ARGUMENTS),
        DeclareLaunchArgument("input_topic", default_value="image_raw", description="camera "
                              "topic the encoder subscribes to"),
        DeclareLaunchArgument("start_source", default_value="false", description="also start "
                              "camera_source"),
        DeclareLaunchArgument("source", default_value="pattern", description="camera_source: "
                              "video, folder, webcam or pattern"),
        DeclareLaunchArgument("source_path", default_value="", description="camera_source: "
                              "video file, image folder or webcam index"),
    ]
    codec = {name: LaunchConfiguration(name) for name in CODEC_ARGUMENTS}
    nodes = GroupAction([
        PushRosNamespace(LaunchConfiguration("namespace")),
        Node(package=PACKAGE, executable="encoder_node", name="encoder", output="screen",
             parameters=[config, codec], on_exit=_stop_pipeline,
             remappings=[("image_raw", LaunchConfiguration("input_topic"))]),
        # the encoder publishes beside its input: <input_topic>/gan
        Node(package=PACKAGE, executable="decoder_node", name="decoder", output="screen",
             parameters=[config, codec], on_exit=_stop_pipeline,
             remappings=[("image_raw/gan", [LaunchConfiguration("input_topic"), "/gan"])]),
        Node(package=PACKAGE, executable="camera_source", name="camera_source",
             output="screen", condition=IfCondition(LaunchConfiguration("start_source")),
             parameters=[config, {"source": LaunchConfiguration("source"),
                                  "path": LaunchConfiguration("source_path")}],
             on_exit=_stop_pipeline,
             remappings=[("image_raw", LaunchConfiguration("input_topic"))]),
    ])
    return LaunchDescription([*args, nodes])
