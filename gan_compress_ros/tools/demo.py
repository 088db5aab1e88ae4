"""gan-compress-demo: camera source -> encoder -> decoder in one process on real rclpy.

The three nodes run in one executor (ROS 2 manual composition) with a probe node that records
what crosses each topic. At the end it writes a side-by-side GIF (original | decoded), a PNG
grid and ``summary.json``, and prints frames, payload and on-the-wire bytes per frame (the
serialized message), ratios to raw and to JPEG/WebP at similar PSNR, quality, encode/decode
times and end-to-end latency.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CompressedImage, Image

from ..codec import BACKENDS
from ..codec.bitstream import quality_of
from ..extras import need
from ..nodes.camera_source import CameraSource
from ..nodes.convert import fit, image_to_rgb, stamp_ns
from ..nodes.decoder_node import DecoderNode
from ..nodes.encoder_node import EncoderNode
from ..nodes.runner import run_nodes
from ..training.metrics import msssim_np, psnr_per_frame
from ..training.plots import save_grid
from ..training.rd_eval import classic_decoded
from .common import SAMPLE_CLIP

RAW_BYTES = 64 * 64 * 3


class Probe(Node):
    """Records originals, latent messages and decoded frames by header stamp."""

    def __init__(self, resize_mode: str) -> None:
        super().__init__("demo_probe")
        self.resize_mode = resize_mode
        self.originals: dict[int, np.ndarray] = {}
        self.latents: dict[int, tuple[int, int]] = {}
        self.qualities: dict[int, int] = {}  # stamp -> quality byte (variable-rate models)
        self.decoded: dict[int, np.ndarray] = {}
        self.latency_ms: list[float] = []
        self.create_subscription(Image, "image_raw", self.on_raw, 100)
        self.create_subscription(CompressedImage, "image_raw/gan", self.on_latent, 100)
        self.create_subscription(Image, "image_decoded", self.on_decoded, 100)

    def on_raw(self, msg: Image) -> None:
        """Keep the 64x64 view of each original, as the encoder sees it."""
        self.originals[stamp_ns(msg)] = fit(image_to_rgb(msg), self.resize_mode)

    def on_latent(self, msg: CompressedImage) -> None:
        """Keep payload and serialized (on-the-wire) sizes."""
        self.latents[stamp_ns(msg)] = (len(msg.data), len(serialize_message(msg)))
        qbyte = quality_of(bytes(msg.data))
        if qbyte is not None:
            self.qualities[stamp_ns(msg)] = qbyte

    def on_decoded(self, msg: Image) -> None:
        """Keep the decoded frame and the latency from camera stamp to arrival here."""
        now = self.get_clock().now().nanoseconds
        self.latency_ms.append((now - stamp_ns(msg)) / 1e6)
        self.decoded[stamp_ns(msg)] = image_to_rgb(msg)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="gan-compress-demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default="folder", choices=["folder", "video", "webcam",
                                                          "pattern"])
    p.add_argument("--path", default=str(SAMPLE_CLIP), help="video, folder or webcam index "
                   "(default: the bundled sample clip)")
    p.add_argument("--frames", type=int, default=48, help="stop after this many frames")
    p.add_argument("--seconds", type=float, default=60.0, help="stop after this long anyway")
    p.add_argument("--rate", type=float, default=10.0, help="camera frames per second")
    p.add_argument("--weights", default="", help="weights file or bundled name (default: "
                   "the bundled default)")
    p.add_argument("--backend", default="auto", choices=BACKENDS,
                   help="codec backend of both nodes (see README, Backends)")
    p.add_argument("--resize-mode", default="crop", choices=["crop", "letterbox", "stretch"])
    p.add_argument("--quality", type=float, default=-1.0, help="encoder quality 0..1 (-1: "
                   "the rate point's; with a cap or budget, the highest tried)")
    p.add_argument("--max-bytes", type=int, default=0, help="encoder max_bytes_per_frame")
    p.add_argument("--max-bitrate", type=int, default=0, help="encoder max_bitrate in bit/s: "
                   "prints the rate and quality achieved and plots them (rate.png)")
    p.add_argument("--out", default="demo_output", help="folder for the GIF, PNG and summary")
    return p.parse_args(argv)


def rate_figures(probe: Probe, rate_hz: float, budget_bps: int) -> dict:
    """What a bit-rate budget gave: rate on the wire, its worst 1-s window, quality, skips."""
    offered = sorted(probe.originals)
    sent = sorted(s for s in probe.latents if s in probe.originals)
    if not offered or not sent:
        return {}
    stamps = np.array(sent, dtype=np.int64)
    wire = np.array([probe.latents[s][1] for s in sent])
    worst = max(int(wire[(stamps >= t) & (stamps < t + 10**9)].sum()) for t in stamps) * 8
    figures = {"frames_offered": len(offered), "frames_sent": len(sent),
               "frames_skipped": len(offered) - len(sent),
               "achieved_bps": float(wire.sum() * 8 / (len(offered) / rate_hz)),
               "worst_window_bps": worst, "budget_bps": budget_bps}
    if probe.qualities:
        figures["mean_quality"] = float(np.mean([probe.qualities[s] for s in sent
                                                 if s in probe.qualities]) / 255)
    return figures


def plot_run(probe: Probe, budget_bps: int, out_png: Path) -> None:
    """Quality and bytes per frame over the run (rate.png)."""
    from ..training.plots import plot_rate

    t0 = min(probe.originals)
    sent = sorted(s for s in probe.latents if s in probe.originals)
    skipped = sorted(set(probe.originals) - set(sent))
    plot_rate((np.array(sent) - t0) / 1e9,
              np.array([probe.qualities.get(s, 0) / 255 for s in sent]),
              np.array([probe.latents[s][0] for s in sent]),
              np.array([probe.latents[s][1] for s in sent]), budget_bps, out_png,
              (np.array(skipped) - t0) / 1e9)


def summarize(probe: Probe, enc: EncoderNode, dec: DecoderNode) -> dict:
    """The figures of a finished run."""
    stamps = sorted(set(probe.originals) & set(probe.decoded))
    if not stamps:
        return {"frames": 0}
    orig = np.stack([probe.originals[s] for s in stamps])
    recon = np.stack([probe.decoded[s] for s in stamps])
    payload = np.mean([probe.latents[s][0] for s in stamps if s in probe.latents])
    wire = np.mean([probe.latents[s][1] for s in stamps if s in probe.latents])
    psnr = float(np.mean(psnr_per_frame(orig, recon)))
    result = {"frames": len(stamps), "payload_bytes_per_frame": float(payload),
              "wire_bytes_per_frame": float(wire), "raw_bytes_per_frame": RAW_BYTES,
              "ratio_to_raw": RAW_BYTES / payload, "psnr_db": psnr,
              "ms_ssim": msssim_np(orig, recon),
              "encode_ms_p50": enc.diag.stats.snapshot()["ms_p50"],
              "decode_ms_p50": dec.diag.stats.snapshot()["ms_p50"],
              "latency_ms_p50": float(np.percentile(probe.latency_ms, 50)),
              "latency_ms_p99": float(np.percentile(probe.latency_ms, 99)),
              "model_id": enc.codec.model_id, "backend": enc.codec.backend}
    for name in ("JPEG", "WebP"):
        for q in range(1, 101):  # the lowest quality that matches the codec's PSNR
            size, decoded = classic_decoded(name, orig, q)
            if np.mean(psnr_per_frame(orig, decoded)) >= psnr:
                result[f"{name.lower()}_bytes_at_same_psnr"] = size
                result[f"{name.lower()}_quality_at_same_psnr"] = q
                result[f"ratio_to_{name.lower()}"] = size / payload
                break
    return {"summary": result, "orig": orig, "recon": recon}


def write_outputs(out: Path, orig: np.ndarray, recon: np.ndarray) -> None:
    """Side-by-side GIF (original | decoded, 3x) and a PNG grid."""
    out.mkdir(parents=True, exist_ok=True)
    pairs = [np.concatenate([o, np.full((64, 4, 3), 255, np.uint8), r], axis=1)
             for o, r in zip(orig, recon, strict=True)]
    PILImage = need("PIL.Image")  # noqa: N806 - the module, as Pillow names it
    frames = [PILImage.fromarray(p).resize((p.shape[1] * 3, p.shape[0] * 3),
                                           PILImage.NEAREST) for p in pairs]
    frames[0].save(out / "side_by_side.gif", save_all=True, append_images=frames[1:],
                   duration=100, loop=0)
    idx = np.linspace(0, len(orig) - 1, min(8, len(orig))).astype(int)
    save_grid([("original (64x64)", orig[idx]), ("decoded", recon[idx])], out / "grid.png")


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    nodes: dict[str, Any] = {}
    codec_params = [Parameter("weights", value=args.weights),
                    Parameter("backend", value=args.backend),
                    Parameter("diagnostics_period", value=0.0)]

    def make(key: str, factory, params: list[Parameter]):
        def build() -> Node:
            nodes[key] = factory(parameter_overrides=params) if params else factory()
            return nodes[key]
        return build

    factories = [
        make("probe", lambda: Probe(args.resize_mode), []),
        make("decoder", DecoderNode, codec_params),
        make("encoder", EncoderNode, codec_params
             + [Parameter("resize_mode", value=args.resize_mode),
                Parameter("quality", value=float(args.quality)),
                Parameter("max_bytes_per_frame", value=args.max_bytes),
                Parameter("max_bitrate", value=args.max_bitrate)]),
        make("camera", CameraSource, [Parameter("source", value=args.source),
                                      Parameter("path", value=args.path),
                                      Parameter("rate_hz", value=args.rate),
                                      Parameter("loop", value=False),
                                      Parameter("max_frames", value=args.frames)]),
    ]
    start = time.monotonic()
    finished_at: list[float] = []

    def done() -> bool:
        if time.monotonic() - start > args.seconds:
            return True
        probe, camera = nodes.get("probe"), nodes.get("camera")
        if probe is None or camera is None:
            return False
        if len(probe.decoded) >= args.frames:
            return True
        if camera.done:  # give the last frames a moment to arrive
            finished_at.append(time.monotonic())
            return time.monotonic() - finished_at[0] > 2.0
        return False

    code = run_nodes(factories, [], "gan-compress-demo", until=done)
    if code:
        return code
    result = summarize(nodes["probe"], nodes["encoder"], nodes["decoder"])
    if not result.get("summary"):
        print("gan-compress-demo: no frame made it through the pipeline", file=sys.stderr)
        return 1
    out = Path(args.out)
    write_outputs(out, result["orig"], result["recon"])
    summary = result["summary"]
    if args.max_bitrate or args.max_bytes or args.quality >= 0:
        summary["rate"] = rate_figures(nodes["probe"], args.rate, args.max_bitrate)
        plot_run(nodes["probe"], args.max_bitrate, out / "rate.png")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(format_summary(summary, out))
    return 0


def format_summary(s: dict, out: Path) -> str:
    """Human-readable summary lines."""
    lines = [
        f"frames through the pipeline: {s['frames']} (codec {s['model_id']} on {s['backend']})",
        f"payload: {s['payload_bytes_per_frame']:.1f} B/frame; on the wire (serialized "
        f"CompressedImage): {s['wire_bytes_per_frame']:.1f} B/frame",
        f"raw 64x64 RGB: {s['raw_bytes_per_frame']} B/frame -> {s['ratio_to_raw']:.0f}x smaller",
        f"quality: PSNR {s['psnr_db']:.2f} dB, MS-SSIM {s['ms_ssim']:.4f}",
    ]
    for name in ("jpeg", "webp"):
        if f"{name}_bytes_at_same_psnr" in s:
            lines.append(f"{name.upper()}'s lowest quality reaching that PSNR (q"
                         f"{s[f'{name}_quality_at_same_psnr']}): "
                         f"{s[f'{name}_bytes_at_same_psnr']:.1f} B/frame -> "
                         f"{s[f'ratio_to_{name}']:.1f}x the codec's payload")
    if s.get("rate"):
        r = s["rate"]
        lines.append(f"rate control: {r['frames_sent']} of {r['frames_offered']} frames sent "
                     f"({r['frames_skipped']} skipped), {r['achieved_bps']:.0f} bit/s on the "
                     f"wire, worst 1-s window {r['worst_window_bps']:.0f} bit/s"
                     + (f" of a {r['budget_bps']} bit/s budget" if r["budget_bps"] else "")
                     + (f", mean quality {r['mean_quality']:.2f}" if "mean_quality" in r else "")
                     + f"; plot {out}/rate.png")
    lines += [f"encode {s['encode_ms_p50']:.1f} ms, decode {s['decode_ms_p50']:.1f} ms (p50)",
              f"latency camera stamp -> decoded: p50 {s['latency_ms_p50']:.1f} ms, "
              f"p99 {s['latency_ms_p99']:.1f} ms",
              f"wrote {out}/side_by_side.gif, {out}/grid.png, {out}/summary.json"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
