"""The ``Codec.decode`` target under atheris (coverage-guided), for ``gan-compress-fuzz``.

``gan-compress-fuzz --engine atheris`` runs this as a child process, since libFuzzer ends
the process when it is done.

The first input byte picks the mode: odd puts the rest behind a valid header and check byte
(so coverage grows inside the range decoder), even passes the rest as the raw payload. Any
exception but BitstreamError stops the run with a crash file, as libFuzzer does.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["gan_compress_ros.codec"]):
    from gan_compress_ros.codec import BitstreamError, Codec

from gan_compress_ros.codec.bitstream import header_bytes  # noqa: E402
from gan_compress_ros.tools.fuzz import _reason, seed_payloads, with_header  # noqa: E402
from gan_compress_ros.tools.report import write_json  # noqa: E402

#: Memory the decoder may add over the fuzzing process's start (libFuzzer's default limit).
RSS_GROWTH_MB = 2048


def main() -> None:
    """Set up the corpus and run libFuzzer for ``--cases`` runs."""
    p = argparse.ArgumentParser()
    p.add_argument("--weights", default="")
    p.add_argument("--cases", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--data", nargs="*", required=True)
    args = p.parse_args()
    codec = Codec.load(args.weights or None)
    corpus = Path(args.workdir) / "corpus"
    corpus.mkdir()
    for i, payload in enumerate(seed_payloads(codec, args.data)[:16]):
        (corpus / f"valid{i}").write_bytes(b"\x00" + payload)
        (corpus / f"body{i}").write_bytes(b"\x01" + payload[header_bytes(payload[0]):])
    counts: Counter[str] = Counter()
    start = time.perf_counter()

    def dump() -> None:
        write_json(args.json, {
            "engine": "atheris", "cases": sum(counts.values()), "seed": args.seed,
            "model_id": codec.model_id, "seconds": time.perf_counter() - start,
            "counts": {"atheris (raw or behind a valid header)": dict(counts)},
            "failures": []})

    def target(data: bytes) -> None:
        body = data[1:]
        payload = with_header(codec, body) if data[:1] and data[0] & 1 else body
        try:
            image = codec.decode([payload])
        except BitstreamError as exc:
            counts["rejected: " + _reason(str(exc))] += 1
        else:
            if image.shape != (1, 64, 64, 3):
                raise AssertionError(f"decoded to shape {image.shape}")
            counts["decoded"] += 1
        n = sum(counts.values())
        if n % 5000 == 0 or n >= args.cases:
            dump()

    dump()
    # libFuzzer's memory limit reads the process's peak RSS, which Linux carries across
    # exec: a child of a large process (a long pytest session) starts "over" 2 GB. The limit
    # is what the decoder may add to where this process starts; one allocation stays at 2 GB.
    start_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    atheris.Setup([sys.argv[0], str(corpus), f"-runs={args.cases}", f"-seed={args.seed + 1}",
                   "-max_len=800", f"-rss_limit_mb={start_mb + RSS_GROWTH_MB}",
                   f"-malloc_limit_mb={RSS_GROWTH_MB}", f"-artifact_prefix={args.workdir}/"],
                  target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
