"""The pipeline measured as deployed: encoder and decoder as their own processes over DDS.

A probe node in this process plays the camera (rgb8 frames at a fixed rate, stamped at
publish), listens to the latent topic (serialized size on the wire, payload size) and to the
decoded topic (latency from camera stamp to arrival), and samples the resident memory of both
node processes once a second. Every topic is reliable with a queue, so a frame that does not
come back was lost, not shed by QoS. Used by ``gan-compress-bench pipeline|soak`` and by the
short soak test in CI.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from ..image import read_rgb
from ..nodes.dds import LARGE_FRAMES_PROFILE, PROFILES_ENV, PUBLICATION_MODE_ENV
from ..training.data import find_images
from .common import SAMPLE_CLIP

SAMPLE = SAMPLE_CLIP  # link_bench reads it from here
NAMESPACE = "/bench"
QUEUE = 30
WARMUP_SIZE = (80, 60)  # 14 KiB of rgb8: one datagram, never fragmented
READY_TIMEOUT_S = 90.0


def reliable_input(topic: str, depth: int = QUEUE) -> list[str]:
    """ROS args making a node's (sensor-data) subscription on ``topic`` reliable, ``depth`` deep.

    ``topic`` is the resolved name. For benchmarks and tests where every frame must be
    accounted for (``testkit.ros`` uses it too); users get the nodes' default QoS.
    """
    return ["-p", f"qos_overrides.{topic}.subscription.reliability:=reliable",
            "-p", f"qos_overrides.{topic}.subscription.depth:={depth}",
            "-p", "input_reliability:=reliable"]  # the encoder's own reliability switch


def start_nodes(weights: str, threads: int, backend: str = "auto",
                reliable: bool = False, input_reliability: str = "auto"
                ) -> list[subprocess.Popen]:
    """encoder_node and decoder_node as processes in NAMESPACE.

    With the nodes' default QoS, as users run them; ``reliable`` overrides both inputs to
    reliable, QUEUE deep (every frame accounted for, not what a default launch does).
    """
    common = ["-r", f"__ns:={NAMESPACE}", "-p", f"threads:={threads}",
              "-p", f"backend:={backend}",
              "-p", "diagnostics_period:=2.0"] + (["-p", f"weights:={weights}"] if weights
                                                  else [])
    encoder_only = ["-p", f"input_reliability:={input_reliability}"]
    return [spawn(name, *common, *(encoder_only if name == "encoder_node" else []),
                  *(reliable_input(f"{NAMESPACE}/{topic}") if reliable else []))
            for name, topic in (("encoder_node", "image_raw"), ("decoder_node", "image_raw/gan"))]


def spawn(module: str, *ros_args: str) -> subprocess.Popen:
    """``gan_compress_ros.nodes.<module>`` as a process, its log in a file (``_log``).

    A file, not a pipe: an undrained pipe would block a chatty node.
    """
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen([sys.executable, "-m", f"gan_compress_ros.nodes.{module}",
                             "--ros-args", *ros_args], stdout=subprocess.DEVNULL, stderr=log)
    proc.log_file = log  # type: ignore[attr-defined]
    return proc


@contextlib.contextmanager
def probe_session(name: str, procs: list[subprocess.Popen]) -> Iterator[tuple[Any, Any]]:
    """A probe node and its executor in their own context; on exit both go, ``procs`` stop."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from ..nodes.dds import camera_process

    # the probe is the camera: it publishes as camera_source does (nodes/dds.py), unless
    # the environment says otherwise (RMW_FASTRTPS_PUBLICATION_MODE=SYNCHRONOUS or another
    # FASTDDS_DEFAULT_PROFILES_FILE show Fast DDS's defaults); the process's environment is
    # restored after, for whatever else runs in it (tests)
    with camera_process():
        context = rclpy.Context()
        rclpy.init(context=context)
        node = rclpy.create_node(name, context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        try:
            yield node, executor
        finally:
            executor.shutdown()
            node.destroy_node()
            rclpy.shutdown(context=context)
            for p in procs:
                _stop(p)


def spin_for(executor: Any, seconds: float, step: float = 0.05) -> None:
    """Serve the probe's callbacks for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=step)


def rss_kib(pid: int) -> tuple[int, int]:
    """(resident, peak resident) memory of a process in KiB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)


