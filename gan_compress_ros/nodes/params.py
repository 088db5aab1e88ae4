"""Parameter declaration with descriptions, and the codec parameters both codec nodes share."""

from __future__ import annotations

from typing import Any

import torch
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from ..codec import Codec
from ..codec.errors import WeightsError
from .runner import StartupError


def declare(node: Node, name: str, default: Any, description: str) -> Any:
    """Declare ``name`` with a description (visible in ``ros2 param describe``); its value."""
    node.declare_parameter(name, default, ParameterDescriptor(description=description))
    return node.get_parameter(name).value


def load_codec(node: Node) -> Codec:
    """Declare ``weights`` and ``device`` and load the codec; StartupError names the file."""
    weights = declare(node, "weights", "", "weights file (.safetensors) or bundled rate point "
                      f"({', '.join(Codec.bundled()) or 'none installed'}); empty: the "
                      "bundled default")
    device = declare(node, "device", "cpu", "cpu, cuda or auto")
    threads = int(declare(node, "threads", 1, "CPU threads for the codec (0: torch's "
                          "default); one leaves cores to the rest of the robot"))
    if threads < 0:
        raise StartupError(f"bad parameter threads={threads}: must be >= 0")
    if threads:
        torch.set_num_threads(threads)
    try:
        codec = Codec.load(weights or None, device)
    except WeightsError as exc:
        raise StartupError(f"cannot load weights: {exc}") from None
    except ValueError as exc:
        raise StartupError(f"bad parameter device={device!r}: {exc}") from None
    node.get_logger().info(f"codec {codec.model_id} ({codec.metadata.get('preset')}) from "
                           f"{codec.path} on {codec.device}")
    return codec
