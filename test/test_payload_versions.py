"""Payload versions: 4 and 5 (written now) keep a byte of the model id; 2 and 3 still read.

Legacy payloads are rebuilt here exactly as the encoder wrote them before 2026-12-07 (the
same body behind the 4-byte header with the whole model id, the check a CRC-32 of what
follows it alone), so these tests hold the decoder to every payload recorded before the
change. The bytes of one legacy header are also pinned, so the rebuild cannot drift along
with the code.
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
    checked,
    header_bytes,
    model_tag,
    pack_header,
    quality_of,
    read_header,
    seal,
)
from gan_compress_ros.codec.temporal import load_tables

READ = (CONTEXT_VERSION, LEGACY_CONTEXT_VERSION)


def legacy_intra(payload: bytes, model_id: str) -> bytes:
    """The version-2 payload of a version-4 one: the same quality byte and body."""
    assert payload[0] == CONTEXT_VERSION
    rest = payload[HEADER_BYTES:]
    return bytes([LEGACY_CONTEXT_VERSION]) + bytes.fromhex(model_id) + bytes(
        [zlib.crc32(rest) & 0xFF]) + rest


def test_legacy_header_bytes_are_pinned() -> None:
    rest = bytes([89]) + b"body"  # as 294d581 wrote it: version 2, model a543, check 0x09
    assert legacy_intra(seal(CONTEXT_VERSION, "a543", rest), "a543") == bytes.fromhex(
        "02a5430959626f6479")
    assert seal(LEGACY_CONTEXT_VERSION, "a543", rest) == legacy_intra(
        seal(CONTEXT_VERSION, "a543", rest), "a543")


def test_intra_header_is_version_tag_check_quality(onnx: Codec, val_frames: np.ndarray
                                                   ) -> None:
    payloads = onnx.encode(val_frames, quality=0.4)
    model = bytes.fromhex(onnx.model_id)
    for p in payloads:
        assert p[0] == CONTEXT_VERSION and p[1] == model[1] == model_tag(onnx.model_id)
        assert quality_of(p) == round(0.4 * 255) == p[3]
        assert p[2] == zlib.crc32(p[3:] + model) & 0xFF  # the check covers the whole id
        assert len(legacy_intra(p, onnx.model_id)) == len(p) + 1


def test_version_2_payloads_still_decode_to_the_same_frames(onnx: Codec,
                                                           val_frames: np.ndarray) -> None:
    for q in (0.0, 0.5, 1.0):
        payloads = onnx.encode(val_frames, quality=q)
        old = [legacy_intra(p, onnx.model_id) for p in payloads]
        assert all(quality_of(o) == quality_of(p) for o, p in zip(old, payloads, strict=True))
        np.testing.assert_array_equal(onnx.decode(old), onnx.decode(payloads))
    o = old[0]  # the legacy checks still run: the model id, then the check byte
    with pytest.raises(BitstreamError, match="payload is from model"):
        onnx.decode(o[:1] + bytes([o[1] ^ 0xFF]) + o[2:])
    with pytest.raises(BitstreamError, match="check byte does not match") as bad_check:
        onnx.decode(o[:3] + bytes([o[3] ^ 1]) + o[4:])
    assert "other weights" not in str(bad_check.value)  # version 2 names its model


def test_other_weights_are_named_by_their_tag(onnx: Codec, val_frames: np.ndarray) -> None:
    payload = onnx.encode(val_frames[0])[0]
    other = f"{int(onnx.model_id, 16) ^ 0x005A:04x}"
    with pytest.raises(BitstreamError, match=f"from a model whose id ends in "
                                             f"{onnx.model_id[2:]}, this decoder holds "
                                             f"model {other}: load the weights"):
        read_header(payload, other, READ)


def test_every_id_with_the_same_tag_fails_the_check(onnx: Codec,
                                                    val_frames: np.ndarray) -> None:
    """The ids a tag cannot tell apart (255 per model) are all refused, whatever the length."""
    payloads = onnx.encode(val_frames, quality=0.5) + onnx.encode(val_frames, quality=0.0)
    assert len({len(p) for p in payloads}) > 5
    ours = int(onnx.model_id, 16)
    for high in range(1, 256):
        twin = f"{ours ^ (high << 8):04x}"
        for p in payloads:
            header = read_header(p, twin, READ)  # the tag agrees
            with pytest.raises(BitstreamError, match="from other weights whose id ends like "
                                                     f"this decoder's model {twin}"):
                checked(header)


def test_headers_by_version() -> None:
    body = bytes(range(40))
    assert seal(CONTEXT_VERSION, "a543", body)[:2] == bytes([CONTEXT_VERSION, 0x43])
    assert seal(CONTEXT_VERSION, "a543", body)[2] == check_byte(body + bytes.fromhex("a543"))
    assert [header_bytes(v) for v in (1, 2, 3, 4, 5)] == [LEGACY_HEADER_BYTES] * 3 + [
        HEADER_BYTES] * 2
    with pytest.raises(BitstreamError, match="truncated payload: 2 bytes, the header alone "
                                             "is 3"):
        read_header(bytes([CONTEXT_VERSION, 0x43]), "a543", READ)
    with pytest.raises(BitstreamError, match="truncated payload: 3 bytes, the header alone "
                                             "is 4"):
        read_header(bytes([LEGACY_CONTEXT_VERSION, 0xA5, 0x43]), "a543", READ)
    with pytest.raises(BitstreamError, match="truncated payload: 0 bytes, the header alone "
                                             "is 4"):  # a fixed-rate reader's own header
        read_header(b"", "a543", [1])


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


def test_inter_frames_of_every_id_with_the_same_tag_fail_the_check(onnx: Codec,
                                                                   clip: np.ndarray) -> None:
    """The same for inter frames, whose check also starts from their key's and tables' CRCs."""
    enc = onnx.stream_encoder(key_interval=30)
    payloads = [enc.encode(f) for f in clip[:10]]
    key, inters = payloads[0], payloads[1:]
    assert key[0] == CONTEXT_VERSION and {p[0] for p in inters} == {INTER_VERSION}
    seed = zlib.crc32(key) ^ load_tables(onnx).crc
    ours = int(onnx.model_id, 16)
    for p in inters:
        body = p[HEADER_BYTES + 1:]
        assert read_header(p, onnx.model_id, [INTER_VERSION]).matches(body, seed)
        for high in range(1, 256):
            twin = read_header(p, f"{ours ^ (high << 8):04x}", [INTER_VERSION])
            assert not twin.matches(body, seed)