def camera_frames(size: tuple[int, int]) -> list[np.ndarray]:
    """The bundled clip at the camera's resolution (width, height), RGB."""
    frames = [read_rgb(p) for p in find_images([SAMPLE_CLIP])]
    return [cv2.resize(f, size, interpolation=cv2.INTER_LINEAR) for f in frames]


class _Probe:
    """Camera publisher, latent and decoded listeners, and the records they keep."""

    def __init__(self, node, frames: list[np.ndarray]) -> None:
        # ROS imports stay here: ``gan-compress-bench codec`` must run without ROS installed
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CompressedImage, Image

        from ..nodes.convert import rgb_to_image
        from ..nodes.diagnostics import try_publish

        self.node = node
        qos = QoSProfile(depth=QUEUE, reliability=ReliabilityPolicy.RELIABLE)
        self.messages = [rgb_to_image(f, frame_id="bench_camera") for f in frames]
        # warm-up frames fit one UDP datagram: discovery is proven even where DDS loses most
        # large frames (a best-effort camera on Fast DDS's defaults, test_soak)
        self.small = [rgb_to_image(cv2.resize(f, WARMUP_SIZE, interpolation=cv2.INTER_AREA),
                                   frame_id="bench_camera") for f in frames]
        from ..nodes.camera_source import CAMERA_QOS

        self.pub = node.create_publisher(Image, f"{NAMESPACE}/image_raw", CAMERA_QOS)
        self.sent: dict[int, float] = {}  # stamp -> monotonic send time
        self.latents: dict[int, tuple[int, int]] = {}  # stamp -> (payload, wire bytes)
        self.decoded: dict[int, float] = {}  # stamp -> latency ms
        self.decoded_at: dict[int, float] = {}
        self.latent_at: dict[int, float] = {}
        self.publish_failed: list[float] = []  # monotonic times of refused publishes
        self.input_lost = 0.0  # the encoder's input_lost, as its /diagnostics last said
        self.input_lost_before = 0.0  # ... when the measurement began
        self._cls = CompressedImage
        self._try_publish = try_publish
        node.create_subscription(CompressedImage, f"{NAMESPACE}/image_raw/gan", self.on_latent,
                                 qos, raw=True)
        node.create_subscription(Image, f"{NAMESPACE}/image_decoded", self.on_decoded, qos)
        self.node_ms: list[tuple[float, str, float]] = []  # (time, node, its ms p50)
        node.create_subscription(DiagnosticArray, "/diagnostics", self.on_diagnostics, 10)

    def on_diagnostics(self, msg) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if "ms_p50" in values:
                self.node_ms.append((time.monotonic(), status.name.split()[-1],
                                     float(values["ms_p50"])))
            if "input_lost" in values:  # the encoder's count of frames DDS lost
                self.input_lost = float(values["input_lost"])

    def publish(self, index: int, small: bool = False) -> int | None:
        """Publish frame ``index`` (``small``: at its warm-up size); None if refused (counted).

        The camera's DDS writer can refuse a sample; camera_source counts it and goes on.
        """
        msg = (self.small if small else self.messages)[index % len(self.messages)]
        now = self.node.get_clock().now()
        msg.header.stamp = now.to_msg()
        if self._try_publish(self.node, self.pub, msg) is not None:
            self.publish_failed.append(time.monotonic())  # as camera_source: lost, go on
            return None
        stamp = now.nanoseconds
        self.sent[stamp] = time.monotonic()
        return stamp

    def on_latent(self, raw: bytes) -> None:
        from rclpy.serialization import deserialize_message

        from ..nodes.convert import stamp_ns

        msg = deserialize_message(raw, self._cls)
        stamp = stamp_ns(msg)
        self.latents[stamp] = (len(msg.data), len(raw))
        self.latent_at[stamp] = time.monotonic()

    def on_decoded(self, msg) -> None:
        from ..nodes.convert import stamp_ns

        now = self.node.get_clock().now().nanoseconds
        stamp = stamp_ns(msg)
        self.decoded[stamp] = (now - stamp) / 1e6
        self.decoded_at[stamp] = time.monotonic()


