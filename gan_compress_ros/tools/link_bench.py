"""``gan-compress-bench link``: the demo clip through encoder, link bridge and decoder.

Four node processes (encoder_node, link_send, link_receive, decoder_node) over real DDS at
each end, joined by a simulated line (``link/simulate.py``): a serial line at a baud rate
with bit errors, or a UDP path that loses and reorders datagrams. The clip is published at
the camera rate; reported are the frames per second that came out decoded, the payload and
link bytes per frame, and the PSNR of what came out against what went in.
"""

from __future__ import annotations

import time

import numpy as np

from ..link.framing import OVERHEAD
from ..link.simulate import SerialRelay, UdpRelay
from ..training.metrics import psnr_per_frame
from .pipeline_bench import SAMPLE, probe_session, spawn, spin_for


def run(link: str, baud: int = 9600, max_bytes: int = 0, seconds: float = 30.0,
        camera_fps: float = 10.0, bit_error_rate: float = 0.0, loss: float = 0.0,
        rate: float = 0.0) -> dict:
    """One configuration: ``link`` is ``serial`` or ``udp`` (``rate``: its bytes/s).

    RuntimeError where a node has stopped by the end: its log says why.
    """
    from sensor_msgs.msg import CompressedImage, Image

    from ..image import fit, read_rgb
    from ..nodes.convert import image_to_rgb, rgb_to_image, stamp_ns
    from ..training.data import find_images

    relay: SerialRelay | UdpRelay
    if link == "serial":
        relay = SerialRelay(baud, bit_error_rate)
        send = ["-p", f"serial_port:={relay.sender_port}", "-p", f"baud:={baud}"]
        receive = ["-p", f"serial_port:={relay.receiver_port}", "-p", f"baud:={baud}"]
    else:
        relay = UdpRelay(loss)
        send = ["-p", f"udp:=127.0.0.1:{relay.in_port}", "-p", f"rate_bytes_per_s:={rate:g}"]
        receive = ["-p", f"udp:=127.0.0.1:{relay.out_port}"]
    clip = [read_rgb(p) for p in find_images([SAMPLE])]
    encoder = ["-r", "__ns:=/bench_robot"] + (["-p", f"max_bytes_per_frame:={max_bytes}"]
                                             if max_bytes else [])
    procs = [spawn("encoder_node", *encoder),
             spawn("link_send", "-r", "__ns:=/bench_robot", *send,
                    "-p", "encoder:=/bench_robot/encoder"),
             spawn("link_receive", "-r", "__ns:=/bench_base", *receive),
             spawn("decoder_node", "-r", "__ns:=/bench_base")]
    originals: dict[int, np.ndarray] = {}
    decoded: dict[int, np.ndarray] = {}
    link_bytes: list[int] = []
    try:
        with probe_session("gan_compress_link_bench", procs) as (node, executor):
            node.create_subscription(Image, "/bench_base/image_decoded", lambda m: decoded
                                     .__setitem__(stamp_ns(m), image_to_rgb(m)), 50)
            node.create_subscription(CompressedImage, "/bench_base/image_raw/gan",
                                     lambda m: link_bytes.append(len(m.data)), 50)
            pub = node.create_publisher(Image, "/bench_robot/image_raw", 10)
            end = time.monotonic() + 60
            while pub.get_subscription_count() == 0 and time.monotonic() < end:
                executor.spin_once(timeout_sec=0.1)
            spin_for(executor, 3.0)  # the sender hands its budget to the encoder
            start = time.monotonic()
            i = 0
            while time.monotonic() - start < seconds:
                frame = clip[i % len(clip)]
                msg = rgb_to_image(frame, frame_id="camera")
                stamp = node.get_clock().now().nanoseconds // 1_000_000 * 1_000_000
                msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 10**9)
                originals[stamp] = fit(frame)
                pub.publish(msg)
                i += 1
                spin_for(executor, start + i / camera_fps - time.monotonic(), 0.01)
            spin_for(executor, 3.0)  # the frames in flight
            stopped = [p.args for p in procs if p.poll() is not None]
    finally:
        relay.close()
    if stopped:  # a row of zeros would read as a link that carries nothing
        raise RuntimeError(f"{link}: nodes stopped during the run: {stopped}")
    stamps = sorted(set(decoded) & set(originals))
    psnr = float(np.mean(psnr_per_frame(np.stack([originals[s] for s in stamps]),
                                        np.stack([decoded[s] for s in stamps])))) \
        if stamps else float("nan")
    return {"link": link, "baud": baud if link == "serial" else None, "max_bytes": max_bytes,
            "bit_error_rate": bit_error_rate, "loss": loss, "rate": rate, "seconds": seconds,
            "offered": len(originals), "decoded": len(stamps),
            "fps": len(stamps) / seconds, "payload_bytes": float(np.mean(link_bytes))
            if link_bytes else float("nan"), "psnr_db": psnr,
            "stray": len(set(decoded) - set(originals))}


