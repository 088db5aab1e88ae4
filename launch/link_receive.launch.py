"""The base station's end of a link: link_receive, and decoder_node on what it publishes.

``start_decoder:=false`` starts the bridge alone.

Example: ``ros2 launch gan_compress_ros link_receive.launch.py serial_port:=/dev/ttyUSB1
baud:=9600 key_file:=link.key``.
"""

from launch.actions import DeclareLaunchArgument, GroupAction, Shutdown
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node, PushRosNamespace

from gan_compress_ros.nodes.parameters import LINK_RECEIVE
from launch import LaunchDescription

ARGUMENTS = ("serial_port", "baud", "udp", "key_file", "peer", "max_payload")


def generate_launch_description() -> LaunchDescription:
    """Arguments, then link_receive (and decoder_node) in the namespace."""
    args = [DeclareLaunchArgument("namespace", default_value="", description="namespace"),
            DeclareLaunchArgument("topic", default_value="image_raw/gan",
                                  description="latent topic to publish"),
            DeclareLaunchArgument("start_decoder", default_value="true",
                                  description="also start decoder_node on the topic"),
            *(DeclareLaunchArgument(p.name, default_value=str(p.default),
                                    description=p.description)
              for p in LINK_RECEIVE if p.name in ARGUMENTS)]
    stop = [Shutdown(reason="a link node exited")]
    nodes = [Node(package="gan_compress_ros", executable="link_receive", name="link_receive",
                  output="screen", on_exit=stop,
                  parameters=[{name: LaunchConfiguration(name) for name in ARGUMENTS}],
                  remappings=[("image_raw/gan", LaunchConfiguration("topic"))]),
             Node(package="gan_compress_ros", executable="decoder_node", name="decoder",
                  output="screen", on_exit=stop,
                  condition=IfCondition(LaunchConfiguration("start_decoder")),
                  remappings=[("image_raw/gan", LaunchConfiguration("topic"))])]
    return LaunchDescription([*args, GroupAction([
        PushRosNamespace(LaunchConfiguration("namespace")), *nodes])])
