"""Rate-distortion of codec weights against classic codecs on the same 64x64 frames.

Classic codecs are swept over many quality settings: JPEG and WebP through OpenCV, AVIF
through Pillow, WebP without its 20-byte RIFF container (what a link carrying WebP must
carry), AV1 intra as raw OBUs through libaom's all-intra mode (the system ffmpeg,
``aom_intra``), and AV1 (SVT-AV1) and HEVC intra as raw packets through PyAV
(``classic_video``). A fixed-rate weights file is one point; a variable-rate one is swept
over its quality. BD-rate (Bjontegaard) compares two curves: the mean difference of
log-rate over the quality range both cover, with log-rate linearly interpolated in quality
(no curve fitting, so three points suffice), as a percentage.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from ..codec.api import Codec
from ..codec.presets import PIXELS
from ..extras import need, pyplot
from . import aom_intra, classic_video
from .metrics import msssim_per_frame, psnr_per_frame

#: The RIFF header (12 bytes) and the "VP8 " chunk header (8 bytes) of a simple WebP file.
WEBP_CONTAINER_BYTES = 20
WEBP_RAW = "WebP (no container)"
AV1_RAW = "AV1 intra (SVT-AV1, raw)"
AOM_RAW = "AV1 intra (libaom, raw)"
HEVC_RAW = "HEVC intra (raw)"
QUALITIES = {
    "JPEG": [1, 2, 3, 5, 8, 10, 15, 20, 30, 40, 50, 60, 75, 90],
    "WebP": [1, 2, 3, 5, 8, 10, 15, 20, 30, 40, 50, 60, 75, 90],
    "AVIF": [0, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90],
    WEBP_RAW: [1, 2, 3, 5, 8, 10, 15, 20, 30, 40, 50, 60, 75, 90],
    AOM_RAW: aom_intra.AOM_CRF,
    AV1_RAW: classic_video.AV1_CRF,
    HEVC_RAW: classic_video.HEVC_CRF,
}
#: Codecs that need PyAV (the ``eval`` extra); skipped with a note where it is missing.
PYAV_CODECS = (AV1_RAW, HEVC_RAW)
#: What gan-compress-eval runs by default: one AV1 row, libaom's where ffmpeg has it
#: (``aom_intra.missing``), SVT-AV1's otherwise.
DEFAULT_CODECS = ["JPEG", "WebP", "AVIF", WEBP_RAW, AOM_RAW, HEVC_RAW]
#: Qualities a variable-rate model is swept over.
MODEL_QUALITIES = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


@dataclass
class RDPoint:
    """One codec setting measured on a frame set."""

    codec: str
    setting: str
    bytes_per_frame: float
    bpp: float
    psnr: float
    ms_ssim: float
    frames: int


def _cv2_roundtrip(ext: str, flag: int) -> Callable[[np.ndarray, int], tuple[int, np.ndarray]]:
    def run(frame: np.ndarray, quality: int) -> tuple[int, np.ndarray]:
        ok, buf = cv2.imencode(ext, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [flag, quality])
        if not ok:
            raise RuntimeError(f"OpenCV could not encode {ext}")
        back = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        if back is None:
            raise RuntimeError(f"OpenCV could not decode its own {ext}")
        return len(buf), cv2.cvtColor(back, cv2.COLOR_BGR2RGB)
    return run


def _avif_roundtrip(frame: np.ndarray, quality: int) -> tuple[int, np.ndarray]:
    Image = need("PIL.Image")  # noqa: N806 - the module, as Pillow names it
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, "AVIF", quality=quality)
    data = buf.getvalue()
    return len(data), np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _webp_raw(frame: np.ndarray, quality: int) -> tuple[int, np.ndarray]:
    size, back = ROUNDTRIPS["WebP"](frame, quality)
    return size - WEBP_CONTAINER_BYTES, back


ROUNDTRIPS: dict[str, Callable[[np.ndarray, int], tuple[int, np.ndarray]]] = {
    "JPEG": _cv2_roundtrip(".jpg", cv2.IMWRITE_JPEG_QUALITY),
    "WebP": _cv2_roundtrip(".webp", cv2.IMWRITE_WEBP_QUALITY),
    "AVIF": _avif_roundtrip,
    WEBP_RAW: _webp_raw,
}
#: Codecs that code a whole frame set at once: per-frame bytes and reconstructions.
BATCH_ROUNDTRIPS: dict[str, Callable[[np.ndarray, int], tuple[list[float], np.ndarray]]] = {
    AOM_RAW: aom_intra.aom_intra,
    AV1_RAW: classic_video.av1_intra,
    HEVC_RAW: classic_video.hevc_intra,
}


def measured_point(codec: str, setting: str, frames: np.ndarray, sizes: list[int],
                   recon: np.ndarray) -> RDPoint:
    """One rate-distortion point: mean payload bytes and the decoded frames' quality."""
    mean_bytes = float(np.mean(sizes))
    return RDPoint(codec, setting, mean_bytes, mean_bytes * 8 / PIXELS,
                   float(np.mean(psnr_per_frame(frames, recon))),
                   float(np.mean(msssim_per_frame(frames, recon))), len(frames))


