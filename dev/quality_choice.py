"""Per-frame choice of the quality byte, an encoder-side lever measured and not adopted.

A variable-rate payload carries its quality byte, so an encoder may send a frame at a
neighbouring byte q' when that scores lower on the model's objective at the requested
quality's lambda (real bytes, real decoded pixels; single pass, effort 0). This measures what
that buys as a curve: BD-rate of the chosen payloads against plain single-pass payloads, on
the general validation set's multi-scale crops (docs/results.md, "What limits the result").

    python dev/quality_choice.py --frames 60          # about half a minute on 1 thread
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from run_data import general_val

from gan_compress_ros.codec import Codec
from gan_compress_ros.codec.nn.objective import Objective
from gan_compress_ros.training.data import eval_frames
from gan_compress_ros.training.rd_eval import bd_rate, measured_point

QUALITIES = (0.0, 0.25, 0.5, 0.75, 1.0)


def main() -> None:
    """Print, per quality, how many frames move and where, then the BD-rates."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=60, help="frames, evenly drawn")
    parser.add_argument("--reach", type=int, default=24, help="largest |q' - q| tried")
    parser.add_argument("--step", type=int, default=4, help="spacing of the q' tried")
    args = parser.parse_args()
    torch.set_num_threads(1)
    frames = eval_frames(general_val(), stride=10, crops="multiscale")
    frames = frames[:: max(1, len(frames) // args.frames)][: args.frames]
    codec = Codec.load(backend="torch")
    objective = Objective.of_metadata(codec.metadata)
    y = codec.analyse(frames)
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
    plain, chosen = [], []
    for quality in QUALITIES:
        q = codec.quality_byte(quality)
        lam = objective.lmbda(torch.full((len(frames),), q))
        tried = sorted({int(np.clip(q + d, 0, 255))
                        for d in range(-args.reach, args.reach + 1, args.step)})
        scores, payloads, decoded = [], [], []
        for qq in tried:
            pay = [c.payload for c in codec.code_analysis(y, qq)]
            dec = codec.decode(pay)
            x_hat = torch.from_numpy(dec).permute(0, 3, 1, 2).float() / 255.0
            bits = torch.tensor([8.0 * len(p) for p in pay])
            scores.append(objective.loss(x_hat, x, bits, lam).numpy())
            payloads.append(pay)
            decoded.append(dec)
        best = np.array(scores).argmin(0)
        base = tried.index(q)
        picked = ([payloads[b][n] for n, b in enumerate(best)],
                  np.stack([decoded[b][n] for n, b in enumerate(best)]))
        for out, (pay, dec) in ((plain, (payloads[base], decoded[base])), (chosen, picked)):
            out.append(measured_point("a", f"{quality}", frames, [len(p) for p in pay], dec))
        print(f"quality {quality} (byte {q}): {np.mean(best != base):.0%} of frames "
              f"moved; {plain[-1].bytes_per_frame:.1f} B / {plain[-1].psnr:.2f} dB -> "
              f"{chosen[-1].bytes_per_frame:.1f} B / {chosen[-1].psnr:.2f} dB", flush=True)
    print(f"model {codec.model_id}, {len(frames)} frames: chosen against plain "
          f"{bd_rate(chosen, plain):+.2f}% PSNR / {bd_rate(chosen, plain, 'ms_ssim'):+.2f}% "
          "MS-SSIM BD-rate")


if __name__ == "__main__":
    main()