def run_pipeline(weights: str = "", duration_s: float = 60.0, fps: float = 30.0,
                 size: tuple[int, int] = (640, 480), threads: int = 1, warmup_s: float = 5.0,
                 window_s: float = 60.0, progress: bool = True, backend: str = "auto",
                 reliable: bool = False, input_reliability: str = "auto",
                 frames: list[np.ndarray] | None = None) -> dict:
    """Stream ``duration_s`` seconds at ``fps`` through the two node processes; figures.

    ``frames`` (RGB, cycled) replace the bundled clip at ``size``.
    """
    procs = start_nodes(weights, threads, backend, reliable, input_reliability)
    with probe_session("gan_compress_bench_probe", procs) as (node, executor):
        probe = _Probe(node, camera_frames(size) if frames is None else frames)
        _wait_ready(probe, executor, procs)
        rss: list[tuple[float, int, int]] = []  # (t, encoder KiB, decoder KiB)
        t0 = time.monotonic()
        next_rss, index = t0, 0
        bar = tqdm(total=int(duration_s), unit="s", desc="pipeline", disable=not progress)
        while (now := time.monotonic()) - t0 < duration_s:
            if now >= t0 + index / fps:
                probe.publish(index)
                index += 1
            if now >= next_rss:
                rss.append((now - t0, rss_kib(procs[0].pid)[0], rss_kib(procs[1].pid)[0]))
                next_rss += 1.0
                bar.update(1)
            executor.spin_once(timeout_sec=max(0.0, min(t0 + index / fps,
                                                        next_rss) - time.monotonic()))
        bar.close()
        end = time.monotonic() + 5.0  # let the frames in flight arrive
        while len(probe.decoded) < len(probe.sent) and time.monotonic() < end:
            executor.spin_once(timeout_sec=0.05)
        peaks = [rss_kib(p.pid)[1] for p in procs]
        alive = [p.poll() is None for p in procs]
        result = summarize(probe, rss, peaks, alive, t0, warmup_s, window_s, fps, size, threads)
        return dict(result, backend=backend, input_qos="reliable" if reliable else "default",
                    camera_publication=os.environ.get(PUBLICATION_MODE_ENV, "SYNCHRONOUS"),
                    camera_profile=_profile_name(os.environ.get(PROFILES_ENV, "")),
                    input_reliability=input_reliability)


def measure_startup(backend: str = "auto", weights: str = "", threads: int = 1) -> dict:
    """Seconds from starting both node processes to the first decoded frame, and memory.

    Frames are offered every 50 ms from the start, as a running camera would; the result is
    what a user waits after ``ros2 launch`` before the first picture.
    """
    frames = camera_frames((640, 480))[:4]
    start = time.monotonic()
    procs = start_nodes(weights, threads, backend)
    with probe_session("gan_compress_startup_probe", procs) as (node, executor):
        probe = _Probe(node, frames)
        i = 0
        while not probe.decoded:
            if time.monotonic() - start > 120 or any(p.poll() is not None for p in procs):
                errors = "".join(_log(p) for p in procs)
                raise RuntimeError(f"pipeline did not come up: {errors[-2000:]}")
            probe.publish(i)
            i += 1
            stop = time.monotonic() + 0.05
            while time.monotonic() < stop and not probe.decoded:
                executor.spin_once(timeout_sec=0.01)
        first = time.monotonic() - start
        rss = [rss_kib(p.pid)[0] / 1024 for p in procs]
        described = [line for p in procs for line in _log(p).splitlines()
                     if "]: codec " in line][:1]
        return {"backend": backend, "first_frame_s": first, "encoder_mib": rss[0],
                "decoder_mib": rss[1], "loaded": described[0].split("]: ")[-1]
                if described else ""}


def _wait_ready(probe: _Probe, executor, procs: list[subprocess.Popen]) -> None:
    """Publish small frames until one comes back decoded (discovery done), then forget them."""
    end = time.monotonic() + READY_TIMEOUT_S
    i = 0
    while not probe.decoded:
        exited = [p for p in procs if p.poll() is not None]
        if exited or time.monotonic() > end:
            why = (f"a node exited (rc {[p.returncode for p in exited]})" if exited else
                   f"no frame came back in {READY_TIMEOUT_S:.0f} s")
            logs = "".join(f"--- {name} ---\n{_log(p)[-1500:]}"
                           for name, p in zip(("encoder", "decoder"), procs, strict=True))
            raise RuntimeError(f"pipeline did not come up: {why}; {len(probe.sent)} warm-up "
                               f"frames sent, {len(probe.latents)} latents and "
                               f"{len(probe.decoded)} decoded frames back\n{logs}")
        probe.publish(i, small=True)
        i += 1
        stop = time.monotonic() + 0.5
        while time.monotonic() < stop and not probe.decoded:
            executor.spin_once(timeout_sec=0.05)
    spin_for(executor, 1.0)
    for records in (probe.sent, probe.latents, probe.decoded, probe.decoded_at,
                    probe.latent_at, probe.publish_failed):
        records.clear()
    probe.input_lost_before = probe.input_lost


