"""Entropy-model ablation on frozen transforms: what context buys at a 4x4x64 latent.

Each rate point's transforms stay fixed (so every variant sees the same latents and the same
reconstructions); only the entropy model is trained, on latents of random training crops,
for the same steps, batch and learning rate. Then every variant codes the validation frames
for real (range coder, integer context network) and its bytes are counted. Distortion is
the same for every variant of a rate point up to the rare clamped value, so the byte ratio
is the entropy model's gain; BD-rate over the rate points gives one number per variant.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ..codec.api import Codec
from ..codec.nn.entropy import FactorizedPrior
from ..codec.nn.model import CodecModel, quantize
from ..codec.presets import PIXELS
from .data import CropSampler
from .metrics import mean_psnr, msssim_np

#: Variant name -> compact2 settings (None: the factorized prior of v1).
VARIANTS: dict[str, dict[str, int] | None] = {
    "factorized": None,
    "Gaussian per element, no context": {"slices": 1, "checkerboard": 0},
    "channel (4 slices)": {"slices": 4, "checkerboard": 0},
    "checkerboard": {"slices": 1, "checkerboard": 1},
    "channel + checkerboard": {"slices": 4, "checkerboard": 1},
}


@dataclass
class AblationPoint:
    """One variant at one rate point, measured on the validation frames."""

    variant: str
    rate_point: str
    bytes_per_frame: float
    psnr: float
    ms_ssim: float
    encode_ms: float
    decode_ms: float
    prior_params: int


@torch.no_grad()
def cache_latents(model: CodecModel, sampler: CropSampler, count: int,
                  batch: int = 256) -> torch.Tensor:
    """Float latents (count, C, H, W) of ``count`` random training crops."""
    out = []
    for _ in tqdm(range(0, count, batch), desc="latents", unit="batch", disable=None):
        x = torch.from_numpy(sampler.batch(batch)).permute(0, 3, 1, 2).float() / 255.0
        out.append(model.analyse(x))
    return torch.cat(out)[:count]


def build_variant(base: CodecModel, settings: dict[str, int] | None) -> CodecModel:
    """``base``'s transforms with a fresh entropy model of the variant."""
    if settings is None:
        model = copy.deepcopy(base)
        model.prior = FactorizedPrior(model.latent_shape[0])
        return model
    model = CodecModel("compact2", {**{k: base.config[k] for k in base.config},
                                    "context_hidden": 128, "rate_levels": 0, **settings})
    own = model.state_dict()
    model.load_state_dict({k: v for k, v in base.state_dict().items()
                           if k.startswith(("encoder.", "decoder.")) and k in own},
                          strict=False)
    return model


def train_prior(model: CodecModel, latents: torch.Tensor, steps: int, batch: int, lr: float,
                seed: int) -> list[float]:
    """Train only ``model.prior`` on ``latents``; the rate (bpp) every 100 steps."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.prior.parameters(), lr=lr)
    zeros = torch.zeros(batch, dtype=torch.long)
    rates, acc = [], []
    for step in tqdm(range(steps), desc="prior", unit="step", disable=None, mininterval=2):
        if step == int(steps * 0.8):
            for group in opt.param_groups:
                group["lr"] = lr / 10
        y = latents[torch.randint(len(latents), (batch,), generator=gen)]
        noisy = quantize(y, "noise")
        if model.context:
            lik = model.prior.likelihood(noisy, torch.round(y), zeros)
        else:
            lik = model.prior.likelihood(noisy)
        bpp = -torch.log2(lik).sum() / (batch * PIXELS)
        opt.zero_grad(set_to_none=True)
        bpp.backward()
        opt.step()
        acc.append(bpp.item())
        if (step + 1) % 100 == 0:
            rates.append(float(np.mean(acc)))
            acc = []
    return rates


def measure(model: CodecModel, frames: np.ndarray, variant: str, rate_point: str,
            timing_frames: int = 50) -> AblationPoint:
    """Real bytes, quality and per-frame coding time of ``model`` on ``frames``."""
    codec = Codec.from_model(model.eval())
    payloads = codec.encode(frames)
    recon = codec.decode(payloads)
    sample = frames[:timing_frames]
    start = time.perf_counter()
    single = [codec.encode(f)[0] for f in sample]
    enc = (time.perf_counter() - start) / len(sample)
    start = time.perf_counter()
    for p in single:
        codec.decode(p)
    dec = (time.perf_counter() - start) / len(sample)
    return AblationPoint(variant, rate_point, float(np.mean([len(p) for p in payloads])),
                         mean_psnr(frames, recon), msssim_np(frames, recon), enc * 1e3,
                         dec * 1e3, sum(p.numel() for p in model.prior.parameters()))


def run(bases: dict[str, CodecModel], train_images: list[np.ndarray], frames: np.ndarray,
        latents: int, steps: int, batch: int, lr: float, seed: int,
        variants: dict[str, dict[str, int] | None] | None = None) -> list[AblationPoint]:
    """Every variant at every rate point (``bases``: name -> model with trained transforms)."""
    points = []
    for name, base in bases.items():
        base = base.eval().requires_grad_(False)
        sampler = CropSampler(train_images, seed=seed)
        cached = cache_latents(base, sampler, latents)
        for variant, settings in (variants or VARIANTS).items():
            model = build_variant(base, settings)
            model.requires_grad_(False)
            model.prior.requires_grad_(True)
            train_prior(model, cached, steps, batch, lr, seed)
            points.append(measure(model, frames, variant, name))
    return points


def summary(points: list[AblationPoint]) -> dict[str, Any]:
    """Per variant: mean bytes ratio to the factorized prior over rate points, mean times."""
    out: dict[str, Any] = {}
    ref = {p.rate_point: p.bytes_per_frame for p in points if p.variant == "factorized"}
    for variant in dict.fromkeys(p.variant for p in points):
        mine = [p for p in points if p.variant == variant]
        ratios = [p.bytes_per_frame / ref[p.rate_point] for p in mine if p.rate_point in ref]
        out[variant] = {"bytes_vs_factorized_pct": (float(np.exp(np.mean(np.log(ratios)))) - 1)
                        * 100 if ratios else float("nan"),
                        "encode_ms": float(np.mean([p.encode_ms for p in mine])),
                        "decode_ms": float(np.mean([p.decode_ms for p in mine])),
                        "prior_params": mine[0].prior_params}
    return out
