"""gan-compress-fuzz: malformed payloads against ``Codec.decode``, counted and reported.

A decoder on a robot reads whatever the link delivers. The contract: ``decode`` returns a
valid 64x64 image or raises ``BitstreamError``; anything else (another exception, a wrong
shape, a crash) is a defect. Cases come from mutation strategies over real payloads of the
bundled sample clip; some rebuild a valid header and check byte so the corrupt body reaches
the range decoder and the synthesis transform. ``--engine atheris`` runs the same target
under atheris (coverage-guided, libFuzzer) when it is installed.

Exit code 0 when no case broke the contract, 1 otherwise; the report (``--out``, a section
of a markdown file) lists counts per strategy and outcome and the first failing inputs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..codec import BitstreamError, Codec
from ..codec.bitstream import MAX_PAYLOAD_BYTES, header_bytes, seal
from ..training.data import eval_frames
from .command import recorded
from .common import SAMPLE_CLIP
from .report import machine_line, update_section, write_json

SECTION = "gan-compress-fuzz"
#: How often each strategy is drawn. The two that reach the range decoder cost a full
#: decode (milliseconds); the rest are mostly stopped by the header checks (microseconds).
WEIGHTS = {"random": 0.2, "truncate": 0.15, "bitflip": 0.2, "bytes": 0.15, "splice": 0.08,
           "extend": 0.08, "oversize": 0.01, "valid_header_random_body": 0.03,
           "valid_header_mutated_body": 0.1}


def with_header(codec: Codec, body: bytes) -> bytes:
    """``body`` behind a header this codec accepts: its version, a matching check byte.

    For a variable-rate codec the body's first byte is read as the quality byte.
    """
    return seal(codec.coder.version, codec.model_id, body)


def _mutate(rng: np.random.Generator, data: bytes, edits: int) -> bytes:
    out = bytearray(data)
    for _ in range(edits):
        out[int(rng.integers(len(out)))] = int(rng.integers(256))
    return bytes(out)


def make_strategies(codec: Codec, seeds: list[bytes]
                    ) -> dict[str, Callable[[np.random.Generator], bytes]]:
    """Case generators by name; each takes a random generator and returns one payload."""
    def pick(rng: np.random.Generator) -> bytes:
        return seeds[int(rng.integers(len(seeds)))]

    def bitflip(rng: np.random.Generator) -> bytes:
        out = bytearray(pick(rng))
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(len(out) * 8))
            out[i // 8] ^= 1 << (i % 8)
        return bytes(out)

    def mutated_body(rng: np.random.Generator) -> bytes:
        seed = pick(rng)
        body = seed[header_bytes(seed[0]):]
        body = _mutate(rng, body, int(rng.integers(1, 9)))[:int(rng.integers(len(body) + 1))]
        return with_header(codec, body)

    return {
        "random": lambda rng: rng.bytes(int(rng.integers(0, 600))),
        "truncate": lambda rng: (lambda p: p[:int(rng.integers(len(p)))])(pick(rng)),
        "bitflip": bitflip,
        "bytes": lambda rng: _mutate(rng, pick(rng), int(rng.integers(1, 9))),
        "splice": lambda rng: pick(rng)[:int(rng.integers(1, 200))] + pick(rng)[
            int(rng.integers(0, 200)):],
        "extend": lambda rng: pick(rng) + rng.bytes(int(rng.integers(1, 300))),
        "oversize": lambda rng: pick(rng) + bytes(MAX_PAYLOAD_BYTES),
        "valid_header_random_body": lambda rng: with_header(
            codec, rng.bytes(int(rng.integers(0, 600)))),
        "valid_header_mutated_body": mutated_body,
    }


def run_case(codec: Codec, payload: bytes) -> str:
    """``decoded``, ``rejected: <reason>`` or ``broken: <what>`` for one payload."""
    try:
        image = codec.decode([payload])
    except BitstreamError as exc:
        return "rejected: " + _reason(str(exc))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: B036 - the contract allows only BitstreamError;
        # a Rust panic in the range coder would arrive as a BaseException
        return f"broken: {type(exc).__name__}: {exc}"[:200]
    if image.shape != (1, 64, 64, 3) or image.dtype != np.uint8:
        return f"broken: output {image.shape} {image.dtype}"
    return "decoded"


def _reason(message: str) -> str:
    """A short class for a BitstreamError message, for the report's columns."""
    # "check byte" first: that message also says "corrupt or truncated payload"
    message = message.replace("from a model whose id", "from model whose id")  # one column
    for key in ("check byte", "truncated payload", "format version", "from model",
                "does not decode", "limit"):
        if key in message:
            return key
    return message[:60]