def _log(proc: subprocess.Popen) -> str:
    """What a node process logged so far."""
    proc.log_file.seek(0)  # type: ignore[attr-defined]
    return proc.log_file.read()  # type: ignore[attr-defined]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.log_file.close()  # type: ignore[attr-defined]


def summarize(probe: _Probe, rss: list[tuple[float, int, int]], peaks: list[int],
              alive: list[bool], t0: float, warmup_s: float, window_s: float, fps: float,
              size: tuple[int, int], threads: int) -> dict:
    """Counts, latency percentiles (overall and per window), bytes, memory."""
    stamps = sorted(probe.sent)
    lat = np.array([probe.decoded[s] for s in stamps if s in probe.decoded
                    and probe.sent[s] - t0 >= warmup_s])
    hop1 = np.array([probe.latent_at[s] - probe.sent[s] for s in stamps
                     if s in probe.latent_at]) * 1000
    hop2 = np.array([probe.decoded_at[s] - probe.latent_at[s] for s in stamps
                     if s in probe.latent_at and s in probe.decoded_at]) * 1000
    sizes = np.array([probe.latents[s] for s in stamps if s in probe.latents])
    windows = []
    for w0 in np.arange(0.0, (max(probe.sent.values()) - t0) if stamps else 0.0, window_s):
        ws = [s for s in stamps if w0 <= probe.sent[s] - t0 < w0 + window_s]
        wl = np.array([probe.decoded[s] for s in ws if s in probe.decoded])
        mem = [r for r in rss if w0 <= r[0] < w0 + window_s]
        hop = np.array([probe.latent_at[s] - probe.sent[s] for s in ws
                        if s in probe.latent_at]) * 1000
        own = {n: [v for t, name, v in probe.node_ms if name == n
                   and w0 <= t - t0 < w0 + window_s] for n in ("encoder", "decoder")}
        windows.append({"start_s": float(w0), "sent": len(ws), "decoded": int(wl.size),
                        "p50_ms": _pct(wl, 50), "p99_ms": _pct(wl, 99),
                        "camera_to_latent_p50_ms": _pct(hop, 50),
                        "encoder_ms": float(np.median(own["encoder"])) if own["encoder"]
                        else 0.0,
                        "decoder_ms": float(np.median(own["decoder"])) if own["decoder"]
                        else 0.0,
                        "encoder_rss_mib": mem[-1][1] / 1024 if mem else 0.0,
                        "decoder_rss_mib": mem[-1][2] / 1024 if mem else 0.0})
    base = [r for r in rss if r[0] >= warmup_s] or rss
    growth = [100.0 * (base[-1][k] - base[0][k]) / base[0][k] if base and base[0][k] else 0.0
              for k in (1, 2)]
    return {
        "fps": fps, "size": list(size), "threads": threads, "duration_s": rss[-1][0] if rss
        else 0.0, "sent": len(stamps), "encoded": len(probe.latents),
        "decoded": len(probe.decoded), "lost": len(stamps) - len(probe.decoded),
        "latency_p50_ms": _pct(lat, 50), "latency_p99_ms": _pct(lat, 99),
        "latency_max_ms": float(lat.max()) if lat.size else 0.0,
        "camera_to_latent_p50_ms": _pct(hop1, 50), "latent_to_decoded_p50_ms": _pct(hop2, 50),
        "payload_bytes": float(sizes[:, 0].mean()) if sizes.size else 0.0,
        "wire_bytes": float(sizes[:, 1].mean()) if sizes.size else 0.0,
        "rss_start_mib": [base[0][1] / 1024, base[0][2] / 1024] if base else [0.0, 0.0],
        "rss_end_mib": [base[-1][1] / 1024, base[-1][2] / 1024] if base else [0.0, 0.0],
        "rss_growth_pct": growth, "peak_rss_mib": [p / 1024 for p in peaks],
        "nodes_alive": alive, "windows": windows, "warmup_s": warmup_s,
        "publish_failed_s": [t - t0 for t in probe.publish_failed],
        "encoder_input_lost": int(probe.input_lost - probe.input_lost_before),
    }


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else 0.0


