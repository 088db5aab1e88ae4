"""Write gan_compress_ros/weights/DATA_CREDITS.md: every training source, its licence, its credit.

The bundled model's card points here for the attribution that CC-BY and CC-BY-SA ask for.
Reads the manifests of ../shared/datasets (dev only):

    python dev/data_credits.py
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "datasets"
OUT = ROOT / "gan_compress_ros" / "weights" / "DATA_CREDITS.md"
#: The training folders of the bundled model (it learned from these alone).
FOLDERS = ("photos/train", "wallpapers/train", "video/train/intel", "birds525/train")


def manifest(path: Path, prefix: str) -> list[dict[str, str]]:
    """Rows of a manifest whose file lies under ``prefix``."""
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["file"].startswith(prefix)]


def main() -> None:
    """Write the credits file."""
    if not (SHARED / "wallpapers" / "MANIFEST.tsv").is_file():
        raise SystemExit(f"{SHARED} (the project's shared data sets) is not here; this dev "
                         "tool reads their manifests")
    lines = ["# Training data of the bundled model: sources, licences, credits", "",
             "Written by `python dev/data_credits.py` from the data sets' manifests. The",
             "bundled model learned from scratch on these folders of `shared/datasets` and",
             f"nothing else ({', '.join(FOLDERS)}); its card is `codec.md`.", ""]
    photos = sorted(p.name for p in (SHARED / "photos" / "train").iterdir())
    opencv = [p for p in photos if p.startswith("opencv_")]
    lines += ["## photos/train", "",
              f"- {len(opencv)} OpenCV sample images (github.com/opencv/opencv, samples/data): "
              "Apache-2.0 / BSD-3-Clause.",
              f"- {len(photos) - len(opencv)} scikit-image sample images "
              "(scikit-image 0.26, skimage/data): BSD-3-Clause "
              "and the per-image notes in scikit-image's data README.", ""]
    lines += ["## wallpapers/train", "",
              "Each photograph, its source and its licence (`wallpapers/MANIFEST.tsv` has the",
              "evidence for each). CC-BY and CC-BY-SA works are credited to the projects that",
              "publish them, with the authors those projects name.", "",
              "| file | source | licence |", "| --- | --- | --- |"]
    by_licence: dict[str, int] = defaultdict(int)
    for row in manifest(SHARED / "wallpapers" / "MANIFEST.tsv", "wallpapers/train/"):
        by_licence[row["licence"]] += 1
        lines.append(f"| {Path(row['file']).name} | {row['source']} | {row['licence']} |")
    lines += ["", "In all: " + ", ".join(f"{n} {lic}" for lic, n in sorted(by_licence.items()))
              + ".", ""]
    clips = manifest(SHARED / "video" / "INTEL_MANIFEST.tsv", "video/train/intel/")
    lines += ["## video/train/intel", "",
              f"{len(clips)} clips from github.com/intel-iot-devkit/sample-videos "
              f"({clips[0]['source'] if clips else ''}), CC-BY-4.0: \"Sample videos\" by Intel "
              "Corporation, licensed under CC BY 4.0. Frames were resized and cropped to 64x64.",
              "", "## birds525/train", "",
              "BIRDS 525 SPECIES (Kaggle, gpiosenka): CC0 (public domain), as the Kaggle "
              "dataset states.", ""]
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
