"""Plumbing the tools share: the bundled sample clip, timing, and the figures' provenance.

``gan-compress-bench``'s subcommands (``bench.py``), the demo and the fuzzer take their
default frames from ``SAMPLE_CLIP``; every benchmark times with ``median_ms`` and writes
its docs section with the command line that made it (``report.update_section``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

#: The bundled demo clip (48 frames of a fixed surveillance camera), installed with the
#: package: the default frames of the demo, the benchmarks and the fuzzer.
SAMPLE_CLIP = Path(__file__).resolve().parent.parent / "data" / "sample_clip"


def median_ms(fn: Callable[..., object], repeats: int) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def interleaved_ms(fns: dict[str, Callable[..., object]], repeats: int,
                   rounds: int = 5) -> dict[str, float]:
    """Median ms of each function, timed in alternating rounds so drift hits all alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(median_ms(fn, max(1, repeats // rounds)))
    return {k: float(np.median(v)) for k, v in times.items()}
