"""Temporal mode: key and inter payloads, loss, reordering, late joiners, both backends."""

from __future__ import annotations

import numpy as np
import pytest
from testkit.files import DATA, SAMPLE, read_photos

from gan_compress_ros.codec import BitstreamError, ByteCapError, Codec, WeightsError, temporal
from gan_compress_ros.codec.bitstream import CONTEXT_VERSION, INTER_VERSION, LEGACY_INTER_VERSION
from gan_compress_ros.image import fit
from gan_compress_ros.tools.fit_temporal import fit_tables
from gan_compress_ros.training.metrics import psnr


@pytest.fixture(scope="module")
def torch_codec() -> Codec:
    return Codec.load(backend="torch")


def stream(codec: Codec, frames: np.ndarray, key_interval: int = 30, **kw) -> list[bytes]:
    enc = codec.stream_encoder(key_interval)
    return [enc.encode(f, **kw) for f in frames]


def test_static_camera_costs_a_fraction_of_intra(onnx: Codec, clip: np.ndarray) -> None:
    payloads = stream(onnx, clip)
    kinds = [p[0] for p in payloads]
    assert kinds[0] == CONTEXT_VERSION and kinds.count(INTER_VERSION) >= len(clip) - 3
    dec = onnx.stream_decoder()
    frames = np.stack([dec.decode(p) for p in payloads])
    intra = onnx.encode(clip)
    temporal_bytes = np.mean([len(p) for p in payloads])
    intra_bytes = np.mean([len(p) for p in intra])
    assert temporal_bytes < 0.5 * intra_bytes, (temporal_bytes, intra_bytes)
    # at the default quality the picture stays within a dB of intra's (docs/temporal.md)
    assert psnr(frames, clip) > psnr(onnx.decode(intra), clip) - 1.0


def test_inter_payload_header_and_codec_decode_refuses_it(onnx: Codec, clip: np.ndarray
                                                          ) -> None:
    payloads = stream(onnx, clip[:3])
    inter = payloads[1]
    assert inter[0] == INTER_VERSION and len(inter) >= temporal.HEADER_BYTES
    with pytest.raises(BitstreamError, match="stream_decoder"):
        onnx.decode([inter])
    onnx.decode([payloads[0]])  # a key frame decodes alone


def test_key_interval_one_is_intra(onnx: Codec, clip: np.ndarray) -> None:
    assert stream(onnx, clip[:6], key_interval=1) == onnx.encode(clip[:6])
    with pytest.raises(ValueError, match="key_interval"):
        onnx.stream_encoder(0)


def test_keys_come_every_key_interval(onnx: Codec, clip: np.ndarray) -> None:
    payloads = stream(onnx, clip, key_interval=8)
    keys = [i for i, p in enumerate(payloads) if p[0] == CONTEXT_VERSION]
    assert keys[0] == 0 and all(b - a <= 8 for a, b in zip(keys, keys[1:], strict=False))
    assert len(clip) - keys[-1] <= 8


def test_scene_change_starts_a_key_frame(onnx: Codec, clip: np.ndarray) -> None:
    other = np.stack([fit(p) for p in read_photos(DATA / "val")])[:4]
    enc = onnx.stream_encoder(30)
    kinds = [enc.encode(f)[0] for f in (*clip[:5], *other)]
    assert kinds[:5] == [CONTEXT_VERSION] + [INTER_VERSION] * 4
    assert kinds[5] == CONTEXT_VERSION  # a different picture: intra is smaller


def test_decodes_identically_across_backends(onnx: Codec, torch_codec: Codec,
                                             clip: np.ndarray) -> None:
    for enc_codec, dec_codec in ((onnx, torch_codec), (torch_codec, onnx)):
        payloads = stream(enc_codec, clip, key_interval=10)
        dec = dec_codec.stream_decoder()
        same = dec_codec.stream_decoder()
        for p in payloads:
            assert dec.decode(p) is not None
            same.decode(p)
        assert dec.waiting == 0


