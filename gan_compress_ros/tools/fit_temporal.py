"""gan-compress-fit-temporal: fit the inter path's tables of a codec on ordered frames.

Temporal mode (``codec/temporal.py``) codes the change of the latent since the key frame
with integer tables, one per scale bin of the key's context model. They are counted, not
trained: every clip (a video, a bag's image topic, a folder of frames) is cut into groups of
``--key-interval`` frames, each group at a random quality, and the changes the encoder
would send are counted. Needs no torch where onnxruntime runs the codec.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..codec import Codec
from ..codec.bundled import BUNDLED_DIR, MODEL, ONNX_DIR
from ..codec.inter import Key
from ..codec.intra import ContextIntraCoder
from ..codec.temporal import (
    DEFAULT_DEADZONE,
    DEFAULT_KEY_BOOST,
    DEFAULT_RD_LAMBDA,
    DEFAULT_SKIP_SUM,
    DEFAULT_STEP,
    EXPORT_TABLES,
    RESIDUAL_RANGE,
    SCALE_BINS,
    TABLES_SUFFIX,
    Settings,
    TemporalTables,
    residual,
    tables_from_counts,
)
from ..image import IMAGE_SUFFIXES, fit
from .command import recorded


def clips(paths: list[str | Path], stride: int, limit: int) -> Iterator[tuple[str, np.ndarray]]:
    """``(name, frames (N, 64, 64, 3))`` per video, bag topic or folder of images, in order."""
    from ..training.sources import find_sources, iter_frames

    folders: dict[Path, list[np.ndarray]] = {}
    for source in find_sources(paths):
        if source.is_file() and source.suffix.lower() in IMAGE_SUFFIXES:
            folders.setdefault(source.parent, []).extend(
                fit(rgb) for _, rgb in iter_frames(source))
            continue
        by_topic: dict[str, list[np.ndarray]] = {}
        for key, rgb in iter_frames(source, stride):
            topic = key.rsplit("#", 1)[0]
            if len(by_topic.setdefault(topic, [])) < limit:
                by_topic[topic].append(fit(rgb))
        for topic, frames in by_topic.items():
            yield topic, np.stack(frames)
    for folder, frames in folders.items():
        yield str(folder), np.stack(frames[::stride][:limit])


def count(codec: Codec, frames: np.ndarray, key_interval: int, settings: Settings,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Counts of position flags (2,) and of changes per scale bin (BINS, 2R+1) in one clip."""
    coder = codec.coder
    if not isinstance(coder, ContextIntraCoder):
        raise ValueError("temporal mode needs a variable-rate model (preset compact2)")
    c, h, w = codec.latent_shape
    flags = np.zeros(2, dtype=np.int64)
    res = np.zeros((SCALE_BINS, 2 * RESIDUAL_RANGE + 1), dtype=np.int64)
    for start in range(0, len(frames) - 1, key_interval):
        group = frames[start:start + key_interval]
        if len(group) < 2:
            break
        qbyte = int(rng.integers(0, 256))
        y = codec.analyse(group)
        key = Key.of(codec.code_analysis(y[:1], qbyte)[0])  # the key as the decoder holds it
        bins = key.bins
        for u in coder.gained(y[1:], np.full(len(y) - 1, qbyte)):
            d = residual(u, key.latent, codec.latent_shape, settings)
            if np.abs(d).max(initial=0) > RESIDUAL_RANGE:
                continue  # the encoder sends a key frame for this one
            active = np.any(d.reshape(c, h * w) != 0, axis=0)
            flags += np.bincount(active.astype(np.int64), minlength=2)
            mask = np.repeat(active[None, :], c, axis=0).reshape(-1)
            np.add.at(res, (bins[mask] - 1, d[mask] + RESIDUAL_RANGE), 1)
    return flags, res


