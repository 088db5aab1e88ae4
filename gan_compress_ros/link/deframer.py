"""The receiving end of the framing: intact, authentic, new frames out of bytes or datagrams.

Serial (a byte stream, ``feed`` then ``frames``): the parser looks for a sync byte, checks
the header's CRC-8 (a damaged length is refused at once, not waited for), refuses lengths
above ``max_payload``, and checks the CRC-16 or tag of the whole frame; whatever fails costs
one byte of rescanning. While it waits for the rest of a frame, a complete intact frame
found further on shows that the header it waits on was garbage: it is skipped, so the stream
is back in sync one frame after any garbage. Work per byte is bounded: the sync search runs
in C and only a sync byte costs a header check.

UDP (``datagram``): a datagram holds exactly one frame, or a table then a latent frame;
anything else is dropped whole and counted (``bad_datagrams``) without scanning it.

With a key (``auth.py``) only frames whose tag verifies, and whose stamp is new, come out
(``auth_failed``, ``replayed``); without one, every intact frame that can be placed
does. Stamps are restored by ``stamps.StampClock``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import auth
from .framing import (
    HEADER,
    KIND_TABLE,
    MAX_PAYLOAD,
    SYNC_KEYED,
    SYNC_PLAIN,
    TAG_BYTES,
    Header,
    Table,
    crc8,
    crc16,
    parse_header,
)
from .stamps import StampClock

_CRC8_TABLE = np.frombuffer(bytes(crc8(bytes([i])) for i in range(256)), np.uint8)
_MS = 1_000_000
_WRAP = 1 << 16


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
    auth_failed: int = 0
    replayed: int = 0
    need_key: int = 0
    tables_rejected: int = 0
    bad_datagrams: int = 0


def _headers(buf: bytearray) -> list[int]:
    """Positions of every complete header (sync byte and CRC-8 right), in order.

    Vectorised, so that a buffer of sync bytes costs microseconds per kilobyte, not a
    Python-level check per byte.
    """
    data = np.frombuffer(buf, np.uint8)
    n = len(data) - HEADER + 1
    if n <= 0:
        return []
    at = np.flatnonzero((data[:n] == SYNC_PLAIN) | (data[:n] == SYNC_KEYED))
    crc = np.zeros(len(at), np.uint8)
    for k in range(HEADER - 1):
        crc = _CRC8_TABLE[crc ^ data[at + k]]
    return at[crc == data[at + HEADER - 1]].tolist()


class _Corrupt(Exception):
    """The frame's CRC or tag failed: not a frame (rescan one byte on)."""


