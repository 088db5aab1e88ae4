"""``gan-compress-bench rate``: byte caps and bit-rate budgets measured on varied frames.

Caps: every frame is coded with ``Codec.encode(max_bytes=N)`` for each N; reported are the
payloads over N (must be none), the mean payload as a share of N over the frames whose
best quality would not fit anyway (where the content allows filling the cap), the frames
that cannot fit at all, and the PSNR at the cap against the fixed-quality point of the same
mean bytes (interpolated on the model's quality sweep).

Budgets: a camera at ``fps`` is simulated for ``seconds`` (arrival times with 10% jitter),
each frame goes through ``RateEncoder`` (budget, cap and codec) exactly as in
``encoder_node`` (the message overhead is that of a serialized CompressedImage). Reported:
the worst 1-second window (must not exceed the budget), the share of the budget used,
frames sent and skipped, mean quality and PSNR.
"""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from ..codec import ByteCapError, Codec
from ..rate_encoder import RateEncoder
from ..training.metrics import psnr_per_frame

#: Serialized CompressedImage around the payload (header, frame_id "camera", format "gan_compress",
#: CDR framing), as encoder_node measures it; used where rclpy is not installed.
DEFAULT_OVERHEAD = 48


def message_overhead() -> int:
    """Bytes a latent CompressedImage adds to its payload (from rclpy's serializer)."""
    try:
        from rclpy.serialization import serialize_message
        from sensor_msgs.msg import CompressedImage
    except ImportError:
        return DEFAULT_OVERHEAD
    from ..codec.bitstream import MESSAGE_FORMAT

    msg = CompressedImage(format=MESSAGE_FORMAT)
    msg.header.frame_id = "camera"
    return len(serialize_message(msg))


BATCH = 256


def encode(codec: Codec, frames: np.ndarray, **options: object) -> list[bytes]:
    """``codec.encode`` in batches: a whole set at once would hold every activation."""
    return [p for i in range(0, len(frames), BATCH)
            for p in codec.encode(frames[i:i + BATCH], **options)]  # type: ignore[arg-type]


def decode(codec: Codec, payloads: list[bytes]) -> np.ndarray:
    """``codec.decode`` in batches."""
    return np.concatenate([codec.decode(payloads[i:i + BATCH])
                           for i in range(0, len(payloads), BATCH)])


def varied_frames(folders: list[str], count: int, seed: int = 0) -> np.ndarray:
    """``count`` random 64x64 crops (scales, positions, flips) of the images under ``folders``."""
    from ..training.data import CropSampler, load_frames

    sampler = CropSampler(load_frames(folders, 1, progress=False), seed=seed)
    return np.stack([sampler.crop() for _ in range(count)])


def sweep(codec: Codec, frames: np.ndarray, qualities: np.ndarray) -> list[tuple[float, float]]:
    """(mean bytes, mean PSNR) of the fixed-quality points."""
    points = []
    for q in tqdm(qualities, desc="quality sweep", disable=None):
        payloads = encode(codec, frames, quality=float(q))
        psnr = psnr_per_frame(frames, decode(codec, payloads))
        points.append((float(np.mean([len(p) for p in payloads])), float(np.mean(psnr))))
    return points


def caps(codec: Codec, frames: np.ndarray, cap: int, best: np.ndarray,
         curve: list[tuple[float, float]]) -> dict:
    """Figures of one byte cap; ``best``: each frame's size at quality 1.

    One frame at a time, as the node codes them (a batch stops at its first frame that
    cannot fit).
    """
    kept: list[tuple[int, bytes]] = []
    cannot = 0
    for i in tqdm(range(len(frames)), desc=f"cap {cap}", disable=None):
        try:
            kept.append((i, codec.encode(frames[i], max_bytes=cap)[0]))
        except ByteCapError:
            cannot += 1
    size = np.array([len(p) for _, p in kept])
    over = int((size > cap).sum())
    index = np.array([k for k, _ in kept])
    recon = decode(codec, [p for _, p in kept])
    psnr = float(np.mean(psnr_per_frame(frames[index], recon)))
    full = best[index] > cap  # frames whose best quality would not fit: the cap binds
    xs, ys = zip(*sorted(curve), strict=True)
    mean = float(size.mean())
    return {"cap": cap, "frames": len(frames), "over_cap": over, "cannot_fit": cannot,
            "mean_bytes": mean, "fill_where_binding": float(size[full].mean() / cap)
            if full.any() else float("nan"), "binding_frames": int(full.sum()),
            "psnr_db": psnr, "fixed_quality_psnr_db": float(np.interp(mean, xs, ys))}


