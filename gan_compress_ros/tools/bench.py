"""gan-compress-bench: figures for docs/benchmarks.md and docs/temporal.md, never pass/fail.

One subcommand per benchmark (``gan-compress-bench --help`` lists them; ``codec`` runs when
none is named), each measured by its own module: ``codec_bench``, ``pipeline_bench``
(pipeline, soak, startup), ``rate_bench`` (rate, links), ``temporal_bench``,
``stage_bench`` and ``link_bench``. ``common.py`` holds what they share; ``report.py``
writes the docs section each one owns, with the command line that made it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..codec import BACKENDS, Codec
from ..codec.choices import ONNXRUNTIME, TORCH
from ..training.data import eval_frames
from . import codec_bench, effort_bench, pipeline_bench, rate_bench, stage_bench, temporal_bench
from .common import SAMPLE_CLIP
from .report import machine_line, update_section, write_json


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
        write_json(args.json, result)
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
    p.add_argument("--out", nargs="+", default=[], metavar="FILE",
                   help="markdown files whose 'link' section is rewritten (docs/benchmarks.md "
                   "README.md: the README shows the same generated table)")
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
        # only docs/benchmarks.md has this section: a README named beside it is left alone
        for path in [p for p in args.out if Path(p).is_file() and
                     "<!-- begin link costs -->" in Path(p).read_text()] or args.out[:1]:
            update_section(path, "link costs", text)
        return 0
    pipeline_bench.local_ros_env()
    configs = [dict(link="serial", baud=9600, max_bytes=150),
               dict(link="serial", baud=9600, max_bytes=150, bit_error_rate=1e-4),
               dict(link="serial", baud=57600),
               dict(link="udp", loss=0.1, rate=4000)]
    rows = []
    for config in configs:
        rows.append(link_bench.run(seconds=args.seconds, **config))  # type: ignore[arg-type]
        print(rows[-1], flush=True)
    command = args.command_line
    text = link_bench.markdown(rows, command.strip(), machine_line())
    print(text)
    for path in args.out:
        update_section(path, "link", text)
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
    "codec": ("encode/decode ms against JPEG and WebP (the default)",
              codec_bench.arguments, codec_bench.run, codec_bench.__doc__),
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
