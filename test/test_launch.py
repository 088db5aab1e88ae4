"""The launch file and config: executables exist, parameters are ones the nodes declare."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import rclpy
import yaml
from rclpy.parameter import Parameter

from gan_compress_ros.nodes.camera_source import CameraSource
from gan_compress_ros.nodes.decoder_node import DecoderNode
from gan_compress_ros.nodes.encoder_node import EncoderNode
from gan_compress_ros.nodes.link_receive import LinkReceiver
from gan_compress_ros.nodes.link_send import LinkSender

ROOT = Path(__file__).resolve().parent.parent
LAUNCH = ROOT / "launch" / "pipeline.launch.py"
CONFIG = ROOT / "config" / "pipeline.yaml"
NODE_CLASSES = {"encoder": EncoderNode, "decoder": DecoderNode, "camera_source": CameraSource,
                "link_send": LinkSender, "link_receive": LinkReceiver}


def _console_scripts() -> set[str]:
    return set(re.findall(r'"([\w-]+) = gan_compress_ros\.', (ROOT / "setup.py").read_text()))


def test_launch_names_only_installed_executables() -> None:
    executables = set(re.findall(r'executable="([\w-]+)"', LAUNCH.read_text()))
    assert executables == {"encoder_node", "decoder_node", "camera_source"}
    assert executables <= _console_scripts()
    for name, expected in (("link_send", {"link_send"}),
                           ("link_receive", {"link_receive", "decoder_node"})):
        text = (ROOT / "launch" / f"{name}.launch.py").read_text()
        assert set(re.findall(r'executable="([\w-]+)"', text)) == expected
        assert expected <= _console_scripts()


@pytest.fixture(scope="module")
def declared(trained_weights: Path) -> dict[str, set[str]]:
    rclpy.init()
    try:
        names = {}
        free = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        free.bind(("127.0.0.1", 0))
        udp = Parameter("udp", value=f"127.0.0.1:{free.getsockname()[1]}")
        free.close()
        for key, cls in NODE_CLASSES.items():
            params = [Parameter("weights", value=str(trained_weights))] \
                if key in ("encoder", "decoder") else [udp] if key.startswith("link") else []
            node = cls(parameter_overrides=params)
            names[key] = set(node._parameters)
            node.destroy_node()
        return names
    finally:
        rclpy.shutdown()


def test_config_sets_only_declared_parameters(declared: dict[str, set[str]]) -> None:
    config = yaml.safe_load(CONFIG.read_text())
    for pattern, section in config.items():
        node = pattern.split("/")[-1]
        assert node in declared, f"{pattern}: no such node"
        unknown = set(section["ros__parameters"]) - declared[node]
        assert not unknown, f"{node}: {unknown} are not declared by the node"


def test_launch_arguments_reach_declared_parameters(declared: dict[str, set[str]]) -> None:
    text = LAUNCH.read_text()
    passed = ("weights", "backend", "device", "precision")
    listed = ", ".join(f'"{name}"' for name in passed)
    assert f"CODEC_ARGUMENTS = ({listed})" in text  # the codec parameters passed on
    assert "DeclareLaunchArgument(p.name" in text  # declared from the parameter table
    for name in passed:
        assert name in declared["encoder"] and name in declared["decoder"]
    assert {"source", "path"} <= declared["camera_source"]


def test_every_node_parameter_has_a_description(trained_weights: Path) -> None:
    rclpy.init()
    try:
        node = EncoderNode(parameter_overrides=[Parameter("weights",
                                                          value=str(trained_weights))])
        for name in ("weights", "backend", "device", "precision", "resize_mode",
                     "max_rate_hz", "threads"):
            assert node.describe_parameter(name).description, name
        node.destroy_node()
    finally:
        rclpy.shutdown()


def test_parameter_table_is_what_the_nodes_declare(declared: dict[str, set[str]]) -> None:
    """The table in nodes/parameters.py, the nodes, the YAML and the README agree."""
    from gan_compress_ros.nodes.parameters import NODES

    for node, params in NODES.items():
        builtin = {"use_sim_time", "start_type_description_service"}  # rclpy's own
        ours = {n for n in declared[node] - builtin if not n.startswith("qos_overrides.")}
        assert {p.name for p in params} == ours, node
    config = yaml.safe_load(CONFIG.read_text())
    for pattern, section in config.items():  # the YAML shows changes, not defaults
        node = pattern.split("/")[-1]
        defaults = {p.name: p.default for p in NODES[node]}
        for name, value in section["ros__parameters"].items():
            assert value != defaults[name], f"{node}.{name} restates its default"
    readme = (ROOT / "README.md").read_text()
    for node, executable in (("encoder", "encoder_node"), ("decoder", "decoder_node"),
                             ("camera_source", "camera_source"), ("link_send", "link_send"),
                             ("link_receive", "link_receive")):
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{executable}`"))
        listed = set(re.findall(r"`(\w+)`", row.split("|")[4]))
        assert listed == {p.name for p in NODES[node]}, (node, listed)
