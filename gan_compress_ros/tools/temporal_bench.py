"""``gan-compress-bench temporal``: bytes and PSNR per clip, intra against temporal mode.

For each clip (frames in order, 64x64 centre crops): the intra codec and temporal mode
(``key_interval`` 30) over a sweep of qualities, HEVC low delay (x265 via PyAV, an IDR frame
every 30, P frames between, raw packets) over a sweep of CRF values, and temporal mode with
10% of its messages lost at random. Reported: each at the default quality, and the bytes
each needs for the PSNR of intra frames at the default quality (read off its curve).
"""

from __future__ import annotations

import argparse
from itertools import islice
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..codec import Codec
from ..codec.bitstream import kind_of
from ..image import fit
from ..training import classic_video
from ..training.metrics import psnr
from .common import SAMPLE_CLIP

KEY_INTERVAL = 30
QUALITIES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
HEVC_CRF = (45, 42, 39, 36, 33, 30, 27)
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def _video(path: Path, start: int = 0, count: int = 100_000) -> np.ndarray:
    from ..training.sources import iter_frames

    return np.stack([fit(rgb) for _, rgb in islice(iter_frames(path), start, start + count)])


def pan(photo: np.ndarray, frames: int = 120, speed: float = 1.5) -> np.ndarray:
    """A camera panning and slowly zooming across ``photo``: a moving camera, synthetic."""
    import cv2

    h, w = photo.shape[:2]
    side = min(h, w) * 0.5
    out = []
    for t in range(frames):
        s = side * (1.0 - 0.002 * t)
        x = (w - s) * (0.5 + 0.45 * np.sin(2 * np.pi * t * speed / frames / 2))
        y = (h - s) * 0.5
        crop = photo[int(y):int(y + s), int(x):int(x + s)]
        out.append(cv2.resize(crop, (64, 64), interpolation=cv2.INTER_AREA))
    return np.stack(out)


def clips(shared: Path = SHARED) -> dict[str, tuple[np.ndarray, str]]:
    """The clips: the bundled one always, the shared data sets' where present."""
    from ..image import read_rgb
    from ..training.data import find_images

    out = {"sample clip": (np.stack([fit(read_rgb(p)) for p in find_images([SAMPLE_CLIP])]),
                           "bundled, fixed camera (vtest.avi 300-394, every 2nd frame)")}
    vtest = shared / "video" / "train" / "vtest.avi"
    if vtest.is_file():
        out["surveillance"] = (_video(vtest, 400, 300), "vtest.avi frames 400-699, fixed "
                               "camera, 10 fps (the tables were fitted on frames 0-399)")
    tree = shared / "video" / "val" / "tree.avi"
    if tree.is_file():
        out["tree"] = (_video(tree), "tree.avi (validation), foliage moving in the wind")
    photos = sorted((shared / "photos" / "val").glob("*")) if shared.is_dir() else []
    if photos:
        photo = read_rgb(max(photos, key=lambda p: p.stat().st_size))
        out["pan"] = (pan(photo), "synthetic moving camera: a pan and zoom across the "
                      "largest validation photo")
    return out


def _temporal(codec: Codec, frames: np.ndarray, quality: float | None) -> dict:
    enc, dec = codec.stream_encoder(KEY_INTERVAL), codec.stream_decoder()
    payloads = [enc.encode(f, quality=quality) for f in frames]
    decoded = [dec.decode(p) for p in payloads]
    assert all(d is not None for d in decoded)  # nothing lost: every frame decodes
    out = np.stack(decoded)  # type: ignore[arg-type]
    inter = [len(p) for p in payloads if kind_of(p) == "inter"]
    return {"bytes": float(np.mean([len(p) for p in payloads])), "psnr": psnr(out, frames),
            "keys": enc.keys, "inter_bytes": float(np.mean(inter)) if inter else 0.0,
            "payloads": payloads, "decoded": out}


def _at(curve: list[tuple[float, float]], target: float) -> float | None:
    """Bytes a curve of (bytes, PSNR) needs for PSNR ``target`` (None outside its range)."""
    pts = sorted(curve, key=lambda p: p[1])
    ps = [p for _, p in pts]
    if not pts or target < ps[0] or target > ps[-1]:
        return None
    return float(np.interp(target, ps, [b for b, _ in pts]))


def lossy(codec: Codec, payloads: list[bytes], decoded: np.ndarray, frames: np.ndarray,
          loss: float = 0.1, seed: int = 0) -> dict:
    """Temporal mode with ``loss`` of its messages dropped.

    What is shown, and whether it is exactly what should be (every key frame that came,
    every inter frame whose key came) and as the lossless decoder showed it.
    """
    rng = np.random.default_rng(seed)
    dec = codec.stream_decoder()
    shown, received, exact, rule = [], 0, True, True
    key_arrived = False  # whether the key frame the next inter frame needs came
    for i, p in enumerate(payloads):
        is_key = kind_of(p) != "inter"
        if rng.random() < loss:
            key_arrived = key_arrived and not is_key
            continue
        received += 1
        key_arrived = key_arrived or is_key
        frame = dec.decode(p)
        rule &= (frame is not None) == (is_key or key_arrived)
        if frame is not None:
            shown.append(i)
            exact &= bool(np.array_equal(frame, decoded[i]))
    return {"received": received, "shown": len(shown), "waiting": dec.waiting,
            "exact": exact and rule,
            "psnr": psnr(decoded[shown], frames[shown]) if shown else 0.0}


