"""The payload layouts: 4 bytes before the body of a frame (5 before 2026-12-07).

Every version starts with a common header (version, model id or tag, check byte: 3 bytes in
versions 4 and 5, 4 in versions 1 to 3); each kind adds its own byte (quality, key tag).

Version 4 (variable-rate models with the context entropy model; written since 2026-12-07):
``[version 4][model tag: 1 byte][check: 1 byte][quality: 1 byte][range-coded body]``.

Version 5 (inter frames of temporal mode, ``inter.py``):
``[version 5][model tag][check][key tag: 1 byte][range-coded body]``.

Version 1 (fixed-rate models with the factorized prior, the paper's preset):
``[version 1][model id: 2 bytes, big-endian][check: 1 byte][range-coded body]``.

Versions 2 and 3, read but no longer written, are 4 and 5 with the whole 2-byte model id in
place of the model tag: ``[version 2][model id: 2 bytes][check][quality][body]``, and so on.

The frame size and latent shape follow from the model, so the header carries only what a
decoder must check before trusting the body: that it speaks this format, holds the same
weights, and that the body arrived whole. The check byte is the low byte of a CRC-32 of
what follows it (an inter frame's body alone, after its key tag): truncated or corrupted
bodies are rejected with probability 255/256 instead of decoding to a wrong picture. In
versions 4 and 5 the header keeps one byte of the model id, the tag, and the CRC-32 runs on
over the whole id after the payload's bytes:
a payload of other weights is named as such where the tags differ, and where they agree
(the ids differ in their first byte only) it always fails the check byte, since a CRC's
change from a change of that one byte at its end is fixed and never zero in its low byte
(``test_payload_versions`` tries all 255). So other weights never draw a picture, as when
the header carried the whole id, for one byte less a frame (0.5-2% of a 50-200 byte frame).
(Starting the CRC from the id's CRC instead would let a fixed 1 in 256 of the lengths
through.) Every payload is self-contained; no state between frames, except an inter frame's
key.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import BitstreamError

FORMAT_VERSION = 1
#: Payloads of context models (variable rate), as written now.
CONTEXT_VERSION = 4
#: Inter frames of temporal mode (``temporal.py``), as written now: they need their key frame.
INTER_VERSION = 5
#: The same two kinds with the model id in the header: still read, no longer written.
LEGACY_CONTEXT_VERSION = 2
LEGACY_INTER_VERSION = 3
#: Versions with a 1-byte model tag, their check byte covering the whole model id.
PACKED_VERSIONS = frozenset({CONTEXT_VERSION, INTER_VERSION})
#: ``CompressedImage.format`` of latent messages: short, since it travels with every frame.
MESSAGE_FORMAT = "gan_compress"
#: The kind of payload each version is; ``coders.py`` maps them to their coders.
KINDS = {FORMAT_VERSION: "fixed", LEGACY_CONTEXT_VERSION: "intra",
         LEGACY_INTER_VERSION: "inter", CONTEXT_VERSION: "intra", INTER_VERSION: "inter"}
#: Versions of each kind, the one written first.
INTRA_VERSIONS = (CONTEXT_VERSION, LEGACY_CONTEXT_VERSION)
INTER_VERSIONS = (INTER_VERSION, LEGACY_INTER_VERSION)
#: Common header bytes of versions 4 and 5 (version, model tag, check) and of 1 to 3
#: (version, model id, check); each kind's own byte (quality, key tag) follows.
HEADER_BYTES = 3
LEGACY_HEADER_BYTES = 4
#: No valid payload for a 64x64 frame comes near this; longer input is rejected unread.
MAX_PAYLOAD_BYTES = 1 << 16
_HEADER = struct.Struct(">BHB")
_PACKED = struct.Struct(">BBB")


def model_id_to_int(model_id: str) -> int:
    """The 16-bit integer form of a 4-hex-digit model id."""
    return int(model_id, 16)


def header_bytes(version: int) -> int:
    """The header's length in payloads of ``version``."""
    return HEADER_BYTES if version in PACKED_VERSIONS else LEGACY_HEADER_BYTES


def model_tag(model_id: str) -> int:
    """The byte of the model id that headers of versions 4 and 5 carry: its low byte."""
    return model_id_to_int(model_id) & 0xFF


def model_suffix(version: int, model_id: str) -> bytes:
    """What the check's CRC-32 covers after the data: the whole model id in versions 4 and 5.

    At the end, not as the CRC's start value: a changed start value changes the low byte
    by an amount that depends on the data's length, zero for 1 length in 256, while a
    changed first id byte at the end changes it by a fixed amount that is never zero.
    """
    return model_id_to_int(model_id).to_bytes(2, "big") if version in PACKED_VERSIONS else b""


def check_byte(data: bytes, seed: int = 0) -> int:
    """The integrity check of ``data``: the low byte of its CRC-32 started at ``seed``."""
    return zlib.crc32(data, seed) & 0xFF


def check_of(version: int, model_id: str, data: bytes, seed: int = 0) -> int:
    """The check byte a payload of ``version`` and ``model_id`` carries for ``data``.

    The CRC runs on from ``data`` over the id suffix, so the payload is not copied.
    """
    return check_byte(model_suffix(version, model_id), zlib.crc32(data, seed))