def classic_curve(name: str, frames: np.ndarray,
                  qualities: list[int] | None = None) -> list[RDPoint]:
    """``name`` (a key of ``QUALITIES``) at each quality setting on ``frames``."""
    points = []
    for q in qualities or QUALITIES[name]:
        if name in BATCH_ROUNDTRIPS:
            sizes, recon = BATCH_ROUNDTRIPS[name](frames, q)
            points.append(measured_point(name, f"crf{q}", frames, sizes, recon))  # type: ignore[arg-type]
            continue
        results = [ROUNDTRIPS[name](f, q) for f in frames]
        recon = np.stack([r[1] for r in results])
        points.append(measured_point(name, f"q{q}", frames, [r[0] for r in results], recon))
    return points


def weights_curve(weights: str | Path, frames: np.ndarray, label: str = "",
                  qualities: list[float] | None = None
                  ) -> list[tuple[RDPoint, np.ndarray]]:
    """A weights file on ``frames``: one point, or a quality sweep if it is variable-rate."""
    codec = Codec.load(weights)
    if not codec.variable_rate:
        return [weights_point(weights, frames, label, codec)]
    name = label or f"gan_compress:{_file_label(weights)}"
    out = []
    for q in qualities or MODEL_QUALITIES:
        payloads = codec.encode(frames, quality=q)
        recon = codec.decode(payloads)
        out.append((measured_point(name, f"q{q:.2f}", frames, [len(p) for p in payloads], recon),
                    recon))
    return out


def weights_point(weights: str | Path, frames: np.ndarray, label: str = "",
                  codec: Codec | None = None) -> tuple[RDPoint, np.ndarray]:
    """One weights file on ``frames``: real payload bytes, decoded quality, reconstructions."""
    codec = codec or Codec.load(weights)
    payloads = codec.encode(frames)
    recon = codec.decode(payloads)
    name = label or f"gan_compress:{codec.metadata.get('preset', '?')}"
    setting = _file_label(weights)
    return measured_point(name, setting, frames, [len(p) for p in payloads], recon), recon


def _file_label(weights: str | Path) -> str:
    """A short name for a weights file: its stem, or its run folder's name."""
    setting = Path(str(weights)).stem
    if setting == "weights":  # a run folder's weights.safetensors: name it by its folder
        setting = Path(str(weights)).parent.name
    return setting


def classic_decoded(name: str, frames: np.ndarray, quality: int) -> tuple[float, np.ndarray]:
    """Mean bytes and reconstructions of ``frames`` through a classic codec."""
    results = [ROUNDTRIPS[name](f, quality) for f in frames]
    return float(np.mean([r[0] for r in results])), np.stack([r[1] for r in results])