def test_loss_costs_exactly_what_depends_on_it(onnx: Codec, clip: np.ndarray) -> None:
    """10% dropped at random: what depends on a lost key is None, the rest as lossless.

    Every key and every inter frame whose key arrived decodes to the lossless frame.
    """
    payloads = stream(onnx, np.concatenate([clip, clip[::-1]]), key_interval=10)
    reference = onnx.stream_decoder()
    expected = [reference.decode(p) for p in payloads]
    rng = np.random.default_rng(1)
    kept = [i for i in range(len(payloads)) if rng.random() >= 0.1]
    assert len(kept) < len(payloads)
    dec = onnx.stream_decoder()
    last_key = -1
    shown = none = 0
    for i in kept:
        p = payloads[i]
        if p[0] == CONTEXT_VERSION:
            last_key = i
        needed = max(j for j in range(i + 1) if payloads[j][0] == CONTEXT_VERSION)
        out = dec.decode(p)
        if needed == last_key:
            assert out is not None and np.array_equal(out, expected[i])
            shown += 1
        else:
            assert out is None
            none += 1
    assert none == dec.waiting and shown + none == len(kept)


def test_late_joiner_and_reordering(onnx: Codec, clip: np.ndarray) -> None:
    payloads = stream(onnx, clip, key_interval=10)
    late = onnx.stream_decoder()
    outs = [late.decode(p) for p in payloads[3:]]
    first = next(i for i, o in enumerate(outs) if o is not None)
    assert first <= 10 and all(o is not None for o in outs[first:])
    assert late.waiting == first
    # an inter frame that arrives after the next key frame still decodes (keys are held)
    swapped = onnx.stream_decoder()
    order = list(range(len(payloads)))
    order[9], order[10] = order[10], order[9]
    assert payloads[10][0] == CONTEXT_VERSION
    assert all(swapped.decode(payloads[i]) is not None for i in order)


def test_corrupt_inter_payloads_raise_or_wait(onnx: Codec, clip: np.ndarray) -> None:
    payloads = stream(onnx, clip[:12], key_interval=30)
    dec = onnx.stream_decoder()
    dec.decode(payloads[0])
    inter = payloads[5]
    rng = np.random.default_rng(0)
    for _ in range(300):
        bad = bytearray(inter)
        bad[int(rng.integers(1, len(bad)))] ^= 1 << int(rng.integers(0, 8))
        try:
            out = dec.decode(bytes(bad))
        except BitstreamError:
            continue
        # a flipped key tag: no key held for it; else 1 in 256 passes the check byte
        assert out is None or out.shape == (64, 64, 3)
    other_model = bytes([LEGACY_INTER_VERSION, 0, 0]) + inter[2:]  # model 0000's id
    other_tag = inter[:1] + bytes([inter[1] ^ 1]) + inter[2:]
    other_check = inter[:2] + bytes([inter[2] ^ 1]) + inter[3:]  # e.g. other weights
    for bad in (inter[:2], b"\x03", other_model, other_tag, other_check):
        with pytest.raises(BitstreamError):
            dec.decode(bad)
    clean = onnx.stream_decoder()
    expected = [clean.decode(p) for p in payloads[:6]][5]
    assert np.array_equal(dec.decode(inter), expected)  # the state survived the bad ones


def test_byte_cap_applies_to_keys_and_inters(onnx: Codec, clip: np.ndarray) -> None:
    enc = onnx.stream_encoder(30)
    sizes = [len(enc.encode(f, max_bytes=120)) for f in clip[:10]]
    assert max(sizes) <= 120
    with pytest.raises(ByteCapError):
        onnx.stream_encoder(30).encode(clip[0], max_bytes=10)


def test_quality_takes_effect_at_the_next_key(onnx: Codec, clip: np.ndarray) -> None:
    enc = onnx.stream_encoder(4)
    low = [enc.encode(f, quality=0.0) for f in clip[:4]]
    high = [enc.encode(f, quality=0.7) for f in clip[4:8]]
    assert high[0][0] == CONTEXT_VERSION and len(high[0]) > len(low[0])


