"""The bundled variable-rate model: one file, three rate points, as good as its card says.

Floors sit about 1 dB under what the rate points measured on test/data/val when the model was
bundled, so a broken file or a codec regression fails. A company may ship it: it learned only
from data whose licences allow commercial use.
"""

from pathlib import Path

import numpy as np
import pytest

from gan_compress_ros.codec import Codec, WeightsError, WeightsRef
from gan_compress_ros.codec.bundled import DEFAULT_NAME, MODEL, ONNX_DIR, RATE_POINTS
from gan_compress_ros.training.metrics import mean_psnr

#: The training folders whose licences allow commercial use (``../shared/datasets/README.md``;
#: ``dev/data_credits.py`` credits them).
COMMERCIAL = ("photos/train", "wallpapers/train", "video/train/intel", "birds525/train")

#: PSNR floors per preset: about 1 dB under what model 3dcf measured here when it was
#: bundled (low 22.93 dB at 100.6 B, mid 25.64 at 226.2 B, high 27.58 at 366.5 B, 4-byte
#: header; e453 22.96, 25.68, 27.51 at 101.5, 229.5, 360.8 B; a543 with the 5-byte one
#: 22.97, 25.64, 27.51 at 103.8, 228.4, 365.5 B; 536d 22.86, 25.55, 27.50; 3e82, f1b0,
#: 90be, 5881, b29b, 5bfc, 317f and 184a within 0.3 dB of 536d; c436: 22.64, 25.34, 26.73
#: dB at 97.0, 213.0, 336.5 B).
FLOORS = {"low": 21.7, "mid": 24.3, "high": 26.2}
#: The same at quality 1 (3dcf: 30.52 dB at 994.1 B; e453: 30.48 dB at 996.0 B; a543:
#: 30.45 dB at 997.4 B with the 5-byte header; 536d: 30.42 dB at 1,003.0 B).
TOP_FLOOR = 29.2


def test_one_model_with_three_presets() -> None:
    assert Codec.bundled() == ["low", "mid", "high"]
    codecs = [Codec.load(name) for name in Codec.bundled()]
    assert len({c.model_id for c in codecs}) == 1 and all(c.variable_rate for c in codecs)
    qualities = [c.default_quality for c in codecs]
    assert qualities == sorted(qualities) and len(set(qualities)) == 3
    assert Codec.load().default_quality == Codec.load("mid").default_quality


def test_shipped_export_spends_what_the_default_does() -> None:
    """Loaded by its path (``weights:=<dir>``), the shipped export encodes at ``mid``.

    Its manifest records the quality when it is exported: an export made before
    ``RATE_POINTS`` changed would keep the old one.
    """
    shipped = Codec.load(str(ONNX_DIR / MODEL), backend="onnxruntime")
    assert shipped.default_quality == Codec.load().default_quality


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
    """From fewer than 100 bytes a frame to more than 600, in one set of weights.

    Measured when bundled (3dcf): 58.5 B at quality 0, 994.1 B and 30.52 dB at quality 1
    (e453: 58.6 B, 996.0 B and 30.48 dB; a543 with the 5-byte header: 60.5 B, 997.4 B and
    30.45 dB; 536d: 62.0 B with bodies ending on a whole word; 1,003.0 B and 30.42 dB).
    """
    codec = Codec.load()
    sizes, psnrs = [], []
    for quality in (0, 1):
        payloads = codec.encode(val_frames, quality=quality)
        sizes.append(np.mean([len(p) for p in payloads]))
        psnrs.append(mean_psnr(val_frames, codec.decode(payloads)))
    assert sizes[0] < 100 and sizes[1] > 600 and psnrs[1] > TOP_FLOOR, (sizes, psnrs)


def test_learned_from_scratch_on_commercial_use_data_only() -> None:
    training = Codec.load(backend="torch").metadata["training"]
    # A run restarted from the bundled file on a new machine carries that file's training
    # record (``ancestry``, oldest first): every link learned from commercial-use data only,
    # and the first from scratch (c436, bundled before, descended from ImageNet-trained
    # weights through --init).
    chain = [*training.get("ancestry", []), training]
    for link in chain:
        assert link["data"] and all(Path(d).as_posix().endswith(COMMERCIAL)
                                    for d in link["data"]), link["data"]
    first = chain[0]
    assert first["init"] == "" and not any("--init" in c for c in first["commands"])
    # each restart names the model it started from
    for parent, child in zip(chain, chain[1:], strict=False):
        assert parent.get("model_id") and any("--init" in c for c in child["commands"])
    assert training["beta"] > 0 and training["gan_start"] < training["steps_done"]


def test_the_old_second_models_name_means_mid() -> None:
    """``weights:=commercial`` named a second model until the default was learned the same way."""
    ref = WeightsRef.parse("commercial")
    assert ref.bundled and ref.name == "mid" and ref.path == WeightsRef.parse("mid").path
    assert Codec.load("commercial").default_quality == Codec.load().default_quality


def test_model_card_matches_weights() -> None:
    codec = Codec.load(backend="torch")  # the weights file the card describes
    card = codec.path.with_suffix(".md").read_text()
    assert f"model id {codec.model_id}" in card and "gan-compress-train" in card
    assert f"{codec.metadata['evaluation']['bytes_per_frame']:.1f} bytes/frame" in card
    assert "commercial use allowed" in card and "DATA_CREDITS.md" in card


def test_a_weights_value_is_parsed_once(tmp_path) -> None:
    """``WeightsRef``: rate points, export directories and files, errors only when used."""
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