def _profile_name(path: str) -> str:
    """The camera's Fast DDS profile in a report: ours, Fast DDS's defaults, or the user's."""
    if not path:
        return "Fast DDS defaults"
    return "large frames" if Path(path).resolve() == LARGE_FRAMES_PROFILE else path


def markdown(r: dict, command: str, machine: str, per_window: bool) -> str:
    """The figures as markdown."""
    overhead = r["wire_bytes"] - r["payload_bytes"]
    lines = [f"`{command}` on {machine}", "",
             f"{r['size'][0]}x{r['size'][1]} rgb8 camera at {r['fps']:g} fps for "
             f"{r['duration_s']:.0f} s, encoder and decoder as separate processes "
             f"(backend {r.get('backend', 'auto')}, {r['threads']} codec thread each), "
             "Fast DDS on localhost, a reliable camera publisher keeping its last frame as "
             f"camera_source does ({r.get('camera_publication', 'SYNCHRONOUS').lower()} "
             f"publishing, transport profile: {r.get('camera_profile', 'Fast DDS defaults')}); "
             "the nodes' "
             "inputs "
             + ("overridden to reliable, 30 deep." if r.get("input_qos") == "reliable" else
                "with their default QoS (keep the newest frame; encoder input_reliability "
                f"{r.get('input_reliability', 'auto')})."),
             "", "| figure | value |", "| --- | ---: |",
             f"| frames sent / encoded / decoded | {r['sent']} / {r['encoded']} / "
             f"{r['decoded']} |",
             f"| frames lost | {r['lost']} |",
             f"| of the lost, reported lost by DDS before the encoder (its input_lost) | "
             f"{r.get('encoder_input_lost', 0)} |",
             f"| camera frames its DDS writer refused (not sent, not counted as lost) | "
             f"{len(r.get('publish_failed_s', []))} |",
             f"| latency camera stamp -> decoded, p50 / p99 / max (after "
             f"{r['warmup_s']:g} s warm-up) | "
             f"{r['latency_p50_ms']:.1f} / {r['latency_p99_ms']:.1f} / "
             f"{r['latency_max_ms']:.1f} ms |",
             f"| of which camera -> latent back at the probe / latent -> decoded, p50 | "
             f"{r['camera_to_latent_p50_ms']:.1f} / {r['latent_to_decoded_p50_ms']:.1f} ms |",
             f"| payload bytes per frame | {r['payload_bytes']:.1f} |",
             f"| on the wire (serialized CompressedImage) | {r['wire_bytes']:.1f} "
             f"(+{overhead:.0f} B) |",
             f"| encoder resident memory start -> end (growth) | {r['rss_start_mib'][0]:.1f} -> "
             f"{r['rss_end_mib'][0]:.1f} MiB ({r['rss_growth_pct'][0]:+.2f}%) |",
             f"| decoder resident memory start -> end (growth) | {r['rss_start_mib'][1]:.1f} -> "
             f"{r['rss_end_mib'][1]:.1f} MiB ({r['rss_growth_pct'][1]:+.2f}%) |",
             f"| peak resident memory encoder / decoder | {r['peak_rss_mib'][0]:.1f} / "
             f"{r['peak_rss_mib'][1]:.1f} MiB |"]
    if per_window and len(r["windows"]) > 1:
        lines += ["", "| window start (s) | sent | decoded | p50 ms | p99 ms | camera -> latent "
                  "p50 ms | encoder / decoder own ms p50 | encoder MiB | decoder MiB |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {w['start_s']:.0f} | {w['sent']} | {w['decoded']} | {w['p50_ms']:.1f} | "
                  f"{w['p99_ms']:.1f} | {w['camera_to_latent_p50_ms']:.1f} | "
                  f"{w['encoder_ms']:.1f} / {w['decoder_ms']:.1f} | "
                  f"{w['encoder_rss_mib']:.1f} | {w['decoder_rss_mib']:.1f} |"
                  for w in r["windows"]]
    return "\n".join(lines) + "\n"


def local_ros_env() -> None:
    """Keep a benchmark's DDS traffic on this machine unless the user said otherwise."""
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("ROS_LOCALHOST_ONLY", "1")
