"""Counters and timings a codec node reports on /diagnostics and in its summary log line."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

WINDOW = 300  # recent frames the rates and percentiles are computed over
#: Recent stamps remembered to recognise a repeated frame (a relay or bridge resending).
RECENT_STAMPS = 64


class StreamOrder:
    """Counts frames that arrive again (same stamp) or late (older than the newest seen).

    Bookkeeping only: every payload still decodes alone, so neither kind changes what the
    node outputs; the counts let a user see what the link did to the stream.
    """

    def __init__(self) -> None:
        self.newest: int | None = None
        self.duplicates = 0
        self.out_of_order = 0
        self._recent: deque[int] = deque(maxlen=RECENT_STAMPS)
        self._seen: Counter[int] = Counter()

    def observe(self, stamp_ns: int) -> None:
        """Record a frame's stamp, counting it if it is a repeat or late."""
        if self._seen[stamp_ns]:
            self.duplicates += 1
        elif self.newest is not None and stamp_ns < self.newest:
            self.out_of_order += 1
        if len(self._recent) == self._recent.maxlen:
            old = self._recent[0]
            self._seen[old] -= 1
            if not self._seen[old]:
                del self._seen[old]
        self._recent.append(stamp_ns)
        self._seen[stamp_ns] += 1
        self.newest = stamp_ns if self.newest is None else max(self.newest, stamp_ns)


class NodeStats:
    """Frames served, bytes, processing time and errors by kind."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.frames = 0
        self.dropped = 0
        self.order = StreamOrder()
        self.errors: Counter[str] = Counter()
        self._times: deque[float] = deque(maxlen=WINDOW)
        self._bytes: deque[int] = deque(maxlen=WINDOW)
        self._ms: deque[float] = deque(maxlen=WINDOW)
        #: More figures for /diagnostics and the summary (the encoder's rate control).
        self.extra: Callable[[], dict[str, float]] | None = None

    def served(self, payload_bytes: int, ms: float) -> None:
        """Record one frame handled in ``ms`` milliseconds with a ``payload_bytes`` payload."""
        self.frames += 1
        self._times.append(time.monotonic())
        self._bytes.append(payload_bytes)
        self._ms.append(ms)

    def error(self, kind: str) -> None:
        """Count one bad input of ``kind``."""
        self.errors[kind] += 1

    def snapshot(self) -> dict[str, float]:
        """Current figures: fps, bytes per frame, bitrate, ms per frame, totals."""
        span = self._times[-1] - self._times[0] if len(self._times) > 1 else 0.0
        fps = (len(self._times) - 1) / span if span > 0 else 0.0
        bpf = float(np.mean(self._bytes)) if self._bytes else 0.0
        return {"frames": self.frames, "dropped": self.dropped,
                "duplicates": self.order.duplicates, "out_of_order": self.order.out_of_order,
                "errors": sum(self.errors.values()), "fps": fps, "bytes_per_frame": bpf,
                "bitrate_kbps": fps * bpf * 8 / 1000,
                "ms_p50": float(np.percentile(self._ms, 50)) if self._ms else 0.0,
                "ms_p99": float(np.percentile(self._ms, 99)) if self._ms else 0.0,
                **(self.extra() if self.extra is not None else {})}

    def summary(self) -> str:
        """One log line, with only the figures this node measures.

        Repeats and late frames are counted where a stream is received (the decoder, the
        link receiver), so only a node that has observed one prints them. In temporal
        mode every frame reports its key frame's quality, coded above the requested one,
        and the line says so.
        """
        s = self.snapshot()
        errors = ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items())) or "none"
        order = (f", duplicates {s['duplicates']}, out of order {s['out_of_order']}"
                 if self.order.newest is not None else "")
        quality = ""
        if "mean_quality" in s:
            quality = f", mean quality {s['mean_quality']:.2f}"
            if "inter_frame_share" in s:
                quality += (" (temporal mode: the key frames', which are coded above the "
                            "requested quality; inter frames show the key's picture where "
                            "nothing moved)")
        return (f"{s['frames']} frames, {s['fps']:.1f} fps, {s['bytes_per_frame']:.0f} B/frame, "
                f"{s['bitrate_kbps']:.1f} kbit/s, {s['ms_p50']:.1f} ms p50 "
                f"({s['ms_p99']:.1f} p99), dropped {s['dropped']}{order}, errors: {errors}"
                + (f", input lost {s['input_lost']:.0f}" if s.get("input_lost") else "")
                + quality
                + (f", budget {s['budget_bps']:.0f} bit/s, {s['achieved_bps']:.0f} sent over "
                   f"the last window, skipped for the budget {s['skipped_for_budget']:.0f}"
                   if "budget_bps" in s else ""))

    def diagnostics(self, stamp: object, hardware_id: str) -> DiagnosticArray:
        """A DiagnosticArray with one status for this node."""
        s = self.snapshot()
        status = DiagnosticStatus(name=self.name, hardware_id=hardware_id)
        status.level = DiagnosticStatus.WARN if self.errors else DiagnosticStatus.OK
        status.message = "errors seen" if self.errors else "ok"
        status.values = [KeyValue(key=k, value=f"{v:.3f}" if isinstance(v, float) else str(v))
                         for k, v in s.items()]
        status.values += [KeyValue(key=f"errors.{k}", value=str(v))
                          for k, v in sorted(self.errors.items())]
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = stamp
        return msg
