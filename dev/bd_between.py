"""BD-rate of one model's quality sweep against another's, from two ``gan-compress-eval`` runs.

``gan-compress-eval`` compares a model with the classic codecs; deciding whether new weights
replace the bundled ones needs the two models compared with each other on the same frames.
Prints the BD-rate (PSNR and MS-SSIM) of TEST's neural curve against ANCHOR's, and against
every classic curve in ANCHOR's file, for reference.

    python dev/bd_between.py runs/new_eval/rd.csv docs/results/general/rd.csv
"""

from __future__ import annotations

import argparse

from gan_compress_ros.training.rd_eval import NEURAL, bd_rate, neural_curve, read_csv


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("test", help="rd.csv of the model under test")
    p.add_argument("anchor", help="rd.csv of the model to compare with (same frames)")
    args = p.parse_args(argv)
    test_curves, anchor_curves = read_csv(args.test), read_csv(args.anchor)
    try:
        test_name, test = neural_curve(test_curves, args.test)
        anchor_name, anchor = neural_curve(anchor_curves, args.anchor)
    except ValueError as e:
        raise SystemExit(str(e)) from None
    frames = {pt.frames for pt in test + anchor}
    if len(frames) != 1:
        print(f"warning: the runs measured different frame counts {sorted(frames)}")
    rows = [(f"{anchor_name} (anchor)", anchor)]
    rows += [(name, pts) for name, pts in anchor_curves.items() if not name.startswith(NEURAL)]
    print(f"BD-rate of {test_name} ({args.test}), negative: fewer bytes at equal quality")
    for name, pts in rows:
        print(f"  vs {name:<36} PSNR {bd_rate(test, pts, 'psnr'):+6.1f}%   "
              f"MS-SSIM {bd_rate(test, pts, 'ms_ssim'):+6.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