def fuzz(codec: Codec, seeds: list[bytes], cases: int, seed: int,
         progress: bool = True) -> dict:
    """Run ``cases`` random cases; counts per strategy and outcome, and failing inputs."""
    rng = np.random.default_rng(seed)
    strategies = make_strategies(codec, seeds)
    names = list(WEIGHTS)
    probs = np.array([WEIGHTS[n] for n in names]) / sum(WEIGHTS.values())
    counts: dict[str, Counter[str]] = {n: Counter() for n in names}
    failures: list[dict] = []
    start = time.perf_counter()
    draws = rng.choice(len(names), size=cases, p=probs)
    for k in tqdm(draws, desc="fuzz", unit="case", disable=not progress, mininterval=1.0):
        name = names[k]
        payload = strategies[name](rng)
        outcome = run_case(codec, payload)
        counts[name][outcome.split(":")[0] if outcome.startswith("broken") else outcome] += 1
        if outcome.startswith("broken") and len(failures) < 20:
            failures.append({"strategy": name, "outcome": outcome, "hex": payload[:256].hex()})
    return {"engine": "random", "cases": cases, "seed": seed, "model_id": codec.model_id,
            "seconds": time.perf_counter() - start,
            "counts": {n: dict(c) for n, c in counts.items()}, "failures": failures}


def report_markdown(result: dict, command: str) -> str:
    """The report as markdown: what ran, outcome counts per strategy, failures."""
    counts = result["counts"]
    outcomes = sorted({o for c in counts.values() for o in c})
    broken = sum(c.get("broken", 0) for c in counts.values())
    lines = [f"`{command}`", "",
             f"{result['cases']:,} cases ({result['engine']}, seed {result['seed']}) against "
             f"weights {result['model_id']} in {result['seconds']:.0f} s on {machine_line()}. "
             f"**{broken} broke the contract** (an exception other than BitstreamError, or a "
             "wrong output).", "",
             "| strategy | cases | " + " | ".join(outcomes) + " |",
             "| --- | ---: | " + " | ".join("---:" for _ in outcomes) + " |"]
    for name, c in counts.items():
        lines.append(f"| {name} | {sum(c.values()):,} | "
                     + " | ".join(f"{c.get(o, 0):,}" for o in outcomes) + " |")
    for f in result["failures"]:
        lines.append(f"\n- {f['strategy']}: {f['outcome']} (input, hex: `{f['hex'][:120]}`)")
    return "\n".join(lines) + "\n"


def seed_payloads(codec: Codec, data: list[str]) -> list[bytes]:
    """Valid payloads of the frames in ``data`` (the bundled clip by default)."""
    frames = eval_frames(data)
    if len(frames) == 0:
        raise SystemExit(f"gan-compress-fuzz: no frames in {data}")
    return codec.encode(frames)


def run_atheris(weights: str, cases: int, seed: int, data: list[str]) -> dict:
    """Run the atheris target (``fuzz_atheris``) in a child process; its result."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "gan_compress_ros.tools.fuzz_atheris", "--weights",
               weights, "--cases", str(cases), "--seed", str(seed), "--json", str(out),
               "--workdir", tmp, "--data", *data]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if not out.exists():
            raise SystemExit(f"gan-compress-fuzz: atheris run failed (exit {proc.returncode}):"
                             f"\n{proc.stderr[-3000:]}")
        result = json.loads(out.read_text())
        if proc.returncode != 0:  # libFuzzer stopped on an input that broke the contract
            crash = sorted(Path(tmp).glob("crash-*"))
            result["counts"].setdefault("atheris", {})["broken"] = 1
            result["failures"].append({"strategy": "atheris", "outcome": proc.stderr[-300:],
                                       "hex": crash[0].read_bytes()[:256].hex() if crash
                                       else ""})
        return result


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(prog="gan-compress-fuzz", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default="", help="weights file or bundled name")
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", nargs="*", default=[str(SAMPLE_CLIP)],
                   help="frames for seed payloads")
    p.add_argument("--engine", choices=["random", "atheris"], default="random")
    p.add_argument("--out", help="markdown file whose 'gan-compress-fuzz' section is "
                   "rewritten with the report (e.g. docs/benchmarks.md)")
    p.add_argument("--json", help="also write the raw result here")
    args = p.parse_args(argv)
    codec = Codec.load(args.weights or None)
    if args.engine == "atheris":
        result = run_atheris(args.weights, args.cases, args.seed, args.data)
    else:
        result = fuzz(codec, seed_payloads(codec, args.data), args.cases, args.seed)
    command = recorded("gan-compress-fuzz", sys.argv[1:] if argv is None else argv)
    text = report_markdown(result, command.strip())
    print(text)
    if args.out:
        update_section(args.out, SECTION + ("-atheris" if args.engine == "atheris" else ""),
                       "### Decoder fuzzing" + (" (atheris)" if args.engine == "atheris"
                                                else "") + "\n\n" + text)
    if args.json:
        write_json(args.json, result)
    return 1 if any(c.get("broken") for c in result["counts"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
