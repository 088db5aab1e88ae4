"""Build gan_compress_ros/data/general/: the small general-photo sample fine-tuning mixes in.

Fine-tuning to one camera forgets other scenes unless general photos share every batch
(docs/finetune.md). A user has no copy of this project's training photos, so the package
ships a few hundred kB of them: 96x96 JPEG tiles cut at several scales from the training
photos whose licences allow redistribution without share-alike or attribution terms
(OpenCV's sample photos, Apache-2.0 / BSD-3-Clause; the CC0 wallpapers). The fine-tuner's
crop sampler takes 64..96-pixel squares of them, so no sample is upscaled.

    python dev/make_general_sample.py        # needs ../shared/datasets (dev only)
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "datasets"
OUT = ROOT / "gan_compress_ros" / "data" / "general"
TILE = 96
QUALITY = 85
#: Tiles per source image: the whole short side, then 1/2 and 1/4 of it (random places).
SCALES = (1.0, 0.5, 0.25)
SEED = 0


def sources() -> list[tuple[Path, str]]:
    """(image, licence) of every training photo that may be redistributed as is."""
    out = [(p, "Apache-2.0 / BSD-3-Clause (OpenCV sample data)")
           for p in sorted((SHARED / "photos" / "train").glob("opencv_*"))]
    with open(SHARED / "wallpapers" / "MANIFEST.tsv", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["file"].startswith("wallpapers/train/") and row["licence"].startswith("CC0"):
                out.append((SHARED / row["file"], row["licence"]))
    return out


def tiles(image: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """One TILE x TILE square per scale of the short side, at random places."""
    h, w = image.shape[:2]
    out = []
    for scale in SCALES:
        side = max(TILE, int(min(h, w) * scale))
        if side > min(h, w):
            continue
        y, x = rng.integers(h - side + 1), rng.integers(w - side + 1)
        out.append(cv2.resize(image[y:y + side, x:x + side], (TILE, TILE),
                              interpolation=cv2.INTER_AREA))
    return out


def main() -> None:
    """Write the tiles and their licence list."""
    if not (SHARED / "wallpapers" / "MANIFEST.tsv").is_file():
        raise SystemExit(f"{SHARED} (the project's shared data sets) is not here; this dev tool "
                         "rebuilds the shipped sample from them and has nothing to do without")
    rng = np.random.default_rng(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.jpg"):
        old.unlink()
    lines = []
    for path, licence in sources():
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"cannot read {path}")
        for i, tile in enumerate(tiles(image, rng)):
            name = f"{path.stem}_{i}.jpg"
            cv2.imwrite(str(OUT / name), tile, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
        lines.append(f"| {path.name} | {licence} |")
    (OUT / "SOURCES.md").write_text(
        "# Sources of the general-photo sample\n\n"
        f"Made by `python dev/make_general_sample.py`: {TILE}x{TILE} JPEG (quality {QUALITY}) "
        f"squares of {', '.join(f'{s:g}' for s in SCALES)} of each photo's short side.\n\n"
        "| photo | licence |\n| --- | --- |\n" + "\n".join(lines) + "\n")
    size = sum(p.stat().st_size for p in OUT.glob("*.jpg"))
    print(f"{len(list(OUT.glob('*.jpg')))} tiles from {len(lines)} photos, {size / 1024:.0f} kB "
          f"in {OUT}")


if __name__ == "__main__":
    main()
