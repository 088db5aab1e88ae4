"""Payload versions: 4 and 5 (written now) keep a byte of the model id; 2 and 3 still read.

Legacy payloads are rebuilt here exactly as the encoder wrote them before 2026-12-07 (the
same body behind the 4-byte header with the whole model id, the check started at 0), so these
tests hold the decoder to every payload recorded before the change.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from gan_compress_ros.codec import BitstreamError, Codec
from gan_compress_ros.codec.bitstream import (
    CONTEXT_VERSION,
    HEADER_BYTES,
    INTER_VERSION,
    LEGACY_CONTEXT_VERSION,
    LEGACY_HEADER_BYTES,
    LEGACY_INTER_VERSION,
    check_byte,
    header_bytes,
    model_seed,
    model_tag,
    pack_header,
    quality_of,
    read_header,
    seal,
)
from gan_compress_ros.codec.temporal import load_tables


def legacy_intra(payload: bytes, model_id: str) -> bytes:
    """The version-2 payload of a version-4 one: the same quality byte and body."""
    assert payload[0] == CONTEXT_VERSION
    return seal(LEGACY_CONTEXT_VERSION, model_id, payload[HEADER_BYTES:])


def test_intra_header_is_version_tag_check_quality(onnx: Codec, val_frames: np.ndarray
                                                   ) -> None:
    payloads = onnx.encode(val_frames, quality=0.4)
    seed = model_seed(CONTEXT_VERSION, onnx.model_id)
    assert seed == zlib.crc32(bytes.fromhex(onnx.model_id))
    for p in payloads:
        assert p[0] == CONTEXT_VERSION and p[1] == bytes.fromhex(onnx.model_id)[1]
        assert quality_of(p) == round(0.4 * 255) == p[3]
        assert p[2] == zlib.crc32(p[3:], seed) & 0xFF  # the check covers the whole model id
        assert len(legacy_intra(p, onnx.model_id)) == len(p) + 1


def test_version_2_payloads_still_decode_to_the_same_frames(onnx: Codec,
                                                           val_frames: np.ndarray) -> None:
    for q in (0.0, 0.5, 1.0):
        payloads = onnx.encode(val_frames, quality=q)
        old = [legacy_intra(p, onnx.model_id) for p in payloads]
        assert all(quality_of(o) == quality_of(p) for o, p in zip(old, payloads, strict=True))
        np.testing.assert_array_equal(onnx.decode(old), onnx.decode(payloads))
        for o in old:  # and the legacy header still names a wrong model outright
            wrong = o[:1] + bytes([o[1] ^ 0xFF]) + o[2:]
            with pytest.raises(BitstreamError, match="from model"):
                onnx.decode(wrong)


def test_payload_of_other_weights_is_named_or_fails_the_check(
        onnx: Codec, codec2: Codec, val_frames: np.ndarray) -> None:
    assert codec2.coder.version == CONTEXT_VERSION
    payloads = codec2.encode(val_frames, quality=0.5)
    if model_tag(codec2.model_id) != model_tag(onnx.model_id):
        for p in payloads:
            with pytest.raises(BitstreamError, match=f"from a model whose id ends in "
                                                     f"{codec2.model_id[2:]}, this decoder "
                                                     f"holds model {onnx.model_id}"):
                onnx.decode(p)
    # ids that end alike (1 in 256): the check byte, started from the whole id, refuses them
    twin = f"{int(onnx.model_id, 16) ^ 0x0100:04x}"
    assert model_tag(twin) == model_tag(onnx.model_id)
    refused = 0
    for p in onnx.encode(val_frames, quality=0.5):
        forged = seal(CONTEXT_VERSION, twin, p[HEADER_BYTES:])
        assert forged[1] == p[1] and forged[3:] == p[3:]
        try:
            onnx.decode(forged)
        except BitstreamError as exc:
            assert "from other weights whose id ends like this decoder's model" in str(exc)
            refused += 1
    assert refused >= len(val_frames) - 1, refused  # 1 in 256 may pass the check


def test_check_byte_is_seeded_only_in_packed_versions() -> None:
    body = bytes(range(40))
    assert seal(LEGACY_CONTEXT_VERSION, "a543", body)[1:3] == bytes.fromhex("a543")
    assert seal(LEGACY_CONTEXT_VERSION, "a543", body)[3] == check_byte(body)
    assert seal(CONTEXT_VERSION, "a543", body)[:2] == bytes([CONTEXT_VERSION, 0x43])
    assert seal(CONTEXT_VERSION, "a543", body)[2] == check_byte(body, model_seed(
        CONTEXT_VERSION, "a543"))
    assert seal(CONTEXT_VERSION, "a543", body)[2] != seal(CONTEXT_VERSION, "b643", body)[2]
    assert [header_bytes(v) for v in (1, 2, 3, 4, 5)] == [LEGACY_HEADER_BYTES] * 3 + [
        HEADER_BYTES] * 2
    with pytest.raises(BitstreamError, match="truncated payload: 2 bytes, the header alone "
                                             "is 3"):
        read_header(bytes([CONTEXT_VERSION, 0x43]), "a543", [CONTEXT_VERSION])
    with pytest.raises(BitstreamError, match="truncated payload: 3 bytes, the header alone "
                                             "is 4"):
        read_header(bytes([LEGACY_CONTEXT_VERSION, 0xA5, 0x43]), "a543",
                    [CONTEXT_VERSION, LEGACY_CONTEXT_VERSION])


def test_version_3_inter_frames_still_decode(onnx: Codec, clip: np.ndarray) -> None:
    """A whole legacy stream (version-2 keys, version-3 inter frames) decodes as before."""
    enc = onnx.stream_encoder(key_interval=8)
    payloads = [enc.encode(f) for f in clip[:12]]
    assert {p[0] for p in payloads} == {CONTEXT_VERSION, INTER_VERSION}
    tables_crc = load_tables(onnx).crc
    old, key_crc = [], 0
    for p in payloads:
        if p[0] == CONTEXT_VERSION:
            o = legacy_intra(p, onnx.model_id)
            key_crc = zlib.crc32(o)
        else:  # [5][tag][check][key][body] -> [3][model id][check][key][body], the old key
            body = p[4:]
            o = pack_header(LEGACY_INTER_VERSION, onnx.model_id,
                            check_byte(body, key_crc ^ tables_crc)) + bytes([key_crc >> 24]) + body
            assert len(o) == len(p) + 1
        old.append(o)
    new_dec, old_dec = onnx.stream_decoder(), onnx.stream_decoder()
    for p, o in zip(payloads, old, strict=True):
        np.testing.assert_array_equal(old_dec.decode(o), new_dec.decode(p))
    assert old_dec.inter_bytes == new_dec.inter_bytes + sum(
        p[0] == INTER_VERSION for p in payloads)