def markdown(rows: list[dict], command: str, machine: str) -> str:
    """The table for the README and docs/benchmarks.md."""
    lines = [f"`{command}` on {machine}: the demo clip at 10 fps through encoder_node, "
             "link_send, the simulated line, link_receive and decoder_node (link_send hands "
             "the line's rate to the encoder as max_bitrate).", "",
             "| link | encoder cap | frames offered | decoded | frames/s | payload B/frame "
             f"| on the link (+{OVERHEAD} B) | PSNR dB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        link = f"serial {r['baud']} baud" if r["link"] == "serial" else "UDP"
        if r["bit_error_rate"]:
            link += f", bit errors {r['bit_error_rate']:g}"
        if r["link"] == "udp":
            link += f" at {r['rate']:g} bytes/s"
        if r["loss"]:
            link += f", {100 * r['loss']:.0f}% datagrams lost, some reordered"
        cap = f"max_bytes_per_frame {r['max_bytes']}" if r["max_bytes"] else "none"
        lines.append(f"| {link} | {cap} | {r['offered']} | {r['decoded']} | {r['fps']:.2f} | "
                     f"{r['payload_bytes']:.0f} | {r['payload_bytes'] + OVERHEAD:.0f} | "
                     f"{r['psnr_db']:.2f} |")
    return "\n".join(lines)


def parse_costs(repeats: int = 20) -> dict[str, float]:
    """Milliseconds the receiver spends on hostile input, and the framing share on slow links.

    Median of ``repeats``: a 65,507-byte datagram of random bytes, one of sync bytes, one of
    8,188 empty frames, and 64 KiB of sync bytes on a serial line; then the bytes framing
    and tables take of a 300 bit/s link with one frame every 5 s, without and with a key.
    """
    import os
    import statistics

    from ..link.deframer import Deframer
    from ..link.framing import SYNC_PLAIN, Framer, crc16, pack_header
    from ..link.transports import UDP_MAX

    empty = pack_header(False, 0, 0, 0, 0)
    empty += crc16(empty).to_bytes(2, "little")
    inputs = {"udp: 64 KB random datagram": (os.urandom(UDP_MAX), True),
              "udp: 64 KB of sync bytes": (bytes([SYNC_PLAIN]) * UDP_MAX, True),
              "udp: 8,188 empty frames in one datagram": (empty * 8188, True),
              "serial: 64 KB of sync bytes": (bytes([SYNC_PLAIN]) * UDP_MAX, False),
              "serial: 64 KB random": (os.urandom(UDP_MAX), False)}
    out: dict[str, float] = {}
    for name, (data, datagram) in inputs.items():
        times = []
        for _ in range(repeats):
            d = Deframer(key=bytes(32) if "random" in name else None)
            start = time.perf_counter()
            published = d.feed(data, datagram=datagram)
            times.append((time.perf_counter() - start) * 1e3)
            assert not published
        out[name + ", ms"] = statistics.median(times)
    rate = 300 / 8
    for key in (None, bytes(32)):
        framer = Framer(key=key, bytes_per_s=rate)
        payload = bytes(int(rate * 5) - framer.overhead)
        overhead = 0
        for i in range(720):  # an hour, one frame every 5 s filling the link
            frames = framer.frames(payload, 1_800_000_000 * 10**9 + i * 5 * 10**9,
                                   "cam_front")
            overhead += sum(map(len, frames)) - len(payload)
        label = "with a key" if key else "no key"
        out[f"300 bit/s, a frame every 5 s, {label}: framing and tables, % of the link"] = \
            100 * overhead / (3600 * rate)
    return out


def costs_markdown(costs: dict[str, float], command: str, machine: str) -> str:
    """The costs as a markdown table."""
    lines = [f"`{command}` on {machine}:", "", "| input | figure |", "| --- | --- |"]
    lines += [f"| {name} | {value:.3f} |" for name, value in costs.items()]
    return "\n".join(lines)
