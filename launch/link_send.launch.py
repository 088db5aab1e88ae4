"""The robot's end of a link: link_send carries image_raw/gan over a serial radio or UDP.

Example: ``ros2 launch gan_compress_ros link_send.launch.py serial_port:=/dev/ttyUSB0
baud:=9600 encoder:=/encoder key_file:=link.key`` beside ``pipeline.launch.py`` (or an
encoder alone).
"""

from launch.actions import DeclareLaunchArgument, GroupAction, Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node, PushRosNamespace

from gan_compress_ros.nodes.parameters import LINK_SEND
from launch import LaunchDescription

#: Parameters passed through as launch arguments (defaults and descriptions from the table).
ARGUMENTS = ("serial_port", "baud", "udp", "key_file", "rate_bytes_per_s", "encoder")


def generate_launch_description() -> LaunchDescription:
    """Arguments, then link_send in the namespace; the launch ends if the node does."""
    args = [DeclareLaunchArgument("namespace", default_value="", description="namespace"),
            DeclareLaunchArgument("topic", default_value="image_raw/gan",
                                  description="latent topic to send"),
            *(DeclareLaunchArgument(p.name, default_value=str(p.default),
                                    description=p.description)
              for p in LINK_SEND if p.name in ARGUMENTS)]
    node = Node(package="gan_compress_ros", executable="link_send", name="link_send",
                output="screen", on_exit=[Shutdown(reason="link_send exited")],
                parameters=[{name: LaunchConfiguration(name) for name in ARGUMENTS}],
                remappings=[("image_raw/gan", LaunchConfiguration("topic"))])
    return LaunchDescription([*args, GroupAction([
        PushRosNamespace(LaunchConfiguration("namespace")), node])])