def budget(codec: Codec, frames: np.ndarray, bits_per_s: int, fps: float, seconds: float,
           overhead: int, seed: int = 0, window_s: float = 1.0, max_bytes: int = 0,
           max_rate_hz: float = 0.0) -> dict:
    """Simulate ``seconds`` of a camera at ``fps`` under a ``bits_per_s`` budget.

    Each frame goes through ``RateEncoder``, as in encoder_node: the budget over
    ``window_s``-second windows, the byte cap ``max_bytes`` and the frame rate limit
    ``max_rate_hz`` (0: none).
    """
    rng = np.random.default_rng(seed)
    rate = RateEncoder(codec, max_bytes=max_bytes, max_bitrate=bits_per_s, window_s=window_s,
                       max_rate_hz=max_rate_hz)
    sent: list[tuple[float, int]] = []
    qualities, kept = [], []
    t = 0.0
    n = int(seconds * fps)
    for i in tqdm(range(n), desc=f"budget {bits_per_s} bit/s", disable=None):
        t += rng.uniform(0.9, 1.1) / fps
        encoded = rate.encode(frames[i % len(frames)], t, overhead)
        if encoded.coded is None:
            continue
        rate.published(encoded, t)
        sent.append((t, len(encoded.coded) + overhead))
        qualities.append(encoded.coded.qbyte)
        kept.append((i % len(frames), encoded.payload))
    times = np.array([s for s, _ in sent])
    sizes = np.array([b for _, b in sent])
    worst = max((int(sizes[(times >= s) & (times < s + window_s)].sum()) for s in times),
                default=0) * 8 / window_s
    index = np.array([k for k, _ in kept], dtype=np.int64)
    psnr = float(np.mean(psnr_per_frame(frames[index], decode(codec, [p for _, p in kept])))) \
        if kept else float("nan")
    return {"budget_bps": bits_per_s, "fps": fps, "seconds": seconds, "frames": n,
            "sent": len(sent), "skipped": n - len(sent), "worst_window_bps": round(worst),
            "used": float(sizes.sum() * 8 / t / bits_per_s),
            "mean_quality": float(np.mean(qualities) / 255) if kept else float("nan"),
            "psnr_db": psnr,
            "payload_bytes": float(sizes.mean() - overhead) if kept else float("nan")}


