"""The link frame: latent payloads as bytes on a serial radio or UDP, 8 bytes of framing each.

A frame::

    [1 byte]     sync: 0xA5 (no key) or 0xA6 (authenticated)
    [2 bytes]    little-endian: bits 0-11 payload length (<= 4095), bit 12 kind (0: latent,
                 1: table), bits 13-15 frame_id index (into the table)
    [2 bytes]    stamp: its milliseconds modulo 65536, little-endian (0 in a table frame)
    [1 byte]     CRC-8 of the five bytes before it: a damaged length is caught at once
    [payload]
    [2 bytes]    CRC-16/CCITT-FALSE of everything before it, little-endian (no key), or
    [6 bytes]    a keyed BLAKE2s tag (``auth.py``) over the header, the frame's full stamp,
                 its frame_id and the payload (with a key)

So 8 bytes per frame without a key and 12 with one. A table frame (kind 1) carries what
would cost too much per frame: a reference stamp (sec, nanosec: 8 bytes), the table period
in 0.1 s (2 bytes) and up to 8 frame_ids (a count byte, then per id a length byte and its
UTF-8 bytes). The sender sends a table at start and when a frame_id appears (each
``TABLE_REPEATS`` times, with the next messages), and again once every table period for
receivers that join late. The period grows on slow links (``table_period``) so that tables
take at most ``TABLE_SHARE`` of the link. How the receiver restores full stamps from 16 bits
is in ``stamps.py``; how it parses and checks frames, in ``deframer.py``.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass, field

SYNC_PLAIN, SYNC_KEYED = 0xA5, 0xA6
SYNCS = (SYNC_PLAIN, SYNC_KEYED)
HEADER = 6
CRC_BYTES = 2
#: Bytes of the truncated tag on an authenticated frame.
TAG_BYTES = 6
#: Bytes a latent frame adds to its payload, without and with a key.
OVERHEAD = HEADER + CRC_BYTES
OVERHEAD_KEYED = HEADER + TAG_BYTES
MAX_PAYLOAD = 4095
MAX_FRAME_IDS = 8
KIND_LATENT, KIND_TABLE = 0, 1
#: Seconds between table frames at least (a receiver that joins late waits this long).
TABLE_EVERY_S = 10.0
#: A new table (at start, a new frame_id) goes out with this many messages, so that one lost
#: datagram or damaged frame does not hold up the frames after it.
TABLE_REPEATS = 3
#: The most of a rate-limited link's bytes that the periodic tables may take.
TABLE_SHARE = 0.005
#: The longest table period (beyond it a late receiver waits too long to be useful).
TABLE_MAX_S = 3600.0
_MS = 1_000_000
_WRAP = 1 << 16
_WORD = struct.Struct("<BHH")
_TABLE = struct.Struct("<iIH")
#: Stamps a ROS message can hold: builtin_interfaces/Time's sec is an int32.
MAX_STAMP_NS = (2**31 - 1) * 10**9


def _crc8_table() -> bytes:
    table = bytearray(256)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c << 1) ^ 0x07 if c & 0x80 else c << 1
        table[i] = c & 0xFF
    return bytes(table)


_CRC8 = _crc8_table()


def crc8(data: bytes | bytearray | memoryview) -> int:
    """CRC-8 (poly 0x07, init 0): guards a frame's header."""
    c = 0
    for b in data:
        c = _CRC8[c ^ b]
    return c


