"""gan-compress-bench: figures for docs/benchmarks.md, never pass/fail.

``codec`` (default): encode and decode milliseconds per frame at batch 1 and frames per second
at batch 32, for each CPU thread count and backend (torch, onnxruntime at each precision the
export has), next to OpenCV JPEG and WebP encode+decode of the same 64x64 frames measured in
the same run; and the cost of fitting camera frames into 64x64.
``pipeline``: the nodes as processes over DDS at a camera rate: latency, bytes on the wire,
memory. ``soak``: the same for ten minutes, with figures per window. ``temporal``: bytes and
PSNR per clip, intra against temporal mode and HEVC low delay (``temporal_bench``).
``stages``: the encoder node's time per camera frame, stage by stage (``stage_bench``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ..codec import BACKENDS, Codec
from ..codec.bundled import WeightsRef
from ..codec.choices import ONNXRUNTIME, TORCH
from ..codec.errors import WeightsError
from ..codec.export_dir import read_export
from ..image import fit
from ..training.data import eval_frames
from . import effort_bench, pipeline_bench, rate_bench, stage_bench, temporal_bench
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


def codec_arguments(p: argparse.ArgumentParser) -> None:
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


def codec_run(args: argparse.Namespace) -> int:
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


def pipeline_arguments(p: argparse.ArgumentParser, soak: bool = False) -> None:
    """Arguments of ``gan-compress-bench pipeline|soak``."""
    name = "soak" if soak else "pipeline"
    p.add_argument("--weights", default="", help="weights file, export or bundled name")
    p.add_argument("--backend", default="auto", choices=BACKENDS, help="both nodes' backend")
    p.add_argument("--duration", type=float, default=600.0 if soak else 60.0, help="seconds")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--size", default="640x480", help="camera frame size WIDTHxHEIGHT")
    p.add_argument("--threads", type=int, default=1, help="codec threads of each node")
    p.add_argument("--window", type=float, default=60.0, help="seconds per reported window")
    p.add_argument("--out", help=f"markdown file whose '{name}' section is rewritten")
    p.add_argument("--json", help="also write the raw figures here")
    p.add_argument("--plot", help="also plot latency and memory per window to this PNG")
    p.add_argument("--reliable-input", action="store_true", help="override both nodes' "
                   "inputs to reliable, 30 deep (the default is the nodes' own QoS, as a "
                   "user runs them)")
    p.add_argument("--input-reliability", default="auto",
                   choices=["auto", "reliable", "best_effort"],
                   help="the encoder's input_reliability parameter (default: its default)")


def pipeline_run(args: argparse.Namespace) -> int:
    """``gan-compress-bench pipeline|soak``: the nodes as processes over DDS."""
    p = args.parser
    name = args.command
    soak = name == "soak"
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
        assert min(width, height) > 0
    except (ValueError, AssertionError):
        p.error(f"--size must be WIDTHxHEIGHT, got {args.size!r}")
    size = (width, height)
    pipeline_bench.local_ros_env()
    result = pipeline_bench.run_pipeline(args.weights, args.duration, args.fps, size,
                                         args.threads, window_s=args.window,
                                         backend=args.backend,
                                         reliable=args.reliable_input,
                                         input_reliability=args.input_reliability)
    command = args.command_line
    text = pipeline_bench.markdown(result, command.strip(), machine_line(), per_window=soak)
    print(text)
    if args.out:  # one section per backend, QoS and size named on the command line
        section = name if args.backend == "auto" else f"{name}-{args.backend}"
        section += "-reliable" if args.reliable_input else ""
        section += "" if args.input_reliability == "auto" else f"-{args.input_reliability}"
        section += "" if args.size == "640x480" else f"-{args.size}"
        update_section(args.out, section, text)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    if args.plot:
        from ..training.plots import plot_soak

        plot_soak(result, Path(args.plot))
    return 0 if all(result["nodes_alive"]) and result["decoded"] else 1


def rate_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-compress-bench rate``."""
    p.add_argument("--data", nargs="+", default=[str(SAMPLE_CLIP)],
                   help="image folders or videos to crop frames from (default: the demo clip)")
    p.add_argument("--frames", type=int, default=2000, help="random 64x64 crops to code")
    p.add_argument("--caps", type=int, nargs="*", default=[100, 222, 340],
                   help="byte caps (none: budgets only)")
    p.add_argument("--budgets", type=int, nargs="*", default=[9600, 24000, 57600],
                   help="bit/s (none: caps only)")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--seconds", type=float, default=300.0, help="simulated camera time")
    p.add_argument("--weights", default="", help="a variable-rate model (default: bundled)")
    p.add_argument("--backend", default="auto", choices=BACKENDS)
    p.add_argument("--out", help="markdown file whose 'rate' section is rewritten")