def test_tables_are_checked(onnx: Codec, tmp_path, clip: np.ndarray) -> None:
    tables = temporal.load_tables(onnx)
    assert tables.model_id == onnx.model_id
    with pytest.raises(WeightsError, match="not a valid tables file"):
        bad = tmp_path / "bad.temporal.safetensors"
        bad.write_bytes(b"\0" * 64)
        onnx.stream_encoder(30, tables=bad)
    other = temporal.TemporalTables("beef", tables.tables, tables.step, tables.deadzone,
                                    tables.skip_sum, tables.key_boost)
    other.save(tmp_path / "other.temporal.safetensors")
    with pytest.raises(WeightsError, match="for model beef"):
        onnx.stream_decoder(tables=tmp_path / "other.temporal.safetensors")
    # a decoder with other tables (another step) rejects inter payloads
    changed = temporal.TemporalTables(tables.model_id, tables.tables, tables.step + 1)
    changed.save(tmp_path / "changed.temporal.safetensors")
    payloads = stream(onnx, clip[:4])
    dec = onnx.stream_decoder(tables=tmp_path / "changed.temporal.safetensors")
    dec.decode(payloads[0])
    with pytest.raises(BitstreamError, match="temporal tables"):
        for p in payloads[1:]:
            dec.decode(p)


def test_fitting_counts_and_the_tables_work(onnx: Codec, tmp_path) -> None:
    folder = tmp_path / "clip"
    folder.mkdir()
    for path in sorted(SAMPLE.glob("*.jpg"))[:20]:
        (folder / path.name).write_bytes(path.read_bytes())
    tables = fit_tables(onnx, [str(folder)], key_interval=10, seed=0)
    assert tables.metadata["frames"] == 20 and tables.model_id == onnx.model_id
    tables.save(tmp_path / "t.temporal.safetensors")
    assert (tmp_path / "t.temporal.safetensors").stat().st_mode & 0o777 == 0o644
    loaded = temporal.TemporalTables.load(tmp_path / "t.temporal.safetensors")
    assert loaded.crc == tables.crc
    with pytest.raises(ValueError, match="no clip"):
        fit_tables(onnx, [str(next(folder.iterdir()))])


def test_key_interval_one_works_with_a_fixed_rate_model(codec: Codec, clip: np.ndarray) -> None:
    enc = codec.stream_encoder(1)
    assert [enc.encode(f) for f in clip[:3]] == codec.encode(clip[:3])
    with pytest.raises(ValueError, match="variable-rate"):
        codec.stream_encoder(30)


def test_repeated_keys_keep_the_older_ones(onnx: Codec, clip: np.ndarray) -> None:
    payloads = stream(onnx, clip[:25], key_interval=5)
    keys = [i for i, p in enumerate(payloads) if p[0] == CONTEXT_VERSION]
    dec = onnx.stream_decoder()
    dec.decode(payloads[keys[0]])
    for _ in range(temporal.KEYS_HELD + 2):  # a link that repeats the next key many times
        dec.decode(payloads[keys[1]])
    assert dec.decode(payloads[keys[0] + 1]) is not None  # the first key is still held


def test_bad_arguments_are_refused_on_inter_frames_too(onnx: Codec, clip: np.ndarray) -> None:
    enc = onnx.stream_encoder(30)
    enc.encode(clip[0])
    for kwargs in ({"quality": 7.0}, {"quality": "x"}, {"max_bytes": 0}, {"max_bytes": "50"}):
        with pytest.raises(ValueError):
            enc.encode(clip[1], **kwargs)


def test_fitted_tables_go_beside_the_model_they_are_for(tmp_path) -> None:
    """``gan-compress-fit-temporal --weights FILE`` once overwrote the bundled model's tables."""
    from gan_compress_ros.codec.bundled import BUNDLED_DIR, MODEL, ONNX_DIR
    from gan_compress_ros.tools.fit_temporal import default_out

    assert default_out(tmp_path / "cam.safetensors") == tmp_path / "cam.temporal.safetensors"
    for default in (BUNDLED_DIR / f"{MODEL}.safetensors", ONNX_DIR / MODEL):
        assert default_out(default) == BUNDLED_DIR / f"{MODEL}.temporal.safetensors"