class Deframer:
    """Finds frames in a byte stream or datagrams; yields only intact latent frames."""

    def __init__(self, max_payload: int = MAX_PAYLOAD, key: bytes | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < max_payload <= MAX_PAYLOAD:
            raise ValueError(f"max_payload {max_payload}: use 1 to {MAX_PAYLOAD}")
        self.buffer = bytearray()
        self.stats = LinkStats()
        self.max_payload = max_payload
        self.key = key
        self.clock = clock
        self.stamps = StampClock(keyed=key is not None)
        self.window = auth.ReplayWindow(strict=key is not None)

    @property
    def table(self) -> Table | None:
        """The table in use."""
        return self.stamps.table

    # -- streams ------------------------------------------------------------------------

    def feed(self, data: bytes, datagram: bool = False) -> list[Received]:
        """Add bytes from the link; every complete, intact, new latent frame.

        ``datagram``: ``data`` is one whole UDP datagram (see ``datagram``).
        """
        if datagram:
            return self.datagram(data)
        self.buffer += data
        return self.frames()

    def frames(self, limit: int = 1 << 30) -> list[Received]:
        """Up to ``limit`` latent frames from the buffered bytes (the rest stay buffered)."""
        buf, pos = self.buffer, 0
        out: list[Received] = []
        heads = _headers(buf)
        i = 0
        while len(out) < limit and i < len(heads):
            at = heads[i]
            i += 1
            if at < pos:
                continue
            head = parse_header(buf, at)
            assert head is not None
            self.stats.skipped_bytes += at - pos
            pos = at
            if head.length > self.max_payload:
                self.stats.bad_lengths += 1
                self.stats.skipped_bytes += 1
                pos += 1
                continue
            if len(buf) - pos < head.size:
                if self._garbage_ahead(buf, heads[i:], pos + head.size):
                    self.stats.bad_lengths += 1
                    self.stats.skipped_bytes += 1
                    pos += 1
                    continue
                break  # wait for the rest of it
            try:
                got = self._frame(bytes(buf[pos:pos + head.size]), head)
            except _Corrupt:
                self.stats.skipped_bytes += 1
                pos += 1
                continue
            pos += head.size
            if got is not None:
                out.append(got)
        else:
            if len(out) < limit:  # no header waits: keep only a tail that may begin one
                tail = max(pos, len(buf) - HEADER + 1)
                while tail < len(buf) and buf[tail] not in (SYNC_PLAIN, SYNC_KEYED):
                    tail += 1
                self.stats.skipped_bytes += tail - pos
                pos = tail
        if pos:
            del buf[:pos]
        return out

    def _garbage_ahead(self, buf: bytearray, later: list[int], end: int) -> bool:
        """Whether a complete intact frame starts inside the awaited one (before ``end``)."""
        for at in later:
            if at >= end:
                return False
            other = parse_header(buf, at)
            if other is None or other.length > self.max_payload or len(buf) - at < other.size:
                continue
            if self._intact(bytes(buf[at:at + other.size]), other):
                return True
        return False

    # -- datagrams ----------------------------------------------------------------------

    def datagram(self, data: bytes) -> list[Received]:
        """The latent frame in one UDP datagram: [table] frame, exactly; else dropped."""
        parts = self._split(data)
        if parts is None:
            self.stats.bad_datagrams += 1
            self.stats.skipped_bytes += len(data)
            return []
        out: list[Received] = []
        for head, frame in parts:
            try:
                got = self._frame(frame, head)
            except _Corrupt:
                self.stats.skipped_bytes += len(frame)
                return out
            if got is not None:
                out.append(got)
        return out

    def _split(self, data: bytes) -> list[tuple[Header, bytes]] | None:
        parts: list[tuple[Header, bytes]] = []
        pos = 0
        while pos < len(data) and len(parts) < 2:
            if len(data) - pos < HEADER:
                return None
            head = parse_header(data, pos)
            if head is None or head.length > self.max_payload or pos + head.size > len(data):
                return None
            parts.append((head, data[pos:pos + head.size]))
            pos += head.size
        if pos != len(data) or not parts:
            return None
        if len(parts) == 2 and (parts[0][0].kind != KIND_TABLE or parts[1][0].kind == KIND_TABLE):
            return None
        return parts

    # -- one frame ----------------------------------------------------------------------

    def _intact(self, frame: bytes, head: Header) -> bool:
        """Whether the frame's CRC (or tag) holds; changes nothing."""
        if not head.keyed:
            return crc16(frame[:-2]) == int.from_bytes(frame[-2:], "little")
        if self.key is None:
            return False
        if head.kind == KIND_TABLE:
            return self._verify(frame, head, 0, "")
        stamp, table = self.stamps.resolve(head.stamp16, self.clock()), self.stamps.table
        if stamp is None or table is None or head.index >= len(table.frame_ids):
            return False
        return self._verify(frame, head, stamp, table.frame_ids[head.index])

    def _verify(self, frame: bytes, head: Header, stamp_ms: int, frame_id: str) -> bool:
        assert self.key is not None
        return auth.verify(self.key, frame[:HEADER], head.kind, stamp_ms, frame_id,
                           frame[HEADER:-TAG_BYTES], frame[-TAG_BYTES:])

    def _frame(self, frame: bytes, head: Header) -> Received | None:
        """Check one whole frame; the latent it holds, None, or _Corrupt."""
        now = self.clock()
        if self.key is None and head.keyed:
            self.stats.need_key += 1
            raise _Corrupt
        if self.key is not None and not head.keyed:
            if crc16(frame[:-2]) != int.from_bytes(frame[-2:], "little"):
                raise _Corrupt
            self.stats.auth_failed += 1  # intact but unauthenticated
            return None
        payload = frame[HEADER:HEADER + head.length]
        if head.kind == KIND_TABLE:
            self._table(frame, head, payload, now)
            return None
        if not head.keyed and crc16(frame[:-2]) != int.from_bytes(frame[-2:], "little"):
            self.stats.crc_errors += 1
            raise _Corrupt
        table = self.stamps.table
        stamp = self.stamps.resolve(head.stamp16, now)
        if table is None or stamp is None or head.index >= len(table.frame_ids):
            self.stats.waiting_for_table += 1
            if head.keyed:  # cannot be checked: rescan it as bytes
                raise _Corrupt
            return None
        frame_id = table.frame_ids[head.index]
        if head.keyed and not self._verify(frame, head, stamp, frame_id):
            if self._replay_of_another_minute(frame, head, stamp, frame_id):
                self.stats.replayed += 1
                return None
            self.stats.auth_failed += 1
            raise _Corrupt
        if not self.window.fresh(stamp, frame_id):
            self.stats.replayed += 1
            return None
        self.window.accept(stamp, frame_id)
        self.stamps.accept(stamp, now)
        self.stats.frames += 1
        return Received(payload, stamp * _MS, frame_id)

    def _table(self, frame: bytes, head: Header, payload: bytes, now: float) -> None:
        if head.keyed:
            if not self._verify(frame, head, 0, ""):
                self.stats.auth_failed += 1
                raise _Corrupt
        elif crc16(frame[:-2]) != int.from_bytes(frame[-2:], "little"):
            self.stats.crc_errors += 1
            raise _Corrupt
        try:
            table = Table.unpack(payload)
        except ValueError:
            self.stats.tables_rejected += 1
            return
        self.stats.tables += 1
        before = self.stamps.rejected
        self.stamps.offer_table(table, now)
        self.stats.tables_rejected += self.stamps.rejected - before

    def _replay_of_another_minute(self, frame: bytes, head: Header, stamp: int,
                                  frame_id: str) -> bool:
        """Whether the tag holds for the stamp one wrap (65.5 s) earlier: a replay.

        Frames replayed from longer ago fail as ``auth_failed``.
        """
        return self._verify(frame, head, stamp - _WRAP, frame_id)
