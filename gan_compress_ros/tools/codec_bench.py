"""``gan-compress-bench codec`` (the default): the codec's speed against JPEG and WebP.

Encode and decode milliseconds per frame at batch 1 and frames per second at batch 32, for
each CPU thread count and backend (torch, onnxruntime at each precision the export has),
next to OpenCV JPEG and WebP encode+decode of the same 64x64 frames measured in the same
run; range coding alone, intra frames through ``Codec.decode`` against ``StreamDecoder``,
and the cost of fitting camera frames into 64x64.
"""

from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np

from ..codec import BACKENDS, Codec
from ..codec.bundled import WeightsRef
from ..codec.choices import ONNXRUNTIME, TORCH
from ..codec.errors import WeightsError
from ..codec.export_dir import read_export
from ..image import fit
from ..training.data import eval_frames
from .common import SAMPLE_CLIP, interleaved_ms, median_ms
from .report import machine_line, update_section


def _classic_ms(frames: np.ndarray, ext: str, flag: int, quality: int, repeats: int) -> float:
    bgr = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames]

    def run() -> None:
        for f in bgr:
            ok, buf = cv2.imencode(ext, f, [flag, quality])
            cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return median_ms(run, repeats) / len(frames)


def bench(paths: dict[str, dict], frames: np.ndarray, threads: list[int],
          repeats: int) -> list[dict]:
    """A row per thread count and codec path, with JPEG/WebP times measured alongside.

    ``paths`` maps a label to ``Codec.load`` arguments; each is loaded per thread count
    (onnxruntime fixes its threads when a model loads).
    """
    rows = []
    one, batch = frames[:1], frames[:32]
    for n in threads:
        cv2.setNumThreads(n)
        codecs = {k: Codec.load(threads=n, **kw) for k, kw in paths.items()}  # sets torch's
        payloads = {k: (c.encode(one), c.encode(batch)) for k, c in codecs.items()}
        for c in codecs.values():  # warm-up
            for _ in range(3):
                c.decode(c.encode(one))
        enc = interleaved_ms({k: (lambda c=c: c.encode(one)) for k, c in codecs.items()},
                              repeats)
        dec = interleaved_ms({k: (lambda c=c, p=payloads[k][0]: c.decode(p))
                               for k, c in codecs.items()}, repeats)
        big = interleaved_ms({k: (lambda c=c: c.decode(c.encode(batch)))
                               for k, c in codecs.items()}, max(5, repeats // 10))
        jpeg = _classic_ms(batch, ".jpg", cv2.IMWRITE_JPEG_QUALITY, 10, max(3, repeats // 10))
        webp = _classic_ms(batch, ".webp", cv2.IMWRITE_WEBP_QUALITY, 5, max(3, repeats // 10))
        for k in codecs:
            rows.append({"threads": n, "path": k, "encode_ms": enc[k], "decode_ms": dec[k],
                         "batch32_fps": len(batch) / (big[k] / 1000), "jpeg_ms": jpeg,
                         "webp_ms": webp,
                         "payload_bytes": float(np.mean([len(p) for p in payloads[k][1]]))})
    return rows


def codec_paths(weights: str | None, export: str | None, eager: bool,
                backends: list[str], device: str = "cpu") -> dict[str, dict]:
    """The paths to time, as ``Codec.load`` arguments by label.

    torch: the default path (frozen on CPU), and eager too if ``eager``. onnxruntime: each
    precision the export has (``export``, else the bundled export of bundled weights).
    """
    paths: dict[str, dict] = {}
    model_id = None
    if TORCH in backends:
        default = Codec.load(weights, device, backend=TORCH)
        model_id = default.model_id
        label = "torch frozen (default)" if default.frozen else "torch eager (default)"
        paths[label] = {"weights": weights, "device": device, "backend": TORCH}
        if eager and default.frozen:
            paths["torch eager"] = dict(paths[label], optimize=False)
    if ONNXRUNTIME in backends:
        try:
            export_dir = read_export(export or WeightsRef.parse(weights).export())
        except WeightsError as exc:
            print(f"gan-compress-bench: no onnxruntime rows ({exc})", file=sys.stderr)
            return paths
        if model_id is not None and export_dir.model_id != model_id:
            raise WeightsError(f"export {export_dir.path} holds model {export_dir.model_id}, the "
                               f"weights {model_id}")
        for precision in export_dir.precisions:
            paths[f"onnxruntime {precision}"] = {"weights": str(export_dir.path), "device": device,
                                                 "backend": ONNXRUNTIME,
                                                 "precision": precision}
    return paths


def table(rows: list[dict], codec: Codec) -> str:
    """Markdown table of the rows."""
    lines = [f"OpenCV {cv2.__version__}; weights {codec.model_id} "
             f"({codec.metadata.get('preset')}); each figure the median of repeated runs, "
             "the paths timed in alternating rounds.", "",
             "| threads | path | encode ms (batch 1) | decode ms (batch 1) | encode+decode ms | "
             "frames/s (batch 32, enc+dec) | JPEG q10 enc+dec ms | WebP q5 enc+dec ms | "
             "codec / JPEG time |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        both = r["encode_ms"] + r["decode_ms"]
        lines.append(f"| {r['threads']} | {r['path']} | {r['encode_ms']:.2f} | "
                     f"{r['decode_ms']:.2f} | {both:.2f} | {r['batch32_fps']:.0f} | "
                     f"{r['jpeg_ms']:.3f} | {r['webp_ms']:.3f} | {both / r['jpeg_ms']:.0f}x |")
    return "\n".join(lines) + "\n"


def layer_rows(codec: Codec, repeats: int) -> list[tuple[str, str, float, float]]:
    """(transform, layer, ms, multiply-adds in millions) per layer at batch 1, eager.

    Shows where the time goes and how close each layer runs to the CPU's peak.
    """
    import torch

    from ..codec.nn.gdn import GDN
    from ..codec.nn.profile import count_macs

    rows = []
    model = codec.transforms.model  # type: ignore[attr-defined]  # the torch backend's
    x = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        y = torch.round(model.analyse(x))
        if model.config["noise_channels"]:
            y = torch.cat([y, model.decoder_noise], dim=1)
        for name, seq, h in (("encoder", model.encoder, x), ("decoder", model.decoder, y)):
            for layer in seq:
                ms = median_ms(lambda m=layer, t=h: m(t), repeats)
                out = layer(h)
                macs = (h.shape[1] ** 2 * h.shape[2] * h.shape[3] if isinstance(layer, GDN)
                        else count_macs(layer, h))  # GDN: a CxC matrix per pixel
                rows.append((name, f"{type(layer).__name__} {tuple(h.shape[1:])} -> "
                             f"{tuple(out.shape[1:])}", ms, macs / 1e6))
                h = out
    return rows


def layer_report(codec: Codec, repeats: int) -> str:
    """The per-layer table (torch only) as markdown."""
    import torch

    torch.set_num_threads(1)
    layers = layer_rows(codec, max(10, repeats // 2))
    lines = ["", "Where the time goes (eager modules, batch 1, 1 thread; GMAC/s = "
             "multiply-adds per second):", "",
             "| transform | layer | ms | M multiply-adds | GMAC/s |",
             "| --- | --- | ---: | ---: | ---: |"]
    lines += [f"| {t} | {name} | {ms:.3f} | {macs:.1f} | {macs / ms:.1f} |"
              for t, name, ms, macs in layers]
    total = sum(r[2] for r in layers), sum(r[3] for r in layers)
    lines.append(f"| all | | {total[0]:.2f} | {total[1]:.1f} | {total[1] / total[0]:.1f} |")
    return "\n".join(lines) + "\n"


def coder_line(codec: Codec, frames: np.ndarray, repeats: int) -> str:
    """Range coding alone, per frame, with each implementation installed here."""
    from ..codec.context_coding import ContextCoder, ContextModel
    from ..codec.rangecoder import TableCoder, constriction
    from ..codec.tables import CdfTables

    if codec.variable_rate:  # the integer context network and the coder, as decode runs them
        context_model = codec.tables
        assert isinstance(context_model, ContextModel)
        latent = codec.latent(frames[:32])
        qbytes = np.full(len(latent), codec.quality_byte(None))
        parts = []
        for name in ("constriction", "python") if constriction is not None else ("python",):
            context = ContextCoder(context_model, TableCoder(context_model.tables, name))
            bodies = context.encode(latent, qbytes)
            enc = median_ms(lambda c=context: [c.encode(latent[i:i + 1], qbytes[:1])
                                                for i in range(len(latent))], repeats)
            dec = median_ms(lambda c=context, bs=bodies: [c.decode([b], qbytes[:1])
                                                           for b in bs], repeats)
            parts.append(f"{name} {enc / len(latent):.2f} ms to encode, "
                         f"{dec / len(latent):.2f} ms to decode")
        return ("\nEntropy coding alone, integer context network included (32 frames' "
                "latents at the default quality, one frame at a time): " + "; ".join(parts)
                + ".\n")
    tables = codec.tables
    assert isinstance(tables, CdfTables)
    symbols = codec.latent_symbols(frames[:32])
    parts = []
    for name in ("constriction", "python") if constriction is not None else ("python",):
        coder = TableCoder(tables, name)
        bodies = [coder.encode(s) for s in symbols]
        enc = median_ms(lambda c=coder: [c.encode(s) for s in symbols], repeats) / len(symbols)
        dec = median_ms(lambda c=coder, b=bodies: [c.decode(x, symbols.shape[2]) for x in b],
                         repeats) / len(symbols)
        parts.append(f"{name} {enc:.2f} ms to encode, {dec:.2f} ms to decode")
    return ("\nRange coding alone (32 frames' latents, per frame; python is the fallback where "
            "constriction has no wheel): " + "; ".join(parts) + ".\n")


def stream_decode_line(codec: Codec, frames: np.ndarray, repeats: int) -> str:
    """Intra frames one at a time through ``Codec.decode`` and ``StreamDecoder``, same run."""
    if not codec.variable_rate:
        return ""
    payloads = codec.encode(frames[:32])

    def stream() -> None:
        dec = codec.stream_decoder()  # a fresh one: every payload is a new key frame
        for p in payloads:
            dec.decode(p)

    ms = interleaved_ms({"codec": lambda: [codec.decode(p) for p in payloads],
                          "stream": stream}, repeats)
    return (f"\nIntra frames decoded one at a time (32 frames, default quality, timed "
            f"interleaved): Codec.decode {ms['codec'] / len(payloads):.2f} ms, "
            f"StreamDecoder.decode {ms['stream'] / len(payloads):.2f} ms per frame.\n")


def fit_rows(repeats: int) -> list[tuple[str, float]]:
    """Milliseconds to fit a camera frame of common sizes into 64x64 (the node's crop)."""
    rng = np.random.default_rng(0)
    rows = []
    for w, h in ((640, 480), (1280, 720), (1920, 1080)):
        frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        rows.append((f"{w}x{h}", median_ms(lambda f=frame: fit(f, "crop"), repeats)))
    return rows


def arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-compress-bench codec``."""
    p.add_argument("--weights", default="", help="weights file or bundled name")
    p.add_argument("--export", help="ONNX export of the weights for the onnxruntime rows "
                   "(default: the bundled export of a bundled name)")
    p.add_argument("--data", nargs="*", default=[str(SAMPLE_CLIP)], help="frames to time on")
    p.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    p.add_argument("--repeats", type=int, default=100)
    p.add_argument("--no-eager", action="store_true", help="time only the default (frozen) "
                   "path, not also the eager modules it replaced")
    p.add_argument("--backends", nargs="+", default=list(BACKENDS[1:]),
                   choices=BACKENDS[1:], help="backends to time (onnxruntime "
                   "alone needs no torch)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (as the nodes take it)")
    p.add_argument("--baseline", help="also time these weights (e.g. an earlier model) in "
                   "the same run, as rows labelled 'baseline'")
    p.add_argument("--baseline-export", help="ONNX export of --baseline for its onnxruntime "
                   "row")
    p.add_argument("--out", help="markdown file whose 'codec' section is rewritten")


def run(args: argparse.Namespace) -> int:
    """``gan-compress-bench codec``: the codec against JPEG and WebP."""
    weights = args.weights or None
    paths = codec_paths(weights, args.export, not args.no_eager, args.backends, args.device)
    if args.baseline:
        base = codec_paths(args.baseline, args.baseline_export, False,
                           args.backends if args.baseline_export else [TORCH], args.device)
        paths.update({f"baseline {k}": v for k, v in base.items()})
    if not paths:
        print("gan-compress-bench: nothing to time", file=sys.stderr)
        return 2
    codec = Codec.load(**next(iter(paths.values())))
    frames = eval_frames(args.data)
    if len(frames) == 0:
        print("gan-compress-bench: no frames in --data", file=sys.stderr)
        return 2
    while len(frames) < 32:
        frames = np.concatenate([frames, frames])
    report = table(bench(paths, frames, args.threads, args.repeats), codec)
    cv2.setNumThreads(1)
    report += coder_line(codec, frames, max(5, args.repeats // 10))
    report += stream_decode_line(codec, frames, max(5, args.repeats // 10))
    report += ("\nFitting a camera frame into 64x64 (centre crop, area resize; OpenCV, 1 "
               "thread), per frame: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in
                                                  fit_rows(max(5, args.repeats // 5))) + ".\n")
    if codec.backend == "torch":
        report += layer_report(codec, args.repeats)
    print(report)
    if args.out:
        command = args.command_line
        update_section(args.out, "codec", f"`{command.strip()}` on {machine_line()}\n\n"
                       + report)
    return 0