def rate_run(args: argparse.Namespace) -> int:
    """``gan-compress-bench rate``: byte caps and bit-rate budgets (``rate_bench``)."""
    p = args.parser
    codec = Codec.load(args.weights or None, backend=args.backend)
    if not codec.variable_rate:
        p.error("byte caps and budgets need a variable-rate model")
    frames = rate_bench.varied_frames(args.data, args.frames)
    cap_rows = []
    if args.caps:
        best = np.array([len(b) for b in rate_bench.encode(codec, frames, quality=1.0)])
        curve = rate_bench.sweep(codec, frames, np.linspace(0, 1, 11))
        cap_rows = [rate_bench.caps(codec, frames, cap, best, curve) for cap in args.caps]
    overhead = rate_bench.message_overhead()
    budget_rows = [rate_bench.budget(codec, frames, b, args.fps, args.seconds, overhead)
                   for b in args.budgets]
    command = args.command_line
    text = rate_bench.markdown(cap_rows, budget_rows, command.strip(), machine_line(),
                               overhead)
    print(text)
    if args.out:  # caps and budgets may be measured by separate runs
        update_section(args.out, "rate" + ("" if args.budgets else "-caps")
                       + ("" if args.caps else "-budgets"), text)
    over = sum(r["over_cap"] for r in cap_rows) + sum(
        r["worst_window_bps"] > r["budget_bps"] for r in budget_rows)
    return 1 if over else 0


def links_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-compress-bench links``."""
    p.add_argument("--data", nargs="+", default=[str(SAMPLE_CLIP)],
                   help="frames (default: the demo clip, centre crops)")
    p.add_argument("--camera-fps", type=float, default=10.0)
    p.add_argument("--out", nargs="+", default=[], metavar="FILE",
                   help="markdown files whose 'links' section is rewritten (docs/benchmarks.md "
                   "README.md: the README shows the same generated table)")


def links_run(args: argparse.Namespace) -> int:
    """``gan-compress-bench links``: parameters and results for common radio links."""
    codec = Codec.load()
    rows = rate_bench.link_rows(codec, eval_frames(args.data), args.camera_fps)
    command = args.command_line
    text = rate_bench.link_markdown(rows, command.strip(), machine_line())
    print(text)
    for path in args.out:
        update_section(path, "links", text)
    return 0


def link_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-compress-bench link``."""
    from . import link_bench

    p.description = link_bench.__doc__
    p.add_argument("--seconds", type=float, default=30.0, help="per configuration")
    p.add_argument("--out", help="markdown file whose 'link' section is rewritten")
    p.add_argument("--costs", action="store_true", help="only the receiver's cost of hostile "
                   "input and the framing share on a 300 bit/s link (no nodes; section "
                   "'link costs')")


def link_run(args: argparse.Namespace) -> int:
    """``gan-compress-bench link``: the demo clip over simulated serial and UDP links."""
    from . import link_bench

    if args.costs:
        text = link_bench.costs_markdown(link_bench.parse_costs(), args.command_line,
                                         machine_line())
        print(text)
        if args.out:
            update_section(args.out, "link costs", text)
        return 0
    pipeline_bench.local_ros_env()
    configs = [dict(link="serial", baud=9600, max_bytes=150),
               dict(link="serial", baud=9600, max_bytes=150, bit_error_rate=1e-4),
               dict(link="serial", baud=57600),
               dict(link="udp", loss=0.1)]
    rows = []
    for config in configs:
        rows.append(link_bench.run(seconds=args.seconds, **config))  # type: ignore[arg-type]
        print(rows[-1], flush=True)
    command = args.command_line
    text = link_bench.markdown(rows, command.strip(), machine_line())
    print(text)
    if args.out:
        update_section(args.out, "link", text)
    return 0 if all(r["decoded"] and not r["stray"] for r in rows) else 1


