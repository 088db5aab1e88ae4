"""The public latent layer: one ``CodedFrame`` per coded frame under every coding path."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from gan_compress_ros.codec import BitstreamError, Codec
from gan_compress_ros.codec.context_coding import ContextModel
from gan_compress_ros.codec.inter import Key, bins_of

PACKAGE = Path(__file__).resolve().parent.parent / "gan_compress_ros"


@pytest.fixture(scope="module")
def clip(clip: np.ndarray) -> np.ndarray:
    """The first 12 frames of the bundled clip (conftest's)."""
    return clip[:12]


def test_encode_is_latent_then_entropy_coding(onnx: Codec, clip: np.ndarray) -> None:
    """``encode`` = ``code_latent(latent(frames))``; ``read`` gives back the same frame."""
    coded = onnx.encode_frames(clip, quality=0.4)
    assert [c.payload for c in coded] == onnx.encode(clip, quality=0.4)
    again = onnx.code_latent(onnx.latent(clip, 0.4), 0.4)
    assert [c.payload for c in again] == [c.payload for c in coded]
    read = onnx.read([c.payload for c in coded])
    for a, b in zip(coded, read, strict=True):
        assert (a.kind, a.qbyte, b.qbyte) == ("intra", onnx.quality_byte(0.4), a.qbyte)
        np.testing.assert_array_equal(a.latent, b.latent)
        np.testing.assert_array_equal(a.tables, b.tables)
    np.testing.assert_array_equal(onnx.synthesise(read), onnx.decode(onnx.encode(clip, 0.4)))


def test_code_latent_refuses_other_shapes(onnx: Codec) -> None:
    with pytest.raises(ValueError, match="latent must be integers"):
        onnx.code_latent(np.zeros((1, 3, 4, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="latent must be integers"):
        onnx.code_latent(np.zeros((1, *onnx.latent_shape), dtype=np.float32))
    with pytest.raises(ValueError, match="qbyte"):
        onnx.code_latent(np.zeros(onnx.latent_shape, dtype=np.int64), qbyte=256)


def test_key_bins_are_the_tables_the_coder_used(onnx: Codec, clip: np.ndarray) -> None:
    """A key's residual bins, read off its tables, equal planning the whole latent again."""
    model = onnx.tables
    assert isinstance(model, ContextModel)
    for coded in onnx.encode_frames(clip[:3], quality=0.7):
        flat = coded.latent.reshape(1, -1).astype(np.float64)
        planned = np.zeros(flat.shape[1], dtype=np.int64)
        for g, idx in enumerate(model.groups):
            planned[idx] = model.plan(flat, np.array([coded.qbyte]), g)[1][0]
        np.testing.assert_array_equal(coded.tables, planned)
        np.testing.assert_array_equal(Key.of(coded).bins, bins_of(planned))


def test_stream_decoder_runs_the_context_network_once_per_intra_frame(
        onnx: Codec, clip: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    model = onnx.tables
    assert isinstance(model, ContextModel)
    payload = onnx.encode(clip[0])[0]
    calls = []
    plan = ContextModel.plan
    monkeypatch.setattr(ContextModel, "plan",
                        lambda self, *a: calls.append(1) or plan(self, *a))
    dec = onnx.stream_decoder()
    frame = dec.decode(payload)
    assert len(calls) == len(model.groups) and len(dec.keys) == 1
    np.testing.assert_array_equal(frame, onnx.decode(payload)[0])


def test_stream_coders_return_coded_frames(onnx: Codec, clip: np.ndarray) -> None:
    enc, dec = onnx.stream_encoder(6), onnx.stream_decoder()
    for frame in clip:
        coded = enc.encode_frame(frame, quality=0.5)
        got = dec.read(coded.payload)
        assert got is not None and got.kind == coded.kind and got.qbyte == coded.qbyte
        np.testing.assert_array_equal(got.latent, coded.latent)  # both sides hold the same
    assert enc.inters > 0
    with pytest.raises(BitstreamError):
        dec.read(b"\x02")


#: A namedtuple's public methods carry an underscore so as not to clash with field names.
NAMEDTUPLE_API = {"_replace", "_asdict", "_fields", "_make"}


def test_no_module_reaches_into_another_objects_private_members() -> None:
    """``x._name`` only on ``self`` or ``cls`` (third-party internals aside)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and \
                    not node.attr.startswith("__"):
                base = node.value
                if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                    continue
                if node.attr in NAMEDTUPLE_API:  # public despite the underscore
                    continue
                text = ast.unparse(node)
                if text.startswith("torch."):
                    continue
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {text}")
    assert not found, found
