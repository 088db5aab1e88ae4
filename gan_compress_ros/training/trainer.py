"""Rate-distortion training of a codec preset, resumable, with logs and a model card.

Loss: ``mse + lmbda * bpp`` (MSE on the 0-255 scale, rate in bits per pixel from the
factorized prior on the noisy latent); a larger ``lmbda`` gives a lower rate. The decoder sees
the rounded latent with straight-through gradients, as at inference.
"""

from __future__ import annotations

import csv
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ..codec.api import Codec
from ..codec.model import CodecModel
from ..codec.weights import save_weights
from .data import CropSampler, eval_frames, find_images, load_images, split_holdout
from .metrics import mean_psnr

PIXELS = 64 * 64


@dataclass
class TrainConfig:
    """Everything that determines a run (written into the weights' metadata)."""

    data: list[str]
    out: str
    val: list[str] = field(default_factory=list)
    preset: str = "compact"
    preset_overrides: dict[str, int] = field(default_factory=dict)
    lmbda: float = 100.0
    steps: int = 10000
    batch: int = 16
    lr: float = 3e-4
    seed: int = 0
    threads: int = 0
    time_limit: float = 0.0
    eval_every: int = 1000
    checkpoint_every: int = 500
    val_fraction: float = 0.1
    max_val: int = 256
    command: str = ""


def rd_loss(model: CodecModel, x: torch.Tensor, lmbda: float) -> dict[str, torch.Tensor]:
    """Distortion, rate and their sum for a batch ``x`` in [0, 1]."""
    out = model(x)
    bits = -torch.log2(out["likelihoods"]).sum()
    bpp = bits / (x.shape[0] * PIXELS)
    mse = torch.mean((out["x_hat"] - x) ** 2) * 255.0 ** 2
    return {"loss": mse + lmbda * bpp, "mse": mse, "bpp": bpp}


