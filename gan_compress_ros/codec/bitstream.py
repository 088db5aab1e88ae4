"""The payload layout: a 4- or 5-byte header, then the range-coded latent symbols.

Version 1 (fixed-rate models with the factorized prior):
``[version 1: 1 byte][model id: 2 bytes, big-endian][check: 1 byte][range-coded body]``

Version 2 (variable-rate models with the context entropy model) adds the quality byte the
decoder needs, so no decoder setting has to match the encoder's:
``[version 2][model id: 2 bytes][check: 1 byte][quality: 1 byte][range-coded body]``
(the check byte then covers the quality byte and the body).

The frame size and latent shape follow from the model, so the header carries only what a
decoder must check before trusting the body: that it speaks this format, holds the same
weights, and that the body arrived whole (the check byte is the low byte of the body's
CRC-32, so a truncated or corrupted body is rejected with probability 255/256 instead of
decoding to a wrong picture). Every payload is self-contained; no state between frames.
"""

from __future__ import annotations

import struct
import zlib

from .errors import BitstreamError

FORMAT_VERSION = 1
#: Payloads of context models (variable rate).
CONTEXT_VERSION = 2
#: Inter frames of temporal mode (``temporal.py``): they need their key frame.
INTER_VERSION = 3
#: ``CompressedImage.format`` of latent messages: short, since it travels with every frame.
MESSAGE_FORMAT = "gan_compress"
HEADER_BYTES = 4
#: No valid payload for a 64x64 frame comes near this; longer input is rejected unread.
MAX_PAYLOAD_BYTES = 1 << 16
_HEADER = struct.Struct(">BHB")


def model_id_to_int(model_id: str) -> int:
    """The 16-bit integer form of a 4-hex-digit model id."""
    return int(model_id, 16)


def check_byte(body: bytes) -> int:
    """The integrity check of a body: the low byte of its CRC-32."""
    return zlib.crc32(body) & 0xFF


def pack(model_id: str, body: bytes) -> bytes:
    """Prefix ``body`` with the header for ``model_id``."""
    return _HEADER.pack(FORMAT_VERSION, model_id_to_int(model_id), check_byte(body)) + body


def pack_quality(model_id: str, quality: int, body: bytes) -> bytes:
    """A version-2 payload: header for ``model_id``, the quality byte, then ``body``."""
    rest = bytes([quality]) + body
    return _HEADER.pack(CONTEXT_VERSION, model_id_to_int(model_id), check_byte(rest)) + rest


def quality_of(payload: bytes) -> int:
    """The quality byte of a version-2 payload written by this encoder (unchecked)."""
    return payload[HEADER_BYTES]


def unpack_quality(payload: bytes, model_id: str) -> tuple[int, bytes]:
    """Check a version-2 payload against this decoder; its quality byte and body."""
    rest = unpack(payload, model_id, CONTEXT_VERSION)
    if not rest:
        raise BitstreamError("truncated payload: it ends before its quality byte")
    return rest[0], rest[1:]


def unpack(payload: bytes, model_id: str, expect_version: int = FORMAT_VERSION) -> bytes:
    """Check the header of ``payload`` against this decoder and return the body."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise BitstreamError(f"payload must be bytes, got {type(payload).__name__}")
    payload = bytes(payload)
    if len(payload) < HEADER_BYTES:
        raise BitstreamError(f"truncated payload: {len(payload)} bytes, the header alone "
                             f"is {HEADER_BYTES}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BitstreamError(f"payload of {len(payload)} bytes exceeds the "
                             f"{MAX_PAYLOAD_BYTES}-byte limit: not a gan_compress payload")
    version, mid, check = _HEADER.unpack_from(payload)
    if version == INTER_VERSION and expect_version == CONTEXT_VERSION:
        raise BitstreamError("an inter frame of temporal mode: it decodes only after its key "
                             "frame, with Codec.stream_decoder()")
    if version != expect_version:
        raise BitstreamError(f"unsupported format version {version} (this decoder reads "
                             f"version {expect_version}): corrupt or foreign payload, or one "
                             "made by another generation of the codec")
    if mid != model_id_to_int(model_id):
        raise BitstreamError(f"payload is from model {mid:04x}, this decoder holds model "
                             f"{model_id}: load the weights the encoder used")
    body = payload[HEADER_BYTES:]
    if check_byte(body) != check:
        raise BitstreamError(f"corrupt or truncated payload: the check byte does not match "
                             f"its {len(body)}-byte body")
    return body
