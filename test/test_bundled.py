"""The bundled variable-rate model: one file, three rate points, as good as its card says.

Floors sit about 1 dB under what the rate points measured on test/data/val when the model was
bundled, so a broken file or a codec regression fails.
"""

import numpy as np
import pytest

from gan_compress_ros.codec import Codec
from gan_compress_ros.training.metrics import mean_psnr

#: PSNR floors per preset: about 1 dB under what model c436 measured here when it was
#: bundled (low 22.64 dB at 97.0 B, mid 25.34 at 213.0 B, high 26.73 at 336.5 B; model 9009
#: before it: 22.57, 25.28, 26.64 dB at 95.0, 209.5, 329.0 B).
FLOORS = {"low": 21.5, "mid": 24.2, "high": 25.6}


def test_one_model_with_three_presets() -> None:
    assert Codec.bundled() == ["low", "mid", "high"]
    codecs = [Codec.load(name) for name in Codec.bundled()]
    assert len({c.model_id for c in codecs}) == 1 and all(c.variable_rate for c in codecs)
    qualities = [c.default_quality for c in codecs]
    assert qualities == sorted(qualities) and len(set(qualities)) == 3
    assert Codec.load().default_quality == Codec.load("mid").default_quality


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


def test_quality_range_spans_the_links(val_frames: np.ndarray) -> None:
    """From fewer than 100 bytes a frame to more than 500, in one set of weights.

    Measured when bundled (c436): 74.0 B at quality 0, 594.0 B at quality 1.
    """
    codec = Codec.load()
    sizes = [np.mean([len(p) for p in codec.encode(val_frames, quality=q)]) for q in (0, 1)]
    assert sizes[0] < 100 and sizes[1] > 500


def test_model_card_matches_weights() -> None:
    codec = Codec.load(backend="torch")  # the weights file the card describes
    card = codec.path.with_suffix(".md").read_text()
    assert f"model id {codec.model_id}" in card and "gan-compress-train" in card
    assert f"{codec.metadata['evaluation']['bytes_per_frame']:.1f} bytes/frame" in card


def test_a_weights_value_is_parsed_once(tmp_path) -> None:
    """``WeightsRef``: rate points, export directories and files, errors only when used."""
    from gan_compress_ros.codec import WeightsError, WeightsRef
    from gan_compress_ros.codec.bundled import DEFAULT_NAME, ONNX_DIR, RATE_POINTS

    for value in (None, "", "low"):
        ref = WeightsRef.parse(value)
        assert ref.bundled and ref.name == (value or DEFAULT_NAME)
        assert ref.quality == RATE_POINTS[ref.name] and ref.export().parent == ONNX_DIR
        assert WeightsRef.parse(ref) is ref
    export = WeightsRef.parse(str(ONNX_DIR / "codec"))
    assert export.kind == "export" and export.export() == ONNX_DIR / "codec"
    assert Codec.load(export).weights is export
    bogus = WeightsRef.parse("loww")  # a typo: parsed, refused when loaded
    assert bogus.kind == "file" and bogus.quality is None
    with pytest.raises(WeightsError, match="neither a bundled name"):
        bogus.safetensors()
    plain = tmp_path / "w.safetensors"
    plain.write_bytes(b"x")
    with pytest.raises(WeightsError, match="not a .safetensors file"):
        WeightsRef.parse(plain).export()