def bd_rate(test: list[RDPoint], anchor: list[RDPoint], metric: str = "psnr") -> float:
    """Average bitrate change (%) of ``test`` against ``anchor`` at equal ``metric``.

    Negative means ``test`` needs fewer bytes. NaN when the curves share no quality range or
    a curve has fewer than two points.
    """
    def curve(points: list[RDPoint]) -> tuple[np.ndarray, np.ndarray]:
        pts = sorted(points, key=lambda p: getattr(p, metric))
        q = np.array([getattr(p, metric) for p in pts])
        r = np.log(np.array([p.bytes_per_frame for p in pts]))
        # keep quality strictly increasing for interpolation
        keep = np.concatenate([[True], np.diff(q) > 0])
        return q[keep], r[keep]

    qt, rt = curve(test)
    qa, ra = curve(anchor)
    if len(qt) < 2 or len(qa) < 2:
        return float("nan")
    lo, hi = max(qt[0], qa[0]), min(qt[-1], qa[-1])
    if hi <= lo:
        return float("nan")
    grid = np.linspace(lo, hi, 512)
    diff = np.interp(grid, qt, rt) - np.interp(grid, qa, ra)
    return float((np.exp(np.mean(diff)) - 1.0) * 100.0)


def bytes_at_quality(points: list[RDPoint], target: float, metric: str = "psnr") -> float:
    """Bytes per frame a curve needs for ``target`` quality (log-linear interpolation)."""
    pts = sorted(points, key=lambda p: getattr(p, metric))
    q = np.array([getattr(p, metric) for p in pts])
    if len(q) == 0 or target < q[0] or target > q[-1]:
        return float("nan")
    r = np.log(np.array([p.bytes_per_frame for p in pts]))
    return float(np.exp(np.interp(target, q, r)))


def read_csv(path: str | Path) -> dict[str, list[RDPoint]]:
    """The curves of a ``write_csv`` file (``gan-compress-eval``'s rd.csv), by codec name."""
    import csv

    curves: dict[str, list[RDPoint]] = {}
    with Path(path).open(newline="") as f:
        for row in csv.DictReader(f):
            curves.setdefault(row["codec"], []).append(RDPoint(
                row["codec"], row["setting"], float(row["bytes_per_frame"]), float(row["bpp"]),
                float(row["psnr"]), float(row["ms_ssim"]), int(row["frames"])))
    return curves


#: The prefix of the neural codec's curve names in an rd.csv (``gan_compress:<label>``).
NEURAL = "gan_compress"


def neural_curve(curves: dict[str, list[RDPoint]], path: str) -> tuple[str, list[RDPoint]]:
    """The one gan_compress curve of an rd.csv (``ValueError`` naming the file otherwise)."""
    found = [(name, pts) for name, pts in curves.items() if name.startswith(NEURAL)]
    if len(found) != 1:
        raise ValueError(f"{path}: expected one {NEURAL} curve, found {len(found)}")
    return found[0]


def write_csv(points: list[RDPoint], path: Path) -> None:
    """All points as CSV."""
    import csv

    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(asdict(points[0])))
        writer.writeheader()
        for p in points:
            writer.writerow(asdict(p))


def plot_rd(curves: dict[str, list[RDPoint]], path: Path, title: str = "") -> None:
    """PSNR and MS-SSIM against bytes per frame, one line per codec."""
    plt = pyplot()

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, points in curves.items():
        pts = sorted(points, key=lambda p: p.bytes_per_frame)
        x = [p.bytes_per_frame for p in pts]
        style = "o-" if name.startswith(NEURAL) else ".--"
        axes[0].plot(x, [p.psnr for p in pts], style, label=name)
        axes[1].plot(x, [p.ms_ssim for p in pts], style, label=name)
    for ax, label in zip(axes, ("PSNR (dB)", "MS-SSIM"), strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("bytes per 64x64 frame (log)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