def run_clip(codec: Codec, frames: np.ndarray) -> dict:
    """All figures for one clip."""
    default_payloads = codec.encode(frames)
    intra_default = {"bytes": float(np.mean([len(p) for p in default_payloads])),
                     "psnr": psnr(codec.decode(default_payloads), frames)}
    intra = [(float(np.mean([len(p) for p in codec.encode(frames, quality=q)])),
              psnr(codec.decode(codec.encode(frames, quality=q)), frames)) for q in QUALITIES]
    full = _temporal(codec, frames, None)
    temporal = [(r["bytes"], r["psnr"]) for r in
                (_temporal(codec, frames, q) for q in QUALITIES)]
    hevc = []
    if classic_video.available():
        for crf in HEVC_CRF:
            b, recon = classic_video.hevc_low_delay(frames, crf, KEY_INTERVAL)
            hevc.append((float(np.mean(b)), psnr(recon, frames)))
    target = intra_default["psnr"]
    return {"frames": len(frames), "intra": intra_default, "intra_curve": intra,
            "temporal": {k: v for k, v in full.items() if k not in ("payloads", "decoded")},
            "temporal_curve": temporal, "hevc_curve": hevc,
            "at_intra_psnr": {"psnr": target, "intra": intra_default["bytes"],
                              "temporal": _at(temporal, target), "hevc": _at(hevc, target)},
            "loss_10": lossy(codec, full["payloads"], full["decoded"], frames)}


def markdown(results: dict[str, dict], notes: dict[str, str], command: str,
             machine: str) -> str:
    """The docs section: one row per clip."""
    lines = [f"Measured {machine} by `{command}` (bundled model, key_interval "
             f"{KEY_INTERVAL}, default quality unless stated).", "",
             "| clip | frames | intra B/frame, dB | temporal B/frame, dB (keys) | at intra's "
             "PSNR: temporal B | fewer than intra | HEVC low delay B | temporal / HEVC | "
             "10% lost: shown, waiting, exact |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in results.items():
        at = r["at_intra_psnr"]
        t, h = at["temporal"], at["hevc"]
        saving = f"{100 * (1 - t / at['intra']):.0f}%" if t else "n/a"
        ratio = f"{t / h:.2f}x" if t and h else "n/a"
        loss = r["loss_10"]
        lines.append(
            f"| {name} | {r['frames']} | {r['intra']['bytes']:.1f}, {r['intra']['psnr']:.2f} | "
            f"{r['temporal']['bytes']:.1f}, {r['temporal']['psnr']:.2f} "
            f"({r['temporal']['keys']}) | {f'{t:.1f}' if t else 'out of range'} | {saving} | "
            f"{f'{h:.1f}' if h else 'n/a'} | {ratio} | {loss['shown']}, {loss['waiting']}, "
            f"{'yes' if loss['exact'] else 'NO'} |")
    lines += ["", "Clips: " + "; ".join(f"{k}: {v}" for k, v in notes.items()) + "."]
    return "\n".join(lines)


def plot(results: dict[str, dict], path: str) -> None:
    """Rate-distortion curves per clip: intra, temporal, HEVC low delay."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.6),
                             squeeze=False)
    for ax, (name, r) in zip(axes[0], results.items(), strict=True):
        for key, label in (("intra_curve", "intra"), ("temporal_curve", "temporal (key 30)"),
                           ("hevc_curve", "HEVC low delay (GOP 30)")):
            if r[key]:
                b, p = zip(*r[key], strict=True)
                ax.plot(b, p, marker="o", ms=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("bytes per frame")
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("PSNR (dB)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-compress-bench temporal``."""
    p.add_argument("--out", help="markdown file whose 'temporal' section is rewritten")
    p.add_argument("--json", help="write every figure here")
    p.add_argument("--plot", help="write the rate-distortion curves here (PNG)")
    p.add_argument("--shared", type=Path, default=SHARED,
                   help="the shared data sets (clips from there where present)")


def run(args: argparse.Namespace) -> int:
    """``gan-compress-bench temporal [--out FILE] [--json FILE] [--plot FILE]``."""
    from .report import machine_line, update_section, write_json

    codec = Codec.load()
    found = clips(args.shared)
    results = {name: run_clip(codec, frames) for name, (frames, _) in
               tqdm(found.items(), desc="clips", unit="clip")}
    text = markdown(results, {k: v for k, (_, v) in found.items()}, args.command_line,
                    machine_line())
    print(text)
    if args.out:
        update_section(args.out, "temporal", text)
    if args.json:
        write_json(args.json, results)
    if args.plot:
        plot(results, args.plot)
    return 0
