"""Encoder and decoder nodes (and optionally a camera source) with config/pipeline.yaml.

Example: ``ros2 launch gan_compress_ros pipeline.launch.py namespace:=/camera weights:=low
input_topic:=/usb_cam/image_raw`` (add ``start_source:=true source:=pattern`` for a test
pattern instead of a camera; ``backend:=onnxruntime device:=cuda`` on a Jetson).
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, GroupAction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node, PushRosNamespace

from launch import LaunchDescription

PACKAGE = "gan_compress_ros"


def generate_launch_description() -> LaunchDescription:
    """Launch description: arguments, then the nodes in the namespace."""
    config = os.path.join(get_package_share_directory(PACKAGE), "config", "pipeline.yaml")
    args = [
        DeclareLaunchArgument("namespace", default_value="", description="namespace of all "
                              "nodes and their relative topics"),
        DeclareLaunchArgument("weights", default_value="", description="weights file, ONNX "
                              "export directory or a quality preset of the bundled model "
                              "(low, mid, high); empty: mid"),
        DeclareLaunchArgument("backend", default_value="auto", description="auto, torch or "
                              "onnxruntime (Jetson: onnxruntime, no torch needed)"),
        DeclareLaunchArgument("device", default_value="cpu", description="cpu, cuda or auto"),
        DeclareLaunchArgument("precision", default_value="fp32", description="fp32 or fp16"),
        DeclareLaunchArgument("input_topic", default_value="image_raw", description="camera "
                              "topic the encoder subscribes to"),
        DeclareLaunchArgument("start_source", default_value="false", description="also start "
                              "camera_source"),
        DeclareLaunchArgument("source", default_value="pattern", description="camera_source: "
                              "video, folder, webcam or pattern"),
        DeclareLaunchArgument("source_path", default_value="", description="camera_source: "
                              "video file, image folder or webcam index"),
    ]
    codec = {name: LaunchConfiguration(name)
             for name in ("weights", "backend", "device", "precision")}
    nodes = GroupAction([
        PushRosNamespace(LaunchConfiguration("namespace")),
        Node(package=PACKAGE, executable="encoder_node", name="encoder", output="screen",
             parameters=[config, codec],
             remappings=[("image_raw", LaunchConfiguration("input_topic"))]),
        Node(package=PACKAGE, executable="decoder_node", name="decoder", output="screen",
             parameters=[config, codec]),
        Node(package=PACKAGE, executable="camera_source", name="camera_source",
             output="screen", condition=IfCondition(LaunchConfiguration("start_source")),
             parameters=[config, {"source": LaunchConfiguration("source"),
                                  "path": LaunchConfiguration("source_path")}],
             remappings=[("image_raw", LaunchConfiguration("input_topic"))]),
    ])
    return LaunchDescription([*args, nodes])
