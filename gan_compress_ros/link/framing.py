"""The link frame: latent payloads as bytes on a serial radio or UDP, 8 bytes of framing each.

A latent frame::

    [0xA5 0x5A]  sync
    [2 bytes]    little-endian: bits 0-11 payload length (<= 4095), bit 12 kind (0: latent,
                 1: table), bits 13-15 frame_id index (into the table)
    [2 bytes]    stamp: its milliseconds modulo 65536, little-endian
    [payload]
    [2 bytes]    CRC-16/CCITT-FALSE of everything after the sync, little-endian

A table frame (kind 1) carries what would cost too much per frame: a reference stamp (sec,
nanosec: 8 bytes), the table period in 0.1 s (2 bytes) and up to 8 frame_ids (a count byte,
then per id a length byte and its UTF-8 bytes). The sender sends one at start, when a
frame_id appears, and with the first frame ``TABLE_EVERY_S`` seconds or more after the last
one's reference; each new table goes out with TABLE_REPEATS messages. The receiver takes a
frame's full stamp as the one with its 16 millisecond bits nearest the newest reference it
holds, and accepts it only when that lies less than the table period after the reference:
a frame whose own table was lost is counted and dropped, never given a wrong stamp.
Stamps come back to the millisecond; datagrams reordered by up to 30 s keep theirs.

A corrupt, truncated or foreign stretch of bytes costs the frames it touches: the parser
looks for the next sync, checks length and CRC, and counts what it discards; it never
returns a frame whose CRC fails. (A frame that passes a CRC-16 by chance is then refused by
the payload's own check byte with probability 255/256.)
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

SYNC = b"\xa5\x5a"
#: Bytes a latent frame adds to its payload.
OVERHEAD = 8
MAX_PAYLOAD = 4095
MAX_FRAME_IDS = 8
KIND_LATENT, KIND_TABLE = 0, 1
#: Seconds between table frames (and the longest a late receiver waits for one).
TABLE_EVERY_S = 10.0
#: A new table goes out with this many messages, so that one lost datagram or damaged frame
#: does not hold up the frames after it for TABLE_EVERY_S.
TABLE_REPEATS = 3
_MS = 1_000_000
_WRAP = 1 << 16
_LEN = struct.Struct("<HH")
_TABLE = struct.Struct("<iIH")


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as most radio modules compute it."""
    return binascii.crc_hqx(data, 0xFFFF)


