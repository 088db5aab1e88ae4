"""The commercial-use model: loads by name, learned only on shippable data, as its card says.

``weights:=commercial`` is the model a company may ship (the default's lineage includes
ImageNet samples). Floors sit about 1 dB under what it measured on test/data/val when it was
committed, so a broken file or a codec regression fails.
"""

from pathlib import Path

import numpy as np
import pytest

from gan_compress_ros.codec import BitstreamError, Codec, WeightsRef
from gan_compress_ros.codec.bundled import BUNDLED_DIR, OTHER_MODELS
from gan_compress_ros.training.metrics import mean_psnr

#: The training folders whose licences allow commercial use (``../shared/datasets/README.md``;
#: ``dev/data_credits.py`` credits them).
COMMERCIAL = ("photos/train", "wallpapers/train", "video/train/intel", "birds525/train")
#: PSNR floors at the name's quality and at quality 1: about 1 dB under what model 19f0
#: measured here when committed (25.30 dB at 227.5 B, 30.24 dB at 1,052.0 B; 61.5 B at 0).
FLOORS = {"default": 24.3, "top": 29.2}
#: The only ``--init`` a commercial model may have: the commercial model committed before it
#: (a new machine loses the run's checkpoint; the card's Lineage section says how to go on).
LINEAGE = "gan_compress_ros/weights/commercial.safetensors"


@pytest.fixture(scope="module")
def codec() -> Codec:
    return Codec.load("commercial")


def test_the_name_loads_its_own_file(codec: Codec) -> None:
    ref = WeightsRef.parse("commercial")
    assert ref.kind == "file" and ref.path == BUNDLED_DIR / "commercial.safetensors"
    assert codec.path == ref.path and codec.default_quality == OTHER_MODELS["commercial"]
    assert codec.variable_rate and codec.model_id != Codec.load().model_id


def test_learned_from_scratch_on_commercial_use_data_only(codec: Codec) -> None:
    training = codec.metadata["training"]
    assert training["data"] and all(Path(d).as_posix().endswith(COMMERCIAL) for d in
                                    training["data"]), training["data"]
    # No inherited weights but an earlier commercial model's (which this test checked when
    # it was committed): nothing of another lineage.
    assert training["init"] in ("", LINEAGE), training["init"]
    assert all("--init" not in c or f"--init {LINEAGE} " in c
               for c in training["commands"] if c)
    assert training["beta"] > 0 and training["gan_start"] < training["steps_done"]


def test_quality_floors_and_range(codec: Codec, val_frames: np.ndarray) -> None:
    measured = {}
    for name, quality in (("default", None), ("top", 1.0)):
        payloads = codec.encode(val_frames, quality=quality)
        measured[name] = mean_psnr(val_frames, codec.decode(payloads))
        assert measured[name] > FLOORS[name], (name, measured[name])
    sizes = [np.mean([len(p) for p in codec.encode(val_frames, quality=q)]) for q in (0, 1)]
    assert sizes[0] < 100 and sizes[1] > 600, sizes


def test_payloads_name_their_model(codec: Codec, val_frames: np.ndarray) -> None:
    """The default model refuses the commercial model's payloads rather than misdecode them."""
    payload = codec.encode(val_frames[:1])[0]
    with pytest.raises(BitstreamError, match=codec.model_id):
        Codec.load().decode([payload])


def test_model_card_matches_weights(codec: Codec) -> None:
    card = codec.path.with_suffix(".md").read_text()
    assert f"model id {codec.model_id}" in card and "gan-compress-train" in card
    assert f"{codec.metadata['evaluation']['bytes_per_frame']:.1f} bytes/frame" in card
    assert "commercial" in card and "DATA_CREDITS.md" in card


def test_temporal_tables_are_its_own(codec: Codec) -> None:
    """Temporal mode (``key_interval`` > 1) works with it: its tables lie beside it."""
    from gan_compress_ros.codec.temporal import load_tables

    assert load_tables(codec).model_id == codec.model_id


def test_fitted_tables_go_beside_the_model_they_are_for() -> None:
    """``gan-compress-fit-temporal --weights commercial`` once overwrote the default's tables."""
    from gan_compress_ros.codec.bundled import MODEL, ONNX_DIR
    from gan_compress_ros.tools.fit_temporal import default_out

    assert default_out(BUNDLED_DIR / "commercial.safetensors") == \
        BUNDLED_DIR / "commercial.temporal.safetensors"
    for default in (BUNDLED_DIR / f"{MODEL}.safetensors", ONNX_DIR / MODEL):
        assert default_out(default) == BUNDLED_DIR / f"{MODEL}.temporal.safetensors"
