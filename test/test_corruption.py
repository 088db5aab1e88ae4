"""Malformed payloads: each raises BitstreamError or decodes to a valid 64x64x3 image."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gan_compress_ros.codec import BitstreamError, Codec
from gan_compress_ros.codec.bitstream import FORMAT_VERSION, HEADER_BYTES


def _decodes_safely(codec: Codec, payload: object) -> None:
    try:
        image = codec.decode([payload])
    except BitstreamError:
        return
    assert image.shape == (1, 64, 64, 3) and image.dtype == np.uint8


@pytest.fixture(scope="module")
def payload(codec: Codec, val_frames: np.ndarray) -> bytes:
    return codec.encode(val_frames[0])[0]


def test_truncation_at_every_position(codec: Codec, payload: bytes) -> None:
    for n in range(len(payload)):
        _decodes_safely(codec, payload[:n])
    for n in range(HEADER_BYTES):
        with pytest.raises(BitstreamError, match="truncated"):
            codec.decode([payload[:n]])


def test_every_single_bit_flip(codec: Codec, payload: bytes) -> None:
    for i in range(len(payload) * 8):
        flipped = bytearray(payload)
        flipped[i // 8] ^= 1 << (i % 8)
        _decodes_safely(codec, bytes(flipped))


def test_random_bytes(codec: Codec) -> None:
    rng = np.random.default_rng(1)
    for n in list(range(0, 40)) + [200, 1000, 5000]:
        _decodes_safely(codec, rng.integers(0, 256, n, dtype=np.uint8).tobytes())
        # the same junk behind a valid header reaches the range decoder
        header = bytes([FORMAT_VERSION]) + bytes.fromhex(codec.model_id)
        _decodes_safely(codec, header + rng.integers(0, 256, n, dtype=np.uint8).tobytes())


def test_empty_payload(codec: Codec) -> None:
    with pytest.raises(BitstreamError, match="truncated"):
        codec.decode([b""])


def test_foreign_model_id_is_named(codec: Codec, payload: bytes) -> None:
    other = (int(codec.model_id, 16) ^ 0x5A5A).to_bytes(2, "big")
    with pytest.raises(BitstreamError, match=f"from model {other.hex()}.*{codec.model_id}"):
        codec.decode([payload[:1] + other + payload[3:]])


def test_wrong_version_is_named(codec: Codec, payload: bytes) -> None:
    with pytest.raises(BitstreamError, match="unsupported format version 7"):
        codec.decode([bytes([7]) + payload[1:]])


def test_oversized_payload_is_rejected(codec: Codec, payload: bytes) -> None:
    with pytest.raises(BitstreamError, match="limit"):
        codec.decode([payload + bytes(1 << 16)])


@pytest.mark.parametrize("bad", [None, 42, "text", [1, 2, 3], 3.5])
def test_non_bytes_items_raise_bitstream_error(codec: Codec, bad: object) -> None:
    with pytest.raises(BitstreamError):
        codec.decode([bad])


def test_non_iterable_raises_bitstream_error(codec: Codec) -> None:
    with pytest.raises(BitstreamError):
        codec.decode(12)  # type: ignore[arg-type]


def test_error_in_batch_names_the_payload(codec: Codec, payload: bytes) -> None:
    with pytest.raises(BitstreamError, match="payload 1"):
        codec.decode([payload, b"\x00"])


def test_bitstream_error_is_a_value_error() -> None:
    assert issubclass(BitstreamError, ValueError)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600), keep_header=st.booleans())
def test_fuzz_decode(codec: Codec, data: bytes, keep_header: bool) -> None:
    if keep_header:
        data = bytes([FORMAT_VERSION]) + bytes.fromhex(codec.model_id) + data
    _decodes_safely(codec, data)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
       cut=st.integers(0, 10_000))
def test_fuzz_mutated_valid_payload(codec: Codec, payload: bytes,
                                    edits: list[tuple[int, int]], cut: int) -> None:
    mutated = bytearray(payload)
    for pos, value in edits:
        mutated[pos % len(mutated)] = value
    _decodes_safely(codec, bytes(mutated[:max(HEADER_BYTES, cut % (len(mutated) + 1))]))