def evaluate(model: CodecModel, frames: np.ndarray) -> dict[str, float]:
    """Real bytes per frame (range-coded) and PSNR of ``model`` on ``frames``."""
    was_training = model.training
    codec = Codec.from_model(model.eval())
    payloads = codec.encode(frames)
    recon = codec.decode(payloads)
    model.train(was_training)
    sizes = np.array([len(p) for p in payloads], dtype=np.float64)
    return {"bytes_per_frame": float(sizes.mean()), "bpp": float(sizes.mean() * 8 / PIXELS),
            "psnr": mean_psnr(frames, recon), "frames": int(len(frames))}


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Trainer:
    """One training run in ``config.out``: weights, checkpoint, CSV log, model card."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.out = Path(config.out)
        self.out.mkdir(parents=True, exist_ok=True)
        if config.threads > 0:
            torch.set_num_threads(config.threads)
        _seed_all(config.seed)
        paths = find_images(config.data)
        if config.val:
            train_paths, val_paths = paths, find_images(config.val)
        else:
            train_paths, val_paths = split_holdout(paths, config.val_fraction)
        self.train_images = load_images(train_paths)
        self.val_frames = eval_frames(val_paths[:config.max_val])
        self.sampler = CropSampler(self.train_images, seed=config.seed)
        self.model = CodecModel(config.preset, config.preset_overrides)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.step = 0
        self.elapsed = 0.0
        self.checkpoint_path = self.out / "checkpoint.pt"

    def resume(self) -> bool:
        """Continue from ``checkpoint.pt`` in the output folder if there is one."""
        if not self.checkpoint_path.is_file():
            return False
        state = torch.load(self.checkpoint_path, map_location="cpu", weights_only=True)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step = int(state["step"])
        self.elapsed = float(state["elapsed"])
        self.sampler.rng = np.random.default_rng([self.config.seed, self.step])
        torch.manual_seed(self.config.seed + self.step)
        return True

    def save_checkpoint(self) -> None:
        """Write the full training state (atomic rename)."""
        tmp = self.checkpoint_path.with_suffix(".tmp")
        torch.save({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                    "step": self.step, "elapsed": self.elapsed}, tmp)
        tmp.replace(self.checkpoint_path)

    def _log(self, row: dict[str, Any]) -> None:
        path = self.out / "train_log.csv"
        new = not path.exists()
        with path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)

    def train(self) -> dict[str, Any]:
        """Run until ``steps`` or ``time_limit``; then write weights and the model card."""
        cfg = self.config
        self.model.train()
        start = time.monotonic() - self.elapsed
        bar = tqdm(total=cfg.steps, initial=self.step, desc=f"train {cfg.preset}",
                   unit="step", dynamic_ncols=True, mininterval=2.0,
                   disable=None)
        acc = {"loss": 0.0, "mse": 0.0, "bpp": 0.0}
        count = 0
        while self.step < cfg.steps:
            if cfg.time_limit and time.monotonic() - start >= cfg.time_limit:
                break
            batch = torch.from_numpy(self.sampler.batch(cfg.batch))
            x = batch.permute(0, 3, 1, 2).float().div_(255.0)
            terms = rd_loss(self.model, x, cfg.lmbda)
            self.optimizer.zero_grad(set_to_none=True)
            terms["loss"].backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.optimizer.step()
            self.step += 1
            count += 1
            for k in acc:
                acc[k] += terms[k].item()
            bar.update(1)
            if self.step % 50 == 0 or self.step == cfg.steps:
                row = {k: v / count for k, v in acc.items()}
                psnr = 10 * math.log10(255.0 ** 2 / max(row["mse"], 1e-9))
                bar.set_postfix(bpp=f"{row['bpp']:.3f}", psnr=f"{psnr:.2f}")
                self._log({"step": self.step, "time_s": round(time.monotonic() - start, 1),
                           **{k: round(v, 5) for k, v in row.items()}})
                acc = dict.fromkeys(acc, 0.0)
                count = 0
            if self.step % cfg.checkpoint_every == 0:
                self.elapsed = time.monotonic() - start
                self.save_checkpoint()
        bar.close()
        self.elapsed = time.monotonic() - start
        self.save_checkpoint()
        return self.finish()

    def finish(self) -> dict[str, Any]:
        """Freeze tables, measure on the validation frames, write weights and model card."""
        self.model.eval()
        result = evaluate(self.model, self.val_frames) if len(self.val_frames) else {}
        meta = {
            "training": {**asdict(self.config), "steps_done": self.step,
                         "wall_time_s": round(self.elapsed, 1),
                         "train_images": len(self.train_images),
                         "torch": torch.__version__},
            "evaluation": result,
        }
        written = save_weights(self.out / "weights.safetensors", self.model,
                               self.model.freeze_tables(), meta)
        (self.out / "model_card.md").write_text(model_card(written))
        return written


def model_card(meta: dict[str, Any]) -> str:
    """A markdown model card from a weights file's metadata."""
    t, e = meta.get("training", {}), meta.get("evaluation", {})
    lines = [
        f"# Model card: {meta['preset']} codec, model id {meta['model_id']}", "",
        f"- Preset: `{meta['preset']}` with config `{json.dumps(meta['config'], sort_keys=True)}`",
        f"- Training data: {', '.join(t.get('data', []))} ({t.get('train_images')} images)",
        f"- Validation data: {', '.join(t.get('val', [])) or 'held-out split of --data'}",
        f"- Command: `{t.get('command', '')}`",
        f"- Seed: {t.get('seed')}; steps: {t.get('steps_done')}; batch {t.get('batch')}; "
        f"lr {t.get('lr')}; lambda {t.get('lmbda')}",
        f"- Wall time: {t.get('wall_time_s')} s (torch {t.get('torch')})",
    ]
    if e:
        lines.append(f"- Measured on {e['frames']} validation frames (64x64 centre crops): "
                     f"{e['bytes_per_frame']:.1f} bytes/frame ({e['bpp']:.3f} bpp), "
                     f"PSNR {e['psnr']:.2f} dB")
    return "\n".join(lines) + "\n"
