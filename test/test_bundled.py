"""The bundled rate points: present, valid, ordered by rate, and as good as their cards say.

Floors sit about 1 dB under what the weights measured on test/data/val when they were
bundled (low 22.7, mid 25.1, high 26.3 dB), so a broken file or a codec regression fails.
"""

import numpy as np
import pytest

from gan_compress_ros.codec import Codec
from gan_compress_ros.training.metrics import mean_psnr

FLOORS = {"low": 21.5, "mid": 24.0, "high": 25.0}


def test_three_rate_points_are_bundled() -> None:
    assert Codec.bundled() == ["low", "mid", "high"]
    assert Codec.load().model_id == Codec.load("mid").model_id


@pytest.fixture(scope="module")
def measured(val_frames: np.ndarray) -> dict[str, tuple[float, float]]:
    out = {}
    for name in Codec.bundled():
        codec = Codec.load(name)
        payloads = codec.encode(val_frames)
        out[name] = (float(np.mean([len(p) for p in payloads])),
                     mean_psnr(val_frames, codec.decode(payloads)))
    return out


def test_rate_and_quality_rise_together(measured: dict[str, tuple[float, float]]) -> None:
    (b_low, q_low), (b_mid, q_mid), (b_high, q_high) = (measured[n] for n in FLOORS)
    assert 40 < b_low < b_mid < b_high < 600
    assert q_low < q_mid < q_high


@pytest.mark.parametrize("name", list(FLOORS))
def test_quality_floor(measured: dict[str, tuple[float, float]], name: str) -> None:
    assert measured[name][1] > FLOORS[name]


@pytest.mark.parametrize("name", list(FLOORS))
def test_model_card_matches_weights(name: str) -> None:
    codec = Codec.load(name)
    card = (codec.path.with_suffix(".md")).read_text()
    assert f"model id {codec.model_id}" in card and "gan-compress-train" in card
    assert f"{codec.metadata['evaluation']['bytes_per_frame']:.1f} bytes/frame" in card
