"""Parameters from the table (``parameters.py``): declaration, run-time changes, the codec.

Every parameter is declared with its description, its range and whether it may change at
run time (``ros2 param describe`` shows all three). A double accepts an integer
(``-p max_rate_hz:=5``). A value of the wrong type or outside the table's range stops the
node at start with one line naming it, and is refused by ``ros2 param set`` with the same
reason. Parameters that need a restart are read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rcl_interfaces.msg import (
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.node import Node
from rclpy.parameter import Parameter

from ..codec import Codec
from ..codec.bundled import DEFAULT_NAME
from ..codec.errors import WeightsError
from .parameters import BY_NAME, Param
from .runner import StartupError

_KINDS = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}


def _descriptor(param: Param) -> ParameterDescriptor:
    desc = ParameterDescriptor(description=param.description, read_only=not param.dynamic)
    if isinstance(param.default, float):
        desc.dynamic_typing = True  # an integer is a fine double: coerce() converts it
    elif (isinstance(param.default, int) and not isinstance(param.default, bool)
          and param.unset is None and param.low is not None and param.high is not None):
        desc.integer_range = [IntegerRange(from_value=int(param.low),
                                           to_value=int(param.high), step=0)]
    if isinstance(param.default, float) and param.unset is None and param.low is not None:
        desc.additional_constraints = (f">= {param.low:g}" if param.high is None else
                                       f"{param.low:g} to {param.high:g}")
    elif param.unset is not None:
        desc.additional_constraints = f"{param.low:g} to {param.high:g}, or {param.unset:g}"
    elif param.choices:
        desc.additional_constraints = f"one of {', '.join(param.choices)}"
    return desc


def checked(name: str, value: Any) -> Any:
    """``value`` coerced to parameter ``name``'s type; ValueError saying why it is refused."""
    param = BY_NAME[name]
    try:
        value = param.coerce(value)
    except TypeError as exc:
        raise ValueError(f"bad parameter {name}={value!r}: {exc}") from None
    why = param.check(value)
    if why:
        raise ValueError(f"bad parameter {name}={value!r}: {why}")
    return value


def declare(node: Node, name: str) -> Any:
    """Declare ``name`` from the parameter table; its checked value (StartupError if bad)."""
    param = BY_NAME[name]
    try:
        node.declare_parameter(name, param.default, _descriptor(param))
    except InvalidParameterTypeException as exc:
        raise StartupError(f"bad parameter {name}: expects {_KINDS[type(param.default)]} "
                           f"like its default {param.default!r} ({exc})") from None
    except InvalidParameterValueException as exc:  # outside the declared integer range
        raise StartupError(f"bad parameter {name}: {str(exc).split('Reason: ')[-1]}") from None
    raw = node.get_parameter(name).value
    try:
        value = checked(name, raw)
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    if value is not raw and type(value) is not type(raw):  # show the double it became
        node.set_parameters([Parameter(name, value=value)])
    return value


def on_change(node: Node, handlers: dict[str, Callable[[Any], None]]) -> None:
    """Apply ``ros2 param set`` of the dynamic parameters through ``handlers``.

    Each value is checked against the table first; a handler may raise ValueError to refuse
    it (e.g. weights that do not load). Nothing is applied unless every value is accepted.
    """
    def callback(params: list[Parameter]) -> SetParametersResult:
        staged: list[tuple[Callable[[Any], None], Any]] = []
        for p in params:
            if p.name not in handlers:
                continue  # read-only ones are refused by rclpy; qos_overrides etc. pass
            try:
                staged.append((handlers[p.name], checked(p.name, p.value)))
            except ValueError as exc:
                return SetParametersResult(successful=False, reason=str(exc))
        for handler, value in staged:
            try:
                handler(value)
            except ValueError as exc:
                return SetParametersResult(successful=False, reason=str(exc))
        for p in params:
            if p.name in handlers:
                node.get_logger().info(f"parameter {p.name} set to {p.value!r}")
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(callback)


def open_codec(node: Node, weights: str) -> Codec:
    """The codec for ``weights`` with the node's (read-only) backend parameters."""
    backend = node.get_parameter("backend").value
    device = node.get_parameter("device").value
    precision = node.get_parameter("precision").value
    threads = int(node.get_parameter("threads").value)
    try:
        return Codec.load(weights or None, device, backend=backend, precision=precision,
                          threads=threads)
    except WeightsError as exc:
        raise ValueError(f"cannot load weights: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"bad codec parameters (backend={backend!r}, device={device!r}, "
                         f"precision={precision!r}, threads={threads}): {exc}") from None


def load_codec(node: Node) -> Codec:
    """Declare the codec parameters and load the codec; StartupError names the cause.

    An empty ``weights`` becomes the name of the preset it stands for, so that
    ``ros2 param get`` reports what was loaded.
    """
    weights = declare(node, "weights")
    for name in ("backend", "device", "precision", "threads"):
        declare(node, name)
    try:
        codec = open_codec(node, weights)
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    if not weights:
        node.set_parameters([Parameter("weights", value=DEFAULT_NAME)])
    node.get_logger().info(codec.describe())
    return codec


def reliable_input(topic: str, depth: int) -> list[str]:
    """ROS args making a node's (sensor-data) subscription on ``topic`` reliable, ``depth`` deep.

    ``topic`` is the resolved name. For benchmarks and tests where every frame must be
    accounted for; users get the nodes' default QoS.
    """
    return ["-p", f"qos_overrides.{topic}.subscription.reliability:=reliable",
            "-p", f"qos_overrides.{topic}.subscription.depth:={depth}",
            "-p", "input_reliability:=reliable"]  # the encoder's own reliability switch
