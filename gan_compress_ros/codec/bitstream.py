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
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import BitstreamError

FORMAT_VERSION = 1
#: Payloads of context models (variable rate).
CONTEXT_VERSION = 2
#: Inter frames of temporal mode (``temporal.py``): they need their key frame.
INTER_VERSION = 3
#: ``CompressedImage.format`` of latent messages: short, since it travels with every frame.
MESSAGE_FORMAT = "gan_compress"
#: The kind of payload each version is; ``coders.py`` maps them to their coders.
KINDS = {FORMAT_VERSION: "fixed", CONTEXT_VERSION: "intra", INTER_VERSION: "inter"}
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


def pack_header(version: int, model_id: str, check: int) -> bytes:
    """The four bytes every payload starts with (``read_header`` reads them)."""
    return _HEADER.pack(version, model_id_to_int(model_id), check)


def pack(model_id: str, body: bytes) -> bytes:
    """A version-1 payload: header for ``model_id``, then ``body``."""
    return pack_header(FORMAT_VERSION, model_id, check_byte(body)) + body


def pack_quality(model_id: str, quality: int, body: bytes) -> bytes:
    """A version-2 payload: header for ``model_id``, the quality byte, then ``body``."""
    rest = bytes([quality]) + body
    return pack_header(CONTEXT_VERSION, model_id, check_byte(rest)) + rest


def version_of(payload: bytes) -> int | None:
    """The format version (first byte) of a payload; None for an empty one.

    The one place that reads it: ``read_header`` checks it, ``KINDS`` names it.
    """
    return payload[0] if payload else None


def kind_of(payload: bytes) -> str:
    """``fixed``, ``intra`` or ``inter`` for a payload this codec writes; else ``unknown``."""
    return KINDS.get(version_of(payload), "unknown")  # type: ignore[arg-type]


def quality_of(payload: bytes) -> int | None:
    """The quality byte of a version-2 payload (unchecked); None for any other."""
    if version_of(payload) != CONTEXT_VERSION or len(payload) <= HEADER_BYTES:
        return None
    return payload[HEADER_BYTES]


@dataclass(frozen=True)
class Header:
    """The four bytes every payload starts with, checked, and what follows them."""

    version: int
    model: int  # the model id's 16-bit integer
    check: int
    payload: bytes  # the whole payload

    @property
    def rest(self) -> bytes:
        """Everything after the four bytes: the kind's own fields, then the body."""
        return self.payload[HEADER_BYTES:]


def read_header(payload: object, model_id: str, versions: Iterable[int]) -> Header:
    """Check ``payload``'s header against a decoder of ``model_id`` reading ``versions``.

    Raises BitstreamError naming what is wrong: not bytes, truncated, too long, another
    version (an inter frame outside ``stream_decoder``), another model. The check byte
    is the kind's to verify (what it covers differs).
    """
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
    readable = sorted(versions)
    if version not in readable:
        if version == INTER_VERSION and CONTEXT_VERSION in readable:
            raise BitstreamError("an inter frame of temporal mode: it decodes only after its "
                                 "key frame, with Codec.stream_decoder()")
        raise BitstreamError(f"unsupported format version {version} (this decoder reads "
                             f"version {' or '.join(map(str, readable))}): corrupt or "
                             "foreign payload, or one made by another generation of the "
                             "codec")
    if mid != model_id_to_int(model_id):
        raise BitstreamError(f"payload is from model {mid:04x}, this decoder holds model "
                             f"{model_id}: load the weights the encoder used")
    return Header(version, mid, check, payload)


def checked(header: Header) -> bytes:
    """``header.rest`` where the check byte covers all of it (intra kinds); else raise."""
    if check_byte(header.rest) != header.check:
        raise BitstreamError(f"corrupt or truncated payload: the check byte does not match "
                             f"its {len(header.rest)}-byte body")
    return header.rest

