"""Parameter declaration with descriptions, and the codec parameters both codec nodes share."""

from __future__ import annotations

from typing import Any

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from ..codec import Codec
from ..codec.errors import WeightsError
from .parameters import BY_NAME
from .runner import StartupError


def declare(node: Node, name: str) -> Any:
    """Declare ``name`` from the parameter table (``parameters.py``); its checked value.

    The description shows in ``ros2 param describe``; a value outside the table's choices or
    range stops the node at start with a message naming the parameter.
    """
    param = BY_NAME[name]
    node.declare_parameter(name, param.default,
                           ParameterDescriptor(description=param.description))
    value = node.get_parameter(name).value
    why = param.check(value)
    if why:
        raise StartupError(f"bad parameter {name}={value!r}: {why}")
    return value


def load_codec(node: Node) -> Codec:
    """Declare the codec parameters and load the codec; StartupError names the cause."""
    weights = declare(node, "weights")
    backend = declare(node, "backend")
    device = declare(node, "device")
    precision = declare(node, "precision")
    threads = int(declare(node, "threads"))
    try:
        codec = Codec.load(weights or None, device, backend=backend, precision=precision,
                           threads=threads)
    except WeightsError as exc:
        raise StartupError(f"cannot load weights: {exc}") from None
    except ValueError as exc:
        raise StartupError(f"bad codec parameters (backend={backend!r}, device={device!r}, "
                           f"precision={precision!r}, threads={threads}): {exc}") from None
    node.get_logger().info(codec.describe())
    return codec


def reliable_input(topic: str, depth: int) -> list[str]:
    """ROS args making a node's (sensor-data) subscription on ``topic`` reliable, ``depth`` deep.

    ``topic`` is the resolved name. For benchmarks and tests where every frame must be
    accounted for; users get the nodes' default QoS.
    """
    return ["-p", f"qos_overrides.{topic}.subscription.reliability:=reliable",
            "-p", f"qos_overrides.{topic}.subscription.depth:={depth}"]