def pack_header(version: int, model_id: str, check: int) -> bytes:
    """The header every payload starts with (``read_header`` reads it)."""
    if version in PACKED_VERSIONS:
        return _PACKED.pack(version, model_tag(model_id), check)
    return _HEADER.pack(version, model_id_to_int(model_id), check)


def seal(version: int, model_id: str, rest: bytes) -> bytes:
    """A payload of ``version``: its header for ``model_id``, then ``rest``, all of it checked.

    ``rest`` is the kind's own fields, then the body (the intra kinds; ``inter.py`` checks
    its body against its key instead).
    """
    return pack_header(version, model_id, check_of(version, model_id, rest)) + rest


def pack(model_id: str, body: bytes) -> bytes:
    """A version-1 payload: header for ``model_id``, then ``body``."""
    return seal(FORMAT_VERSION, model_id, body)


def pack_quality(model_id: str, quality: int, body: bytes) -> bytes:
    """A version-4 payload: header for ``model_id``, the quality byte, then ``body``."""
    return seal(CONTEXT_VERSION, model_id, bytes([quality]) + body)


def version_of(payload: bytes) -> int | None:
    """The format version (first byte) of a payload; None for an empty one.

    The one place that reads it: ``read_header`` checks it, ``KINDS`` names it.
    """
    return payload[0] if payload else None


def kind_of(payload: bytes) -> str:
    """``fixed``, ``intra`` or ``inter`` for a payload this codec writes; else ``unknown``."""
    return KINDS.get(version_of(payload), "unknown")  # type: ignore[arg-type]


def quality_of(payload: bytes) -> int | None:
    """The quality byte of an intra payload of a context model (unchecked); None for any other."""
    version = version_of(payload)
    if version is None or version not in INTRA_VERSIONS:
        return None
    at = header_bytes(version)
    return payload[at] if len(payload) > at else None


@dataclass(frozen=True)
class Header:
    """The header every payload starts with, checked, and what follows it."""

    version: int
    model_id: str  # the decoder's, which the header names or the check covers
    check: int
    payload: bytes  # the whole payload

    @property
    def rest(self) -> bytes:
        """Everything after the header: the kind's own fields, then the body."""
        return self.payload[header_bytes(self.version):]

    def matches(self, data: bytes, seed: int = 0) -> bool:
        """Whether the check byte is ``data``'s (``check_of``; the CRC-32 started at ``seed``)."""
        return check_of(self.version, self.model_id, data, seed) == self.check


def read_header(payload: object, model_id: str, versions: Iterable[int]) -> Header:
    """Check ``payload``'s header against a decoder of ``model_id`` reading ``versions``.

    Raises BitstreamError naming what is wrong: not bytes, truncated, too long, another
    version (an inter frame outside ``stream_decoder``), another model. The check byte
    is the kind's to verify (what it covers differs).
    """
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise BitstreamError(f"payload must be bytes, got {type(payload).__name__}")
    payload = bytes(payload)
    readable = sorted(versions)
    size = header_bytes(payload[0]) if payload else min(map(header_bytes, readable))
    if len(payload) < size:
        raise BitstreamError(f"truncated payload: {len(payload)} bytes, the header alone "
                             f"is {size}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BitstreamError(f"payload of {len(payload)} bytes exceeds the "
                             f"{MAX_PAYLOAD_BYTES}-byte limit: not a gan_compress payload")
    version = payload[0]
    if version not in readable:
        if version in INTER_VERSIONS and CONTEXT_VERSION in readable:
            raise BitstreamError("an inter frame of temporal mode: it decodes only after its "
                                 "key frame, with Codec.stream_decoder()")
        raise BitstreamError(f"unsupported format version {version} (this decoder reads "
                             f"version {', '.join(map(str, readable))}): corrupt or "
                             "foreign payload, or one made by another generation of the "
                             "codec")
    if version in PACKED_VERSIONS:
        _, tag, check = _PACKED.unpack_from(payload)
        if tag != model_tag(model_id):
            raise BitstreamError(f"payload is from a model whose id ends in {tag:02x}, this "
                                 f"decoder holds model {model_id}: load the weights the "
                                 "encoder used")
    else:
        _, mid, check = _HEADER.unpack_from(payload)
        if mid != model_id_to_int(model_id):
            raise BitstreamError(f"payload is from model {mid:04x}, this decoder holds model "
                                 f"{model_id}: load the weights the encoder used")
    return Header(version, model_id, check, payload)


def checked(header: Header) -> bytes:
    """``header.rest`` where the check byte covers all of it (intra kinds); else raise."""
    if not header.matches(header.rest):
        other = (f", or from other weights whose id ends like this decoder's model "
                 f"{header.model_id} (load the weights the encoder used)"
                 if header.version in PACKED_VERSIONS else "")
        raise BitstreamError(f"corrupt or truncated payload{other}: the check byte does not "
                             f"match its {len(header.rest)}-byte body")
    return header.rest
