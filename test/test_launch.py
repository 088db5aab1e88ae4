"""The launch file and config: executables exist, parameters are ones the nodes declare."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import rclpy
import yaml
from rclpy.parameter import Parameter

from gan_compress_ros.nodes.camera_source import CameraSource
from gan_compress_ros.nodes.decoder_node import DecoderNode
from gan_compress_ros.nodes.encoder_node import EncoderNode

ROOT = Path(__file__).resolve().parent.parent
LAUNCH = ROOT / "launch" / "pipeline.launch.py"
CONFIG = ROOT / "config" / "pipeline.yaml"
NODE_CLASSES = {"encoder": EncoderNode, "decoder": DecoderNode, "camera_source": CameraSource}


def _console_scripts() -> set[str]:
    return set(re.findall(r'"([\w-]+) = gan_compress_ros\.', (ROOT / "setup.py").read_text()))


def test_launch_names_only_installed_executables() -> None:
    executables = set(re.findall(r'executable="([\w-]+)"', LAUNCH.read_text()))
    assert executables == {"encoder_node", "decoder_node", "camera_source"}
    assert executables <= _console_scripts()


@pytest.fixture(scope="module")
def declared(trained_weights: Path) -> dict[str, set[str]]:
    rclpy.init()
    try:
        names = {}
        for key, cls in NODE_CLASSES.items():
            params = [Parameter("weights", value=str(trained_weights))] \
                if key != "camera_source" else []
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
    assert f"for name in ({listed})" in text  # the codec parameters the launch file passes
    for name in passed:
        assert f'DeclareLaunchArgument("{name}"' in text
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


@pytest.mark.skipif(importlib.util.find_spec("launch_ros") is None,
                    reason="launch/launch_ros are not installable from PyPI; checked on ROS "
                    "installs")
def test_launch_description_loads() -> None:  # pragma: no cover - needs a ROS install
    spec = importlib.util.spec_from_file_location("pipeline_launch", LAUNCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.generate_launch_description().entities