def startup_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-compress-bench startup``."""
    p.add_argument("--backends", nargs="+", default=["auto", TORCH, ONNXRUNTIME],
                   choices=BACKENDS)
    p.add_argument("--repeats", type=int, default=3, help="starts per backend (median shown)")
    p.add_argument("--weights", default="", help="weights file, export or bundled name")
    p.add_argument("--out", help="markdown file whose 'startup' section is rewritten")


def startup_run(args: argparse.Namespace) -> int:
    """``gan-compress-bench startup``: node start to first decoded frame, per backend."""
    pipeline_bench.local_ros_env()
    rows = ["| backend (what auto chose) | first decoded frame, s (median, all) | encoder MiB "
            "| decoder MiB |", "| --- | --- | --- | --- |"]
    for backend in args.backends:
        runs = [pipeline_bench.measure_startup(backend, args.weights)
                for _ in tqdm(range(args.repeats), desc=f"startup {backend}", disable=None)]
        times = sorted(r["first_frame_s"] for r in runs)
        loaded = runs[0]["loaded"]
        chosen = ONNXRUNTIME if " on onnxruntime" in loaded else TORCH
        rows.append(f"| {backend}{f' ({chosen})' if backend == 'auto' else ''} | "
                    f"{times[len(times) // 2]:.2f} ({', '.join(f'{t:.2f}' for t in times)}) "
                    f"| {np.median([r['encoder_mib'] for r in runs]):.0f} "
                    f"| {np.median([r['decoder_mib'] for r in runs]):.0f} |")
        print(rows[-1], flush=True)
    command = args.command_line
    text = (f"`{command.strip()}` on {machine_line()}: encoder_node and decoder_node started "
            "as processes, a 640x480 frame offered every 50 ms; time to the first decoded "
            "frame and each node's resident memory then.\n\n" + "\n".join(rows))
    print(text)
    if args.out:
        update_section(args.out, "startup", text)
    return 0


def soak_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-compress-bench soak``: the pipeline's, ten minutes by default."""
    pipeline_arguments(p, soak=True)


def stages_run(args: argparse.Namespace) -> int:
    """``gan-compress-bench stages``: the encoder node's time per frame, stage by stage."""
    from . import stage_bench

    return stage_bench.run(args)


def temporal_run(args: argparse.Namespace) -> int:
    """``gan-compress-bench temporal``: temporal mode against intra and HEVC."""
    from . import temporal_bench

    return temporal_bench.run(args)


#: The subcommands: name -> (one line for --help, arguments, what runs, description).
SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None],
                             Callable[[argparse.Namespace], int], str | None]] = {
    "codec": ("encode/decode ms against JPEG and WebP (the default)", codec_arguments,
              codec_run, __doc__),
    "rate": ("byte caps and bit-rate budgets", rate_arguments, rate_run,
             rate_bench.__doc__),
    "pipeline": ("the nodes as processes over DDS at a camera rate", pipeline_arguments,
                 pipeline_run, pipeline_bench.__doc__),
    "soak": ("the pipeline for ten minutes, figures per window", soak_arguments,
             pipeline_run, pipeline_bench.__doc__),
    "temporal": ("temporal mode against intra and HEVC per clip", temporal_bench.arguments,
                 temporal_run, temporal_bench.__doc__),
    "startup": ("node start to first decoded frame, per backend", startup_arguments,
                startup_run, pipeline_bench.measure_startup.__doc__),
    "stages": ("the encoder node's time per camera frame, stage by stage",
               stage_bench.arguments, stages_run, stage_bench.__doc__),
    "links": ("parameters and results for common radio links", links_arguments, links_run,
              rate_bench.link_rows.__doc__),
    "link": ("the demo clip over simulated serial and UDP links", link_arguments, link_run,
             None),
    "effort": ("encoder effort: BD-rate against effort 0 and ms per frame",
               effort_bench.arguments, effort_bench.run, effort_bench.__doc__),
}
#: What runs when the first argument is an option (or there is none).
DEFAULT = "codec"


def parser() -> argparse.ArgumentParser:
    """The command line: one argparse subcommand per benchmark."""
    top = argparse.ArgumentParser(prog="gan-compress-bench", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    subs = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (summary, arguments, run, description) in SUBCOMMANDS.items():
        sub = subs.add_parser(name, help=summary, description=description or summary,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        arguments(sub)
        sub.set_defaults(run=run, parser=sub)
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``gan-compress-bench COMMAND [options]`` (``codec`` when none is named)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = [DEFAULT, *argv]
    args = parser().parse_args(argv)
    args.command_line = "gan-compress-bench " + " ".join(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