def crc16(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as most radio modules compute it."""
    return binascii.crc_hqx(data, 0xFFFF)


@dataclass(frozen=True)
class Header:
    """A frame's first six bytes, decoded."""

    keyed: bool
    length: int
    kind: int
    index: int
    stamp16: int

    @property
    def trailer(self) -> int:
        """Bytes after the payload: the CRC-16 or the tag."""
        return TAG_BYTES if self.keyed else CRC_BYTES

    @property
    def size(self) -> int:
        """The whole frame's length in bytes."""
        return HEADER + self.length + self.trailer


def pack_header(keyed: bool, kind: int, index: int, stamp_ms: int, length: int) -> bytes:
    """The six header bytes."""
    if length > MAX_PAYLOAD:
        raise ValueError(f"payload of {length} bytes: a link frame holds {MAX_PAYLOAD}")
    head = _WORD.pack(SYNC_KEYED if keyed else SYNC_PLAIN, length | kind << 12 | index << 13,
                      stamp_ms % _WRAP)
    return head + bytes([crc8(head)])


def parse_header(data: bytes | bytearray, pos: int = 0) -> Header | None:
    """The header at ``pos`` if its sync and CRC-8 are right, else None (6 bytes needed)."""
    if data[pos] not in SYNCS or crc8(data[pos:pos + 5]) != data[pos + 5]:
        return None
    sync, word, stamp = _WORD.unpack_from(data, pos)
    return Header(sync == SYNC_KEYED, word & 0xFFF, word >> 12 & 1, word >> 13, stamp)


@dataclass
class Table:
    """The rarely sent part: reference stamp, table period and frame_ids."""

    reference_ns: int = 0
    every_s: float = TABLE_EVERY_S
    frame_ids: list[str] = field(default_factory=list)

    def pack(self) -> bytes:
        """The table frame's payload."""
        sec, nsec = divmod(self.reference_ns, 10**9)
        out = bytearray(_TABLE.pack(sec, nsec, min(round(self.every_s * 10), 0xFFFF)))
        out.append(len(self.frame_ids))
        for name in self.frame_ids:
            raw = name.encode()[:255]
            out.append(len(raw))
            out += raw
        return bytes(out)

    @classmethod
    def unpack(cls, data: bytes) -> Table:
        """A table from a table frame's payload; ValueError if malformed or out of range."""
        if len(data) < _TABLE.size + 1:
            raise ValueError("table frame too short")
        sec, nsec, every = _TABLE.unpack_from(data)
        if sec < 0 or nsec >= 10**9:
            raise ValueError(f"table reference {sec} s {nsec} ns is not a ROS time")
        count, pos, ids = data[_TABLE.size], _TABLE.size + 1, []
        if count > MAX_FRAME_IDS:
            raise ValueError(f"table with {count} frame_ids (at most {MAX_FRAME_IDS})")
        for _ in range(count):
            if pos >= len(data) or pos + 1 + data[pos] > len(data):
                raise ValueError("table frame truncated")
            ids.append(data[pos + 1:pos + 1 + data[pos]].decode("utf-8", "replace"))
            pos += 1 + data[pos]
        if pos != len(data):
            raise ValueError("table frame with trailing bytes")
        return cls(sec * 10**9 + nsec, every / 10, ids)


def table_period(every_s: float, bytes_per_s: float, table_bytes: int) -> float:
    """Seconds between periodic tables: ``every_s``, longer where the link is slow.

    On a rate-limited link a table of ``table_bytes`` goes out at most every
    ``table_bytes / (TABLE_SHARE * bytes_per_s)`` seconds (155 s at 300 bit/s).
    """
    if bytes_per_s <= 0:
        return every_s
    return min(max(every_s, table_bytes / (TABLE_SHARE * bytes_per_s)), TABLE_MAX_S)


class Framer:
    """Turns (payload, stamp, frame_id) into link frames, with table frames as needed.

    ``key``: a 32-byte link key (``auth.py``): every frame then carries a tag instead of the
    CRC-16. ``bytes_per_s``: the link's rate, which stretches the table period on slow links.
    """

    def __init__(self, table_every_s: float = TABLE_EVERY_S, key: bytes | None = None,
                 bytes_per_s: float = 0.0) -> None:
        self.table = Table(every_s=table_every_s)
        self.every_s, self.bytes_per_s = table_every_s, bytes_per_s
        self.key = key
        self._sent_once = False
        self._repeats = 0
        self._last_table_ns: int | None = None

    @property
    def overhead(self) -> int:
        """Bytes each latent frame adds to its payload."""
        return OVERHEAD_KEYED if self.key else OVERHEAD

    def frames(self, payload: bytes, stamp_ns: int, frame_id: str) -> list[bytes]:
        """The frames to send for one payload: a table frame first when one is due."""
        if not 0 <= stamp_ns <= MAX_STAMP_NS:
            raise ValueError(f"stamp {stamp_ns} ns is not a ROS time")
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(f"payload of {len(payload)} bytes: a link frame holds "
                             f"{MAX_PAYLOAD}")
        out = []
        new_id = frame_id not in self.table.frame_ids
        if new_id and len(self.table.frame_ids) >= MAX_FRAME_IDS:
            self.table.frame_ids = []
        if new_id:
            self.table.frame_ids.append(frame_id)
        if not self._sent_once or new_id:
            self._repeats = TABLE_REPEATS
            self._sent_once = True
        period = table_period(self.every_s, self.bytes_per_s,
                              len(self.table.pack()) + self.overhead)
        self.table.every_s = period
        due = (self._last_table_ns is None
               or not 0 <= stamp_ns - self._last_table_ns < period * 1e9)
        if self._repeats or due:
            self.table.reference_ns = stamp_ns - stamp_ns % _MS
            out.append(self.table_frame())
            self._last_table_ns = stamp_ns
            self._repeats = max(self._repeats - 1, 0)
        index = self.table.frame_ids.index(frame_id)
        out.append(self._frame(KIND_LATENT, index, stamp_ns // _MS, payload, frame_id))
        return out

    def table_frame(self) -> bytes:
        """The current table as a frame."""
        return self._frame(KIND_TABLE, 0, 0, self.table.pack(), "")

    def _frame(self, kind: int, index: int, stamp_ms: int, payload: bytes,
               frame_id: str) -> bytes:
        head = pack_header(self.key is not None, kind, index, stamp_ms, len(payload))
        if self.key is None:
            body = head + payload
            return body + crc16(body).to_bytes(2, "little")
        from .auth import tag
        return head + payload + tag(self.key, head, kind, stamp_ms, frame_id, payload)
