"""Link frames: 8 bytes of framing (12 with a key); damage, forgery and replay refused.

Stamps and frame_ids are restored; a forged table takes nothing over; datagrams hold one
frame; the serial parser is back in sync one frame after garbage.
"""

from __future__ import annotations

import os

import numpy as np

from gan_compress_ros.link.deframer import Deframer
from gan_compress_ros.link.framing import (
    OVERHEAD,
    OVERHEAD_KEYED,
    SYNC_PLAIN,
    Framer,
    Table,
    crc8,
    pack_header,
)
from gan_compress_ros.link.pacer import Pacer

T0 = 1_700_000_000_123_000_000
KEY = bytes(range(32))


class Clock:
    """The receiver's clock, moved by the test as the link would take time."""

    def __init__(self) -> None:
        self.t = 5000.0

    def __call__(self) -> float:
        """Now, in seconds."""
        return self.t


def _payloads(n: int, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, int(rng.integers(40, 400)), dtype=np.uint8).tobytes()
            for _ in range(n)]


def _stream(payloads: list[bytes], period_ms: int = 100, ids=("cam",),
            key: bytes | None = None) -> tuple[list, list]:
    framer = Framer(key=key)
    frames, sent = [], []
    for i, p in enumerate(payloads):
        stamp = T0 + i * period_ms * 1_000_000
        fid = ids[i % len(ids)]
        frames.append(framer.frames(p, stamp, fid))
        sent.append((p, stamp - stamp % 1_000_000, fid))
    return frames, sent


def _receive(d: Deframer, clock: Clock, frames: list[list[bytes]], period_s: float = 0.1,
             datagram: bool = True) -> list[tuple]:
    got = []
    for message in frames:
        clock.t += period_s
        for f in message:
            got += [(r.payload, r.stamp_ns, r.frame_id) for r in d.feed(f, datagram=datagram)]
    return got


def test_round_trip_with_8_bytes_per_frame_and_12_with_a_key() -> None:
    payloads = _payloads(200)
    for key, overhead in ((None, OVERHEAD), (KEY, OVERHEAD_KEYED)):
        frames, sent = _stream(payloads, ids=("cam", "rear_cam"), key=key)
        assert all(len(f[-1]) == len(p) + overhead for f, p in zip(frames, payloads,
                                                                    strict=True))
        assert overhead <= 16
        assert sum(len(f) - 1 for f in frames) <= 3 * 2 + 2  # start, new id, every 10 s
        for datagram in (True, False):
            clock = Clock()
            d = Deframer(key=key, clock=clock)
            assert _receive(d, clock, frames, datagram=datagram) == sent
            assert d.stats.crc_errors == d.stats.skipped_bytes == d.stats.auth_failed == 0


def test_stamps_far_apart_and_chunked_reads() -> None:
    frames, sent = _stream(_payloads(20, 1), period_ms=70_000)  # beyond the 65.5 s wrap
    clock = Clock()
    d = Deframer(clock=clock)
    got = []
    for message in frames:
        clock.t += 70.0
        data = b"".join(message)
        for i in range(0, len(data), 7):  # a serial port hands over odd pieces
            got += [(r.payload, r.stamp_ns, r.frame_id) for r in d.feed(data[i:i + 7])]
    assert got == sent


def test_stamps_survive_lost_tables() -> None:
    frames, sent = _stream(_payloads(400, 5), period_ms=200)
    clock = Clock()
    d = Deframer(clock=clock)
    got = _receive(d, clock, [m[-1:] if i > 0 else m for i, m in enumerate(frames)], 0.2)
    assert got == sent  # after the first table, no other was needed over 80 s


