"""Malformed payloads: each raises BitstreamError or decodes to a valid 64x64x3 image.

Every test runs on both payload kinds: the fixed-rate fixture's version 1 (2-byte model id)
and the bundled variable-rate model's version 4 (model tag, quality byte, context-coded body).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gan_compress_ros.codec import BitstreamError, Codec
from gan_compress_ros.codec.bitstream import (
    CONTEXT_VERSION,
    FORMAT_VERSION,
    PACKED_VERSIONS,
    header_bytes,
    model_tag,
)
from gan_compress_ros.tools.fuzz import with_header


def _decodes_safely(codec: Codec, payload: object) -> bool:
    """True if rejected with BitstreamError; otherwise the output must be a valid image."""
    try:
        image = codec.decode([payload])
    except BitstreamError:
        return True
    assert image.shape == (1, 64, 64, 3) and image.dtype == np.uint8
    return False


@pytest.fixture(scope="module", params=["fixed-rate v1", "bundled v4"])
def codec(request: pytest.FixtureRequest) -> Codec:
    """The codec under test: the session's briefly trained fixture, or the bundled model."""
    if request.param == "bundled v4":
        return Codec.load(backend="torch")
    return request.getfixturevalue("trained_codec")


@pytest.fixture(scope="module")
def trained_codec(trained_weights) -> Codec:
    return Codec.load(str(trained_weights))


def test_corrupt_body_behind_valid_header_is_decoded_or_rejected(codec: Codec,
                                                                 payload: bytes) -> None:
    body = bytearray(payload[header_bytes(payload[0]):])
    body[len(body) // 2] ^= 0xFF
    _decodes_safely(codec, with_header(codec, bytes(body)))


@pytest.fixture(scope="module")
def payload(codec: Codec, val_frames: np.ndarray) -> bytes:
    out = codec.encode(val_frames[0])[0]
    kind = CONTEXT_VERSION if codec.variable_rate else FORMAT_VERSION
    assert out[0] == codec.coder.version == kind
    return out


def test_truncation_at_every_position(codec: Codec, payload: bytes) -> None:
    rejected = [_decodes_safely(codec, payload[:n]) for n in range(len(payload))]
    # the check byte catches a truncated body with probability 255/256
    assert sum(rejected) >= len(payload) - 2
    for n in range(header_bytes(payload[0])):
        with pytest.raises(BitstreamError, match="truncated"):
            codec.decode([payload[:n]])


def test_every_single_bit_flip(codec: Codec, payload: bytes) -> None:
    rejected = []
    for i in range(len(payload) * 8):
        flipped = bytearray(payload)
        flipped[i // 8] ^= 1 << (i % 8)
        rejected.append(_decodes_safely(codec, bytes(flipped)))
    assert sum(rejected) >= 0.95 * len(rejected)  # the check byte misses ~1/256


def test_random_bytes(codec: Codec) -> None:
    rng = np.random.default_rng(1)
    for n in list(range(0, 40)) + [200, 1000, 5000]:
        _decodes_safely(codec, rng.integers(0, 256, n, dtype=np.uint8).tobytes())
        # the same junk behind a valid header and check byte reaches the range decoder
        body = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        _decodes_safely(codec, with_header(codec, body))


def test_empty_payload(codec: Codec) -> None:
    with pytest.raises(BitstreamError, match="truncated"):
        codec.decode([b""])


def test_foreign_model_id_is_named(codec: Codec, payload: bytes) -> None:
    if payload[0] in PACKED_VERSIONS:  # the id's low byte only
        other = model_tag(codec.model_id) ^ 0x5A
        named = f"whose id ends in {other:02x}.*{codec.model_id}"
        with pytest.raises(BitstreamError, match=named):
            codec.decode([payload[:1] + bytes([other]) + payload[2:]])
        return
    other_id = (int(codec.model_id, 16) ^ 0x5A5A).to_bytes(2, "big")
    with pytest.raises(BitstreamError, match=f"from model {other_id.hex()}.*{codec.model_id}"):
        codec.decode([payload[:1] + other_id + payload[3:]])


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
    _decodes_safely(codec, with_header(codec, data) if keep_header else data)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
       cut=st.integers(0, 10_000))
def test_fuzz_mutated_valid_payload(codec: Codec, payload: bytes,
                                    edits: list[tuple[int, int]], cut: int) -> None:
    mutated = bytearray(payload)
    for pos, value in edits:
        mutated[pos % len(mutated)] = value
    keep = max(header_bytes(payload[0]), cut % (len(mutated) + 1))
    _decodes_safely(codec, bytes(mutated[:keep]))