def _frame(kind: int, index: int, stamp_ns: int, payload: bytes) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes: a link frame holds {MAX_PAYLOAD}")
    body = _LEN.pack(len(payload) | kind << 12 | index << 13, stamp_ns // _MS % _WRAP) + payload
    return SYNC + body + crc16(body).to_bytes(2, "little")


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
        """A table from a table frame's payload; ValueError if malformed."""
        if len(data) < _TABLE.size + 1:
            raise ValueError("table frame too short")
        sec, nsec, every = _TABLE.unpack_from(data)
        count, pos, ids = data[_TABLE.size], _TABLE.size + 1, []
        for _ in range(count):
            if pos >= len(data) or pos + 1 + data[pos] > len(data):
                raise ValueError("table frame truncated")
            ids.append(data[pos + 1:pos + 1 + data[pos]].decode("utf-8", "replace"))
            pos += 1 + data[pos]
        return cls(sec * 10**9 + nsec, every / 10, ids)


class Framer:
    """Turns (payload, stamp, frame_id) into link bytes, with table frames as needed."""

    def __init__(self, table_every_s: float = TABLE_EVERY_S) -> None:
        self.table = Table(every_s=table_every_s)
        self._sent_once = False
        self._repeats = 0

    def frames(self, payload: bytes, stamp_ns: int, frame_id: str) -> list[bytes]:
        """The frames to send for one payload: a table frame first when one is due."""
        out = []
        new_id = frame_id not in self.table.frame_ids
        if new_id and len(self.table.frame_ids) >= MAX_FRAME_IDS:
            self.table.frame_ids = []
        if new_id:
            self.table.frame_ids.append(frame_id)
        stale = not 0 <= stamp_ns - self.table.reference_ns < self.table.every_s * 1e9
        if not self._sent_once or new_id or stale:
            self.table.reference_ns = stamp_ns
            self._repeats = TABLE_REPEATS
            self._sent_once = True
        if self._repeats:
            out.append(self.table_frame())
            self._repeats -= 1
        index = self.table.frame_ids.index(frame_id)
        out.append(_frame(KIND_LATENT, index, stamp_ns, payload))
        return out

    def table_frame(self) -> bytes:
        """The current table as a frame."""
        return _frame(KIND_TABLE, 0, 0, self.table.pack())


@dataclass
class Received:
    """A latent payload as it came off the link."""

    payload: bytes
    stamp_ns: int
    frame_id: str


@dataclass
class LinkStats:
    """What the parser saw: frames, and bytes and frames it had to discard."""

    frames: int = 0
    tables: int = 0
    crc_errors: int = 0
    bad_lengths: int = 0
    skipped_bytes: int = 0
    waiting_for_table: int = 0


class Deframer:
    """Finds frames in a byte stream with any damage; yields only intact latent frames."""

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self.buffer = bytearray()
        self.table: Table | None = None
        self.stats = LinkStats()
        self.max_payload = max_payload

    def feed(self, data: bytes, datagram: bool = False) -> Iterator[Received]:
        """Add bytes from the link; yield every complete, intact latent frame.

        ``datagram``: ``data`` is one whole UDP datagram, so no frame continues past it
        (what is left over is counted and discarded).
        """
        self.buffer += data
        yield from self._frames()
        if datagram and self.buffer:
            self.stats.skipped_bytes += len(self.buffer)
            self.buffer.clear()

    def _frames(self) -> Iterator[Received]:
        while True:
            start = self.buffer.find(SYNC)
            if start < 0:  # keep a last byte that may begin a sync
                keep = 1 if self.buffer[-1:] == SYNC[:1] else 0
                self.stats.skipped_bytes += len(self.buffer) - keep
                del self.buffer[:len(self.buffer) - keep]
                return
            if start:
                self.stats.skipped_bytes += start
                del self.buffer[:start]
            if len(self.buffer) < 6:
                return
            word, stamp_ms = _LEN.unpack_from(self.buffer, 2)
            length, kind, index = word & 0xFFF, word >> 12 & 1, word >> 13
            if length > self.max_payload:
                self.stats.bad_lengths += 1
                self._drop_sync()
                continue
            end = 6 + length + 2
            if len(self.buffer) < end:
                return
            body = bytes(self.buffer[2:6 + length])
            if crc16(body) != int.from_bytes(self.buffer[6 + length:end], "little"):
                self.stats.crc_errors += 1
                self._drop_sync()
                continue
            payload = body[4:]
            del self.buffer[:end]
            if kind == KIND_TABLE:
                self._table(payload)
                continue
            got = self._latent(payload, stamp_ms, index)
            if got is not None:
                yield got

    def _table(self, payload: bytes) -> None:
        try:
            table = Table.unpack(payload)
        except ValueError:
            self.stats.crc_errors += 1
            return
        self.stats.tables += 1
        if self.table is None or table.reference_ns >= self.table.reference_ns:
            self.table = table  # a late (reordered) older table changes nothing

    def _latent(self, payload: bytes, stamp_ms: int, index: int) -> Received | None:
        table = self.table
        if table is None or index >= len(table.frame_ids):
            self.stats.waiting_for_table += 1
            return None
        ref_ms = table.reference_ns // _MS
        offset = (stamp_ms - ref_ms + _WRAP // 2) % _WRAP - _WRAP // 2
        if offset >= table.every_s * 1000:  # its own, newer table never arrived
            self.stats.waiting_for_table += 1
            return None
        self.stats.frames += 1
        return Received(payload, (ref_ms + offset) * _MS, table.frame_ids[index])

    def _drop_sync(self) -> None:
        """Discard the sync at the front: the next search starts one byte later."""
        self.stats.skipped_bytes += 1
        del self.buffer[:1]
