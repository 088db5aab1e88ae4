"""Tune the encoder alone toward the effort search's latents: a lever measured, not adopted.

Effort 3 finds latents 10.6% cheaper than the single pass (docs/results.md, "Encoder
effort"); if the analysis transform could learn to emit them, effort 0 would gain without
the search's time. This draws training crops (the run's commercial-use data), searches each
at ``--effort`` with a random quality byte, then trains the analysis transform alone (decoder,
entropy model and gains frozen) to round to the searched latent: a hinge on the distance
beyond 0.4 of a step (``--loss hinge``) or the squared distance (``--loss mse``). The weights
it writes are then measured with ``gan-compress-eval`` (docs/results.md, the lever table).

    python dev/encoder_distill.py runs/distill3b --crops 2048 --steps 1500 --lr 3e-5
    gan-compress-eval --weights runs/distill3b/weights.safetensors --data
        ../shared/datasets/photos/val ../shared/datasets/wallpapers/val
        ../shared/datasets/video/val --frame-stride 10 --crops multiscale
        --out runs/distill3b/eval                    # one command

The searched crops are kept in ``OUT/targets.npz``; a second run with the same OUT reuses them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from run_data import train_folders
from tqdm import tqdm

from gan_compress_ros.codec.api import Codec
from gan_compress_ros.codec.bundled import resolve
from gan_compress_ros.codec.nn.weights import load_weights, save_weights
from gan_compress_ros.training.data import CropSampler, load_balanced


def search_targets(weights: Path, out: Path, crops: int, effort: int) -> None:
    """Search ``crops`` training crops, 8 at a time, each batch at one random quality byte."""
    images, shares = load_balanced(train_folders(), 10, None, 0.0, progress=False)
    sampler = CropSampler(images, seed=11, weights=shares)
    rng = np.random.default_rng(5)
    codec = Codec.load(weights, backend="torch")
    frames, latents, qbytes = [], [], []
    started = time.monotonic()
    for _ in tqdm(range(crops // 8), desc=f"effort {effort} search", unit="batch"):
        batch = sampler.batch(8)
        coded = codec.encode_frames(batch, quality=int(rng.integers(0, 256)) / 255.0,
                                    effort=effort)
        frames.append(batch)
        latents.append(np.stack([c.latent for c in coded]))
        qbytes += [c.qbyte for c in coded]
    np.savez(out / "targets.npz", frames=np.concatenate(frames),
             latent=np.concatenate(latents), qbytes=np.array(qbytes))
    print(f"{crops} crops searched in {time.monotonic() - started:.0f} s")


def train(weights: Path, out: Path, steps: int, lr: float, loss_name: str) -> None:
    """Train the analysis transform toward the targets; print how many elements round right."""
    data = np.load(out / "targets.npz")
    loaded = load_weights(weights)
    model = loaded.model
    for name, param in model.named_parameters():
        param.requires_grad_(name.startswith("encoder."))
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    frames = torch.from_numpy(data["frames"]).permute(0, 3, 1, 2).float() / 255.0
    target = torch.from_numpy(data["latent"]).float()
    qbytes = torch.from_numpy(data["qbytes"]).long()
    assert model.gain is not None  # a variable-rate model
    with torch.no_grad():
        gain = model.gain.gains(qbytes)[0]

    def agreement() -> float:
        with torch.no_grad():
            return float((torch.round(model.analyse(frames) * gain) == target).float().mean())

    model.eval()
    print(f"elements rounding to the searched latent: {agreement():.4f} before")
    model.train()
    rng = np.random.default_rng(0)
    for _ in tqdm(range(steps), desc="encoder", unit="step"):
        idx = torch.from_numpy(rng.choice(len(frames), 16, replace=False))
        dist = (model.analyse(frames[idx]) * gain[idx] - target[idx]).abs()
        loss = (torch.relu(dist - 0.4) ** 2 if loss_name == "hinge" else dist ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    print(f"elements rounding to the searched latent: {agreement():.4f} after")
    meta = {k: v for k, v in loaded.metadata.items() if k != "model_id"}
    written = save_weights(out / "weights.safetensors", model, model.freeze_tables(), meta)
    print(f"wrote {out / 'weights.safetensors'} (model {written['model_id']})")


def main() -> None:
    """Search the targets (unless OUT has them), then train and write OUT/weights.safetensors."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="run directory (git-ignored runs/...)")
    parser.add_argument("--weights", type=Path, default=None, help="start (the bundled model)")
    parser.add_argument("--crops", type=int, default=2048, help="training crops searched")
    parser.add_argument("--effort", type=int, default=3, help="the search's effort")
    parser.add_argument("--steps", type=int, default=1500, help="encoder steps, batch 16")
    parser.add_argument("--lr", type=float, default=3e-5, help="Adam learning rate")
    parser.add_argument("--loss", choices=["hinge", "mse"], default="hinge")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    weights = resolve(args.weights)
    args.out.mkdir(parents=True, exist_ok=True)
    if not (args.out / "targets.npz").exists():
        search_targets(weights, args.out, args.crops, args.effort)
    train(weights, args.out, args.steps, args.lr, args.loss)


if __name__ == "__main__":
    main()
