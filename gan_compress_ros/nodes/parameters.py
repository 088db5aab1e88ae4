"""Every node parameter in one table: name, default, description, allowed values.

The nodes declare from it (``params.declare``), the launch file takes its defaults from it,
and the tests check the README's node table and ``config/pipeline.yaml`` against it. Plain
Python (no rclpy), so the launch file and the tests read it anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..codec.choices import BACKENDS, PRECISIONS
from ..image import RESIZE_MODES
from .frames import SOURCES


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


#: Largest decoder output_size: a 1024x1024 rgb8 image is 3 MB; 4096 would be 50 MB a frame
#: for anyone on the graph to ask for.
MAX_OUTPUT_SIZE = 1024


@dataclass(frozen=True)
class Param:
    """One parameter: its default fixes its type; ``choices`` or ``low``/``high`` bound it."""

    name: str
    default: Any
    description: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    #: A value that means "not set", accepted beside the range (e.g. -1 for quality).
    unset: float | None = None
    #: Changes at run time with ``ros2 param set``; the others are read-only after start.
    dynamic: bool = False

    def coerce(self, value: Any) -> Any:
        """``value`` in the parameter's type (an integer for a double is fine); TypeError."""
        kind = type(self.default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if type(value) is not kind:
            names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
            raise TypeError(f"expects {names[kind]}, got {type(value).__name__} {value!r}")
        return value

    def range_text(self) -> str:
        """The allowed values in words ("" when any value of the type is fine)."""
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        if self.low is None:
            return ""
        span = f">= {_num(self.low)}" if self.high is None else \
            f"{_num(self.low)} to {_num(self.high)}"
        return span if self.unset is None else f"{span}, or {_num(self.unset)}"

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not allowed, or None."""
        if self.choices and value not in self.choices:
            return f"use one of {', '.join(self.choices)}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.unset is not None and value == self.unset:
                return None
            if self.low is not None and value < self.low:
                return f"must be >= {self.low:g}"
            if self.high is not None and value > self.high:
                return f"must be <= {self.high:g}"
        return None


CODEC = (
    Param("weights", "", "weights file (.safetensors), ONNX export directory "
          "(gan-compress-export) or a rate point of the bundled model (low, mid, high; "
          "commercial, a retired model's name, means mid); empty: mid. "
          "Changes at run time (the new weights load between frames)",
          dynamic=True),
    Param("backend", "auto", f"{', '.join(BACKENDS)}: runtime of the transforms; auto takes "
          "onnxruntime for the bundled model on cpu (weights empty or a rate point name) and "
          "for an export directory, torch for a .safetensors file or cuda if torch is "
          "installed, else onnxruntime. Payloads decode across backends",
          choices=BACKENDS),
    Param("device", "cpu", "cpu, cuda or auto (onnxruntime: TensorRT, then CUDA, then CPU, as "
          "installed)"),
    Param("precision", "fp32", f"{', '.join(PRECISIONS)}; fp16 needs torch on cuda, or "
          "onnxruntime with TensorRT or an export's fp16 models"),
    Param("threads", 1, "CPU threads for the codec (0: the runtime's default); one leaves "
          "cores to the rest of the robot"),
)
DIAGNOSTICS = Param("diagnostics_period", 5.0, "seconds between /diagnostics messages and "
                    "summary log lines (0: off)", low=0.0)
ENCODER = (
    *CODEC,
    Param("quality", -1.0, "variable-rate models: 0 (fewest bytes) .. 1 (best picture); -1: "
          "the weights' default (the rate point's for weights:=low|mid|high). With "
          "max_bytes_per_frame or max_bitrate: the best quality that fits, up to this one "
          "(-1: up to 1)", low=0.0,
          high=1.0, unset=-1.0, dynamic=True),
    Param("resize_mode", "crop", "how frames become 64x64: crop (centre square), letterbox "
          "(black bars), stretch", choices=RESIZE_MODES, dynamic=True),
    Param("input_reliability", "auto", "the camera subscription: auto (reliable while every "
          "publisher on the topic offers it, else best effort; looked at twice a second), "
          "reliable or best_effort. It keeps only the newest frame either way",
          choices=("auto", "reliable", "best_effort")),
    Param("key_interval", 1, "temporal mode: a key frame (decodes alone) every this many "
          "frames, and between them inter frames of a few dozen bytes coded against the "
          "last key (a lost inter frame costs that frame, a lost key the frames until the "
          "next; a receiver joining waits at most this long). 1: every frame intra. Needs "
          "the weights' temporal tables (gan-compress-fit-temporal)", low=1, high=100_000,
          dynamic=True),
    Param("effort", 0, "encoder search effort: 0 codes each frame in one pass (real time); 1..9 "
          "search longer for a latent that costs fewer bytes at the same distortion (tens of "
          "ms to seconds per frame: for slow links such as LoRa or satellite). Decoders need "
          "nothing new. Needs PyTorch and the .safetensors weights; applies to intra frames "
          "(key_interval 1)", low=0, high=9, dynamic=True),
    Param("max_rate_hz", 0.0, "drop frames arriving faster than this rate (0: encode every "
          "frame); under max_bitrate each frame sent gets the budget of 1/max_rate_hz seconds, "
          "so on a packet link, packets per second make each frame fill a packet",
          low=0.0, dynamic=True),
    Param("max_bytes_per_frame", 0, "variable-rate models: every payload at most this many "
          "bytes, at the best quality that fits; a frame that cannot fit is dropped and "
          "counted (0: no cap)", low=0, high=65535, dynamic=True),
    Param("max_bitrate", 0, "variable-rate models: bit/s that the published messages "
          "(payload and message overhead) never exceed over any max_bitrate_window; quality "
          "drops first, then frames are skipped and counted; a window too small for the "
          "smallest frame is logged as an error (0: no budget)", low=0,
          high=1_000_000_000, dynamic=True),
    Param("max_bitrate_overhead", -1, "bytes max_bitrate counts per message beside the "
          "payload: -1 measures the serialized ROS message; a link bridge's framing (e.g. 8) "
          "where the latents cross a radio as bytes", low=-1, high=65535, dynamic=True),
    Param("max_bitrate_window", 1.0, "seconds over which max_bitrate is held (longer for "
          "links slower than one message per second, e.g. acoustic modems)", low=0.1,
          high=3600.0, dynamic=True),
    DIAGNOSTICS,
)
DECODER = (
    *CODEC,
    Param("output_size", 0, "side of the published image in pixels (0: 64, the codec's "
          "size; larger values upscale for display, at most 1024: 3 MB per image)", low=0,
          high=MAX_OUTPUT_SIZE, dynamic=True),
    DIAGNOSTICS,
)
CAMERA_SOURCE = (
    Param("source", "pattern", f"one of {', '.join(SOURCES)}", choices=SOURCES),
    Param("path", "", "video file or image folder; webcam index for webcam"),
    Param("rate_hz", 10.0, "frames per second", low=0.001),
    Param("frame_id", "camera", "header.frame_id of each frame"),
    Param("loop", True, "start again at the end of a video or folder"),
    Param("max_frames", 0, "stop publishing after this many frames (0: never)", low=0),
)
_LINK = (
    Param("serial_port", "", "serial device of the radio (e.g. /dev/ttyUSB0); or set udp"),
    Param("baud", 9600, "serial baud rate (8N1)", low=50, high=4_000_000),
    Param("udp", "", "HOST:PORT: the receiver's address (send) or where to listen (receive)"),
    Param("key_file", "", "32-byte link key (gan-compress-link keygen PATH), the same file on "
          "both ends: every frame then carries a 6-byte tag, and forged, altered and replayed "
          "frames are refused; empty: no authentication (anyone who can reach the link can "
          "inject images)"),
)
LINK_SEND = (
    *_LINK,
    Param("rate_bytes_per_s", 0.0, "bytes per second the link carries (0: baud / 10 on a "
          "serial port, no limit on udp); frames that cannot go in time are dropped, the "
          "newest kept", low=0.0),
    Param("encoder", "", "encoder node to hand the link's budget to (max_bitrate and "
          "max_bitrate_overhead), e.g. /encoder; needs a link rate; empty: leave it as it is"),
    Param("table_every", 10.0, "seconds between frame_id/stamp table frames at least (a late "
          "receiver waits this long; longer on slow links, where tables take at most 0.5% "
          "of the rate)", low=0.1, high=3600.0),
    DIAGNOSTICS,
)
LINK_RECEIVE = (
    *_LINK,
    Param("peer", "", "udp: take datagrams from this host only (a name or address); empty: "
          "from any"),
    Param("max_payload", 4095, "longest payload accepted (bytes); lower it to the encoder's "
          "byte cap so a damaged length on a serial line costs less", low=1, high=4095),
    DIAGNOSTICS,
)
#: Node name (as launched) -> its parameters.
NODES: dict[str, tuple[Param, ...]] = {"encoder": ENCODER, "decoder": DECODER,
                                       "camera_source": CAMERA_SOURCE,
                                       "link_send": LINK_SEND, "link_receive": LINK_RECEIVE}
BY_NAME: dict[str, Param] = {p.name: p for params in NODES.values() for p in params}


def _default_text(param: Param) -> str:
    if param.default == "" and isinstance(param.default, str):
        return "(empty)"
    return str(param.default).lower() if isinstance(param.default, bool) else \
        str(param.default)


def markdown_table(node: str) -> str:
    """The README's table of ``node``'s parameters, written from this table."""
    lines = ["| parameter | default | allowed | run time | what it does |",
             "| --- | --- | --- | --- | --- |"]
    for p in NODES[node]:
        description = p.description.replace("|", "\\|")  # not a column
        lines.append(f"| `{p.name}` | {_default_text(p)} | {p.range_text() or 'any'} | "
                     f"{'yes' if p.dynamic else 'no'} | {description} |")
    return "\n".join(lines)


def help_text(node: str, width: int = 88) -> str:
    """``node``'s parameters as ``--help`` prints them (``-p name:=value`` after --ros-args)."""
    import textwrap

    out = ["parameters (set with --ros-args -p NAME:=VALUE; at run time: ros2 param set):"]
    for p in NODES[node]:
        facts = [f"default {_default_text(p)}"]
        if p.range_text():
            facts.append(p.range_text())
        if p.dynamic:
            facts.append("changes at run time")
        out.append(f"  {p.name} ({'; '.join(facts)})")
        out.extend(textwrap.wrap(p.description, width, initial_indent=" " * 6,
                                 subsequent_indent=" " * 6))
    return "\n".join(out)


#: The README's generated section lies between these two lines.
README_MARKS = ("<!-- parameters: written by python -m gan_compress_ros.nodes.parameters -->",
                "<!-- parameters: end -->")


def readme_section() -> str:
    """Every node's table, as the README shows them between :data:`README_MARKS`."""
    parts = [README_MARKS[0]]
    for node in NODES:
        parts += [f"`{node}`:", "", markdown_table(node), ""]
    return "\n".join([*parts, README_MARKS[1]])


def rewrite_readme(path: str) -> bool:
    """Write the tables into the README at ``path``; whether anything changed."""
    from pathlib import Path

    readme = Path(path)
    text = readme.read_text()
    start, end = text.index(README_MARKS[0]), text.index(README_MARKS[1])
    new = text[:start] + readme_section() + text[end + len(README_MARKS[1]):]
    readme.write_text(new)
    return new != text


if __name__ == "__main__":  # rewrite the README's parameter tables from this one
    import sys

    print("README.md " + ("rewritten" if rewrite_readme(sys.argv[1] if len(sys.argv) > 1
                                                         else "README.md") else "unchanged"))
