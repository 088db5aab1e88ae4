"""Shared fixtures: a small codec trained in the test session on the shipped photos."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

# Integration tests talk over real DDS: a random domain and localhost-only discovery keep
# parallel runs (and other machines) out of each other's way. Set before rclpy loads.
os.environ["ROS_DOMAIN_ID"] = str(random.SystemRandom().randint(1, 101))
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ["ROS_LOCALHOST_ONLY"] = "1"

import numpy as np
import pytest
import torch
from testkit.files import DATA, SAMPLE, read_photos  # noqa: E402 (after the ROS environment)

from gan_compress_ros.codec import Codec
from gan_compress_ros.image import fit
from gan_compress_ros.training.data import eval_frames, find_images
from gan_compress_ros.training.trainer import TrainConfig, Trainer

#: Test tiers (one place): ``ros`` modules start nodes over real DDS or need rclpy; ``slow``
#: ones take more than a few seconds each (builds, soaks, 1,000-frame parity, training).
#: ``make test-fast`` runs neither; ``make test`` (CI) runs everything.
ROS_MODULES = {"test_nodes", "test_backend_nodes", "test_encoder_inputs", "test_link_faults",
               "test_node_fuzz", "test_replay", "test_soak", "test_demo", "test_launch",
               "test_camera_source", "test_convert", "test_node_params", "test_ros2_launch",
               "test_link_nodes", "test_temporal_nodes", "test_dds", "test_publish_failures",
               "test_camera_info_nodes"}
SLOW_MODULES = {"test_backends", "test_soak", "test_ddp", "test_colcon_build", "test_context",
                "test_bag_tool", "test_determinism", "test_demo", "test_backend_nodes",
                "test_bench", "test_tools_reports", "test_eval", "test_lint", "test_ros2_launch",
                "test_link_nodes", "test_temporal_nodes", "test_dds", "test_bag_rosbag2"}


def pytest_configure(config: pytest.Config) -> None:
    """Declare the tier markers."""
    config.addinivalue_line("markers", "ros: needs rclpy and DDS (nodes over topics)")
    config.addinivalue_line("markers", "slow: seconds to minutes each; not in make test-fast")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its module's tiers."""
    for item in items:
        module = item.module.__name__.rpartition(".")[2] if item.module else ""
        if module in ROS_MODULES:
            item.add_marker(pytest.mark.ros)
        if module in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


#: torch's thread count as the session starts (every core). Trainers and codecs given a
#: ``threads`` set it for the whole process; without this, one fixture trained on one thread
#: would leave every later test on one.
TORCH_THREADS = torch.get_num_threads()


@pytest.fixture(autouse=True)
def _torch_threads_restored() -> Iterator[None]:
    """Each test ends with torch back on the session's thread count."""
    yield
    torch.set_num_threads(TORCH_THREADS)


#: A model trained for seconds, not hours: the default architecture at reduced width.
TRAIN_STEPS = 600
SMALL = {"channels": 48, "latent_channels": 32}


@pytest.fixture(scope="session")
def photos() -> list[np.ndarray]:
    """The shipped validation photos, RGB at their own sizes."""
    return read_photos(DATA / "val")


@pytest.fixture(scope="session")
def trained_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Weights file of a compact codec trained briefly on test/data/train."""
    out = tmp_path_factory.mktemp("train")
    config = TrainConfig(data=[str(DATA / "train")], val=[str(DATA / "val")], out=str(out),
                         preset_overrides=SMALL, lmbda=50.0, steps=TRAIN_STEPS, batch=8,
                         lr=2e-3, seed=0, threads=0, checkpoint_every=10_000,
                         command="pytest fixture")
    Trainer(config).train()
    return out / "weights.safetensors"


@pytest.fixture(scope="session")
def codec(trained_weights: Path) -> Codec:
    """The briefly trained codec, loaded through the public API."""
    return Codec.load(str(trained_weights))


@pytest.fixture(scope="session")
def val_frames() -> np.ndarray:
    """Centre crops (64x64) of the shipped validation photos."""
    return eval_frames(find_images([DATA / "val"]))


@pytest.fixture(scope="session")
def clip() -> np.ndarray:
    """The bundled surveillance clip (a fixed camera), 64x64 as the node codes it, in order."""
    return np.stack([fit(f) for f in read_photos(SAMPLE)])


@pytest.fixture(scope="session")
def onnx() -> Codec:
    """The bundled model on onnxruntime."""
    return Codec.load(backend="onnxruntime")


@pytest.fixture(scope="module")
def ros():
    """An rclpy context and a probe node in the test process (one per test module)."""
    import rclpy

    rclpy.init()
    node = rclpy.create_node("test_probe")
    yield node
    node.destroy_node()
    rclpy.shutdown()