def test_bit_errors_cost_only_the_damaged_frames() -> None:
    rng = np.random.default_rng(2)
    for key in (None, KEY):
        frames, sent = _stream(_payloads(2000, 2), key=key)
        data = bytearray(b"".join(sum(frames, [])))
        flips = rng.random(len(data) * 8) < 1e-4  # bit error rate 1e-4
        for bit in np.flatnonzero(flips):
            data[bit // 8] ^= 1 << (bit % 8)
        clock = Clock()
        d = Deframer(key=key, clock=clock)
        got = []
        for i in range(0, len(data), 100):  # 100 bytes every 0.1 s
            clock.t += 0.1 * 100 / (len(data) / 2000)
            got += [(r.payload, r.stamp_ns, r.frame_id) for r in d.feed(bytes(data[i:i + 100]))]
        assert set(got) <= set(sent)  # nothing damaged is returned
        hit = len({int(b) // 8 for b in np.flatnonzero(flips)})
        assert len(got) >= len(sent) - 2 * hit - 5  # each error costs its frame (or a table)
        assert d.stats.crc_errors + d.stats.auth_failed > 0


def test_garbage_truncation_and_datagram_loss() -> None:
    rng = np.random.default_rng(3)
    frames, sent = _stream(_payloads(300, 3))
    clock = Clock()
    d = Deframer(clock=clock)
    got = []
    assert not d.feed(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes() + b"\xa5\x5a\xff",
                      datagram=True)
    assert d.stats.bad_datagrams == 1
    order = np.arange(len(frames))
    for start in range(0, len(order), 5):  # reordered within fives, 10% lost, some cut short
        order[start:start + 5] = rng.permutation(order[start:start + 5])
    for i in order:
        clock.t += 0.1
        if rng.random() < 0.1:
            continue
        datagram = b"".join(frames[i])
        if rng.random() < 0.05:
            datagram = datagram[:int(rng.integers(1, len(datagram)))]
        got += [(r.payload, r.stamp_ns, r.frame_id) for r in d.feed(datagram, datagram=True)]
    assert got and set(got) <= set(sent)
    assert len(got) >= 0.75 * len(sent)


def test_with_a_key_forged_replayed_and_flipped_frames_are_never_accepted() -> None:
    frames, sent = _stream(_payloads(50, 4), key=KEY)
    foreign, _ = _stream(_payloads(50, 5), key=os.urandom(32))
    clock = Clock()
    d = Deframer(key=KEY, clock=clock)
    got = _receive(d, clock, frames[:10])
    assert got == sent[:10]
    assert not _receive(d, clock, foreign)  # another key: tables and frames refused
    assert d.stats.auth_failed >= 50
    one = frames[9][-1]
    for _ in range(1000):  # one captured datagram sent again and again
        assert not d.feed(one, datagram=True)
    assert d.stats.replayed == 1000
    for i in range(len(one) * 8):  # every single bit flipped
        bad = bytearray(one)
        bad[i // 8] ^= 1 << (i % 8)
        assert not d.feed(bytes(bad), datagram=True)
    plain, _ = _stream(_payloads(5, 6))  # no key: intact but unauthenticated
    assert not _receive(d, clock, plain)
    assert _receive(d, clock, frames[10:20]) == sent[10:20]
    clock.t += 3600.0  # an hour later, the old frames again
    assert not _receive(d, clock, frames[:20])
    clock.t += 65.536 * 5  # at every phase of the 16-bit stamp
    for step in range(200):
        clock.t += 0.33
        assert not d.feed(frames[step % 20][-1], datagram=True)


def test_a_forged_far_future_table_does_not_take_over() -> None:
    frames, sent = _stream(_payloads(100, 7), ids=("cam_front",))
    forged = Framer()
    forged.table = Table(reference_ns=(2**31 - 1) * 10**9, frame_ids=["attacker_frame"])
    evil = forged.table_frame()
    for when in (0, 10, 50):  # before the link starts, early on, later
        clock = Clock()
        d = Deframer(clock=clock)
        got = _receive(d, clock, frames[:when])
        clock.t += 0.01
        d.feed(evil, datagram=True)
        got += _receive(d, clock, frames[when:])
        # every real frame after it keeps its stamp and frame_id (at the start, the real
        # table that follows replaces the forged one)
        assert got == sent, (when, len(got), d.stats)


def test_tables_and_stamps_outside_a_ros_time_are_refused() -> None:
    clock = Clock()
    d = Deframer(clock=clock)
    for sec in (-1, -2**31):
        bad = Framer()
        bad.table = Table(reference_ns=sec * 10**9, frame_ids=["x"])
        d.feed(bad.table_frame(), datagram=True)
    assert d.table is None and d.stats.tables_rejected == 2


def test_a_datagram_holds_one_frame_or_a_table_and_a_frame() -> None:
    frames, sent = _stream(_payloads(3, 8))
    clock = Clock()
    d = Deframer(clock=clock)
    assert not d.feed(frames[0][-1] + frames[0][-1], datagram=True)  # two latents
    empty = pack_header(False, 0, 0, 0, 0)
    from gan_compress_ros.link.framing import crc16
    empty += crc16(empty).to_bytes(2, "little")
    assert not d.feed(empty * 8188, datagram=True)  # 8,188 frames, one datagram
    assert not d.feed(frames[0][0] + frames[0][-1] + b"\0", datagram=True)  # trailing byte
    assert d.stats.bad_datagrams == 3
    got = _receive(d, clock, [[b"".join(m)] for m in frames])
    assert got == sent


def test_serial_back_in_sync_after_a_forged_long_header() -> None:
    frames, sent = _stream(_payloads(20, 9))
    clock = Clock()
    d = Deframer(clock=clock)
    assert _receive(d, clock, frames[:5], datagram=False) == sent[:5]
    head = pack_header(False, 0, 0, 0, 4095)  # a header with a right CRC-8, 4,095 bytes long
    assert crc8(head[:5]) == head[5] and head[0] == SYNC_PLAIN
    d.feed(head)
    d.feed(b"\xa5\x5a\xff\x0f\x00\x00")  # the old parser's stall
    # the next real frame comes out as soon as it is complete, not 4 KB later
    got = _receive(d, clock, frames[5:6], datagram=False)
    assert got == sent[5:6]
    assert _receive(d, clock, frames[6:], datagram=False) == sent[6:]
    d2 = Deframer(max_payload=500, clock=clock)
    d2.feed(head)
    assert d2.stats.bad_lengths == 1  # longer than the setting: refused at once


def test_slow_link_framing_and_tables_take_at_most_5_percent() -> None:
    rate = 300 / 8  # 300 bit/s
    for key, limit in ((None, 0.05), (KEY, 0.08)):
        framer = Framer(key=key, bytes_per_s=rate)
        payload = bytes(int(rate * 5) - framer.overhead)  # one frame every 5 s fills it
        total = overhead = 0
        for i in range(720):  # an hour
            out = framer.frames(payload, T0 + i * 5 * 10**9, "cam_front")
            total += sum(map(len, out))
            overhead += sum(map(len, out)) - len(payload)
        assert overhead / (3600 * rate) <= limit, overhead / (3600 * rate)


def test_pacer_keeps_the_newest_and_holds_the_rate() -> None:
    pacer = Pacer(960.0)  # 9600 baud
    sent_bytes, t = 0, 0.0
    for i in range(600):  # 30 messages a second of 150 bytes: 4500 B/s offered
        t = i / 30
        pacer.offer([bytes(150)])
        out = pacer.poll(t)
        sent_bytes += sum(len(f) for f in out or [])
    assert pacer.dropped > 0
    assert sent_bytes <= 960 * t + 960 * 0.5 + 150
    assert sent_bytes >= 0.85 * 960 * t


def test_without_a_key_stamps_that_stand_still_still_pass() -> None:
    """A camera that leaves its stamps at 0: every frame goes through, as before keys."""
    framer = Framer()
    clock = Clock()
    d = Deframer(clock=clock)
    got = 0
    for _ in range(300):  # a minute at 5 fps, all stamped 0
        clock.t += 0.2
        for f in framer.frames(b"x" * 50, 0, "cam"):
            got += len(d.feed(f, datagram=True))
    assert got == 300
