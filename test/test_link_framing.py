"""Link frames: 8 bytes of framing, stamps and frame_ids restored, damage never passed on."""

from __future__ import annotations

import numpy as np

from gan_compress_ros.link.framing import OVERHEAD, Deframer, Framer
from gan_compress_ros.link.pacer import Pacer

T0 = 1_700_000_000_123_000_000


def _payloads(n: int, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, int(rng.integers(40, 400)), dtype=np.uint8).tobytes()
            for _ in range(n)]


def _stream(payloads: list[bytes], period_ms: int = 100, ids=("cam",)) -> tuple[list, list]:
    framer = Framer()
    frames, sent = [], []
    for i, p in enumerate(payloads):
        stamp = T0 + i * period_ms * 1_000_000
        fid = ids[i % len(ids)]
        frames.append(framer.frames(p, stamp, fid))
        sent.append((p, stamp - stamp % 1_000_000, fid))
    return frames, sent


def test_round_trip_with_8_bytes_per_frame() -> None:
    payloads = _payloads(200)
    frames, sent = _stream(payloads, ids=("cam", "rear_cam"))
    latent_frames = [f[-1] for f in frames]
    assert all(len(f) == len(p) + OVERHEAD for f, p in zip(latent_frames, payloads,
                                                           strict=True))
    tables = sum(len(f) - 1 for f in frames)
    assert tables <= 3 * 4  # at start, for a new frame_id, then every 10 s; 3 copies each
    d = Deframer()
    got = [(r.payload, r.stamp_ns, r.frame_id) for r in d.feed(b"".join(sum(frames, [])))]
    assert got == sent
    assert d.stats.crc_errors == d.stats.skipped_bytes == 0


def test_stamps_far_apart_and_chunked_reads() -> None:
    payloads = _payloads(20, 1)
    frames, sent = _stream(payloads, period_ms=70_000)  # beyond 65.5 s: a table each time
    data = b"".join(sum(frames, []))
    d = Deframer()
    got = []
    for i in range(0, len(data), 7):  # a serial port hands over odd pieces
        got += [(r.payload, r.stamp_ns, r.frame_id) for r in d.feed(data[i:i + 7])]
    assert got == sent


def test_bit_errors_cost_only_the_damaged_frames() -> None:
    rng = np.random.default_rng(2)
    payloads = _payloads(2000, 2)
    frames, sent = _stream(payloads)
    data = bytearray(b"".join(sum(frames, [])))
    flips = rng.random(len(data) * 8) < 1e-4  # bit error rate 1e-4
    for bit in np.flatnonzero(flips):
        data[bit // 8] ^= 1 << (bit % 8)
    d = Deframer()
    got = [(r.payload, r.stamp_ns, r.frame_id) for r in d.feed(bytes(data))]
    assert set(got) <= set(sent)  # nothing damaged is returned
    hit = len({int(b) // 8 for b in np.flatnonzero(flips)})
    assert len(got) >= len(sent) - 2 * hit - 5  # each error costs its frame (or a table)
    assert d.stats.crc_errors > 0


def test_garbage_truncation_and_datagram_loss() -> None:
    rng = np.random.default_rng(3)
    payloads = _payloads(300, 3)
    frames, sent = _stream(payloads)
    d = Deframer()
    got = []
    d_garbage = rng.integers(0, 256, 5000, dtype=np.uint8).tobytes() + b"\xa5\x5a\xff"
    got += list(d.feed(d_garbage, datagram=True))
    order = np.arange(len(frames))
    for start in range(0, len(order), 5):  # reordered within fives, 10% lost, some cut short
        order[start:start + 5] = rng.permutation(order[start:start + 5])
    for i in order:
        if rng.random() < 0.1:
            continue
        datagram = b"".join(frames[i])
        if rng.random() < 0.05:
            datagram = datagram[:int(rng.integers(1, len(datagram)))]
        got += [(r.payload, r.stamp_ns, r.frame_id) for r in d.feed(datagram, datagram=True)]
    assert got and set(got) <= set(sent)
    assert len(got) >= 0.75 * len(sent)


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
