"""Parameter declaration with descriptions, and the codec parameters both codec nodes share."""

from __future__ import annotations

from typing import Any

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from ..codec import BACKENDS, PRECISIONS, Codec
from ..codec.errors import WeightsError
from .runner import StartupError


def declare(node: Node, name: str, default: Any, description: str) -> Any:
    """Declare ``name`` with a description (visible in ``ros2 param describe``); its value."""
    node.declare_parameter(name, default, ParameterDescriptor(description=description))
    return node.get_parameter(name).value


def load_codec(node: Node) -> Codec:
    """Declare the codec parameters and load the codec; StartupError names the cause."""
    weights = declare(node, "weights", "", "weights file (.safetensors), ONNX export directory "
                      "(gan-compress-export) or bundled rate point "
                      f"({', '.join(Codec.bundled()) or 'none installed'}); empty: the "
                      "bundled default")
    backend = declare(node, "backend", "auto", f"{', '.join(BACKENDS)}: runtime of the "
                      "transforms; auto takes onnxruntime for an export directory, else torch "
                      "if installed, else onnxruntime. Payloads decode across backends")
    device = declare(node, "device", "cpu", "cpu, cuda or auto (onnxruntime: TensorRT, then "
                     "CUDA, then CPU, as installed)")
    precision = declare(node, "precision", "fp32", f"{', '.join(PRECISIONS)}; fp16 needs "
                        "torch on cuda, or onnxruntime with TensorRT or an export's fp16 "
                        "models")
    threads = int(declare(node, "threads", 1, "CPU threads for the codec (0: the runtime's "
                          "default); one leaves cores to the rest of the robot"))
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