def fit_tables(codec: Codec, paths: list[str | Path], key_interval: int = 30,
               settings: Settings | None = None, stride: int = 1, limit: int = 100_000,
               seed: int = 0, command: str = "") -> TemporalTables:
    """Count every clip under ``paths`` and make the tables (see the module docstring)."""
    from tqdm import tqdm

    settings = settings or Settings()
    rng = np.random.default_rng(seed)
    flags = np.zeros(2, dtype=np.int64)
    res = np.zeros((SCALE_BINS, 2 * RESIDUAL_RANGE + 1), dtype=np.int64)
    used, frames_seen = [], 0
    start = time.perf_counter()
    for name, frames in tqdm(list(clips(paths, stride, limit)), desc="clips", unit="clip"):
        f, r = count(codec, frames, key_interval, settings, rng)
        flags += f
        res += r
        used.append(f"{name} ({len(frames)} frames)")
        frames_seen += len(frames)
    if not flags.sum():
        raise ValueError(f"no clip of two or more frames under {', '.join(map(str, paths))}")
    meta = {"data": used, "frames": frames_seen, "key_interval": key_interval,
            "stride": stride, "seed": seed, "command": command,
            "wall_s": round(time.perf_counter() - start, 1),
            "changed_positions": round(float(flags[1] / flags.sum()), 4)}
    return tables_from_counts(codec.model_id, flags, res, settings, meta)


def default_out(weights: Path) -> Path:
    """Where ``find_tables`` looks first for these weights.

    Beside the weights file (a bundled model's too); the bundled export reads the bundled file.
    """
    if ONNX_DIR in weights.resolve().parents:
        return BUNDLED_DIR / (MODEL + TABLES_SUFFIX)
    if weights.is_dir():
        return weights / EXPORT_TABLES
    return weights.with_name(weights.name.split(".")[0] + TABLES_SUFFIX)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="", help="weights file, export dir or bundled "
                        "name (default: the bundled model)")
    parser.add_argument("--data", nargs="+", required=True,
                        help="videos, bags (ROS 1 or 2) or folders of ordered frames")
    parser.add_argument("--out", default="", help=f"tables file (default: beside the weights, "
                        f"NAME{TABLES_SUFFIX})")
    parser.add_argument("--key-interval", type=int, default=30)
    parser.add_argument("--step", type=int, default=DEFAULT_STEP,
                        help="inter frames carry changes in units of this many latent steps")
    parser.add_argument("--deadzone", type=float, default=DEFAULT_DEADZONE,
                        help="changes below 0.5 + this many steps are not sent")
    parser.add_argument("--skip-sum", type=int, default=DEFAULT_SKIP_SUM,
                        help="positions whose changes sum to at most this are not sent")
    parser.add_argument("--key-boost", type=float, default=DEFAULT_KEY_BOOST,
                        help="key frames are coded this much above the requested quality")
    parser.add_argument("--rd-lambda", type=float, default=DEFAULT_RD_LAMBDA,
                        help="bytes an inter frame must save per squared latent error it adds")
    parser.add_argument("--stride", type=int, default=1, help="every Nth frame of a clip")
    parser.add_argument("--max-frames", type=int, default=100_000, help="per clip")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.key_interval < 2:
        parser.error("--key-interval must be at least 2 (a key frame and an inter frame)")
    codec = Codec.load(args.weights or None)
    if not codec.variable_rate:
        parser.error("temporal mode needs a variable-rate model (preset compact2)")
    if args.out:
        out = Path(args.out)
    elif codec.path is not None:
        out = default_out(Path(codec.path))
    else:
        parser.error("--out is needed for a codec without a weights file")
    command = recorded("gan-compress-fit-temporal", sys.argv[1:] if argv is None else argv)
    try:
        settings = Settings(args.step, args.deadzone, args.skip_sum, args.key_boost,
                            args.rd_lambda)
        tables = fit_tables(codec, args.data, args.key_interval, settings, args.stride,
                            args.max_frames, args.seed, command)
    except (ValueError, FileNotFoundError) as exc:
        sys.exit(f"gan-compress-fit-temporal: {exc}")
    tables.save(out)
    meta = tables.metadata
    print(f"wrote {out}: model {tables.model_id}, {meta['frames']} frames from "
          f"{len(meta['data'])} clips, {100 * meta['changed_positions']:.1f}% of positions "
          f"changed, {meta['wall_s']} s")


if __name__ == "__main__":
    main()