def markdown(cap_rows: list[dict], budget_rows: list[dict], command: str, machine: str,
             overhead: int) -> str:
    """The report section for docs/benchmarks.md."""
    lines = [f"`{command}` on {machine}"]
    if cap_rows:
        lines += ["", "Byte caps (`Codec.encode(max_bytes=N)`): payloads over the cap, mean "
                  "payload, its share of the cap on the frames whose quality-1 payload would "
                  "not fit, frames that cannot fit even at quality 0 (dropped and counted by "
                  "the node), PSNR at the cap and at the fixed quality with the same mean "
                  "bytes.", "",
                  "| cap N | frames | over N | cannot fit | mean bytes | mean / N where the "
                  "cap binds | PSNR at the cap | PSNR fixed quality, same bytes |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in cap_rows:
        lines.append(f"| {r['cap']} | {r['frames']} | {r['over_cap']} | {r['cannot_fit']} | "
                     f"{r['mean_bytes']:.1f} | {100 * r['fill_where_binding']:.1f}% of "
                     f"{r['binding_frames']} | {r['psnr_db']:.2f} | "
                     f"{r['fixed_quality_psnr_db']:.2f} |")
    if budget_rows:
        lines += ["", f"Bit-rate budgets (`RateEncoder` as in encoder_node, "
                  f"{overhead} bytes of message overhead per frame, arrivals jittered by "
                  "10%): the worst 1-second window of what was sent, the share of the budget "
                  "used, frames sent.", "",
                  "| budget bit/s | camera | frames | sent | skipped | worst 1-s window bit/s "
                  "| budget used | mean quality | payload B | PSNR dB |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in budget_rows:
        lines.append(f"| {r['budget_bps']} | {r['fps']:g} fps, {r['seconds']:g} s | "
                     f"{r['frames']} | {r['sent']} | {r['skipped']} | "
                     f"{r['worst_window_bps']} | {100 * r['used']:.1f}% | "
                     f"{r['mean_quality']:.2f} | {r['payload_bytes']:.0f} | "
                     f"{r['psnr_db']:.2f} |")
    return "\n".join(lines)


#: Common low-bandwidth links: (name, packet payload bytes, average bit/s, window s, note).
#: Packet sizes and rates as their specifications give them; the framing of a byte-stream
#: bridge (LINK_FRAMING) comes off the packet, the rest is the codec's.
LINKS = [
    ("LoRa SF7/125 kHz, no duty-cycle limit", 222, 5000, 1.0, "5.47 kbit/s air rate"),
    ("LoRa SF7/125 kHz, EU868 1% duty cycle", 222, 54, 60.0,
     "0.35 s of air time a 222-byte packet: one every 33 s"),
    ("Iridium SBD (9602/9603), one message per 20 s", 340, 136, 20.0, "340-byte MO message"),
    ("IEEE 802.15.4 (Zigbee, Thread)", 100, 40000, 1.0, "~100 B of a 127 B frame"),
    ("acoustic modem, 100 bit/s", 100, 100, 10.0, ""),
    ("acoustic modem, 1 kbit/s", 100, 1000, 1.0, ""),
]
#: Bytes a byte-stream bridge adds per frame (sync, length, stamp, CRC).
LINK_FRAMING = 8


def packet_rate(packet: int, bits_per_s: int) -> float:
    """Whole packets a second the link's rate carries (3 significant digits, rounded down).

    As ``max_rate_hz``: each frame then fills a packet, where a faster camera would have the
    budget send frames at quality 0 as often as their bytes allow.
    """
    rate = bits_per_s / 8 / packet
    digits = 2 - int(np.floor(np.log10(rate)))
    return float(np.floor(rate * 10**digits) / 10**digits)


def link_rows(codec: Codec, frames: np.ndarray, camera_fps: float,
              links: list[tuple[str, int, int, float, str]] = LINKS) -> list[dict]:
    """For each link: the parameters that fit it, and what ``RateEncoder`` sends with them.

    A camera at ``camera_fps`` showing ``frames`` in turn, for ten of the budget's windows
    (at least a minute): frames sent per second, their mean payload and PSNR.
    """
    rows = []
    for name, packet, bits_per_s, window, note in links:
        cap = packet - LINK_FRAMING
        seconds = max(10 * window, 60.0)
        hz = packet_rate(packet, bits_per_s)
        r = budget(codec, frames, bits_per_s, camera_fps, seconds, LINK_FRAMING,
                   window_s=window, max_bytes=cap, max_rate_hz=hz)
        rows.append({"link": name, "note": note, "max_bytes_per_frame": cap,
                     "max_bitrate": bits_per_s, "max_bitrate_window": window, "max_rate_hz": hz,
                     "fps": r["sent"] / seconds, "payload_bytes": r["payload_bytes"],
                     "psnr_db": r["psnr_db"], "worst_window_bps": r["worst_window_bps"],
                     "camera_fps": camera_fps})
    return rows


def link_markdown(rows: list[dict], command: str, machine: str) -> str:
    """The links table for the README and docs/benchmarks.md."""
    camera = rows[0]["camera_fps"] if rows else 0
    lines = [f"`{command}` on {machine}", "",
             f"Measured: `RateEncoder` (as in encoder_node) with these parameters, a camera at "
             f"{camera:g} fps showing the frames in turn for ten of the budget's windows (at "
             "least a minute); frames sent, their mean payload and PSNR.", "",
             "| link | encoder parameters | payload B/frame | frames/s | PSNR dB |",
             "| --- | --- | --- | --- | --- |"]
    for r in rows:
        window = f" max_bitrate_window:={r['max_bitrate_window']:g}" \
            if r["max_bitrate_window"] != 1.0 else ""
        fps = f"{r['fps']:.2f}" if r["fps"] >= 0.1 else f"1 per {1 / r['fps']:.0f} s" \
            if r["fps"] > 0 else "0"
        note = f" ({r['note']})" if r["note"] else ""
        lines.append(f"| {r['link']}{note} | "
                     f"`max_bytes_per_frame:={r['max_bytes_per_frame']} "
                     f"max_bitrate:={r['max_bitrate']} "
                     f"max_bitrate_overhead:={LINK_FRAMING}{window} "
                     f"max_rate_hz:={r['max_rate_hz']:g}` | {r['payload_bytes']:.0f} | "
                     f"{fps} | {r['psnr_db']:.2f} |")
    return "\n".join(lines)
