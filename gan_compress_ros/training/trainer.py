"""The GAN trainer: rate-distortion warm-up, then the adversarial term; resumable, DDP-ready.

Generator = encoder + quantizer + entropy model + decoder (``CodecModel``). Its loss is
``distortion + lmbda * bpp + beta * adversarial`` (see ``losses``); a larger ``lmbda`` gives
fewer bytes. For ``gan_start`` steps the adversarial term is off (warm-up), then the
discriminator trains alongside. Under ``torchrun`` each process samples its own crops and
DistributedDataParallel averages gradients; only rank 0 writes files.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from ..codec.api import Codec
from ..codec.bundled import resolve
from ..codec.metadata import read_metadata
from ..codec.nn.model import CodecModel
from ..codec.nn.objective import Objective, lmbda_of
from ..codec.nn.weights import load_weights, save_weights
from ..codec.presets import PIXELS
from . import losses
from .data import CropSampler, Prefetcher, crops_of, load_balanced, load_frames
from .discriminators import build_discriminator
from .metrics import mean_psnr, msssim_np
from .plots import plot_losses, save_grid

LOG_EVERY = 50
#: A step that took longer than this (seconds) was paused (``kill -STOP``, a suspended
#: machine), not training: the run's wall time leaves the gap out. A step takes under 2 s.
PAUSE_S = 60.0
#: Gain units start as if the transforms were trained at this lambda: a latent gain of
#: sqrt(GAIN_REF_LMBDA / lambda) keeps the quantization step proportional to sqrt(lambda).
GAIN_REF_LMBDA = 300.0
#: Qualities at which a variable-rate model is evaluated after training.
EVAL_QUALITIES = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass
class TrainConfig:
    """Everything that determines a run (written into the weights' metadata)."""

    data: list[str]
    out: str
    val: list[str] = field(default_factory=list)
    preset: str = "compact"
    preset_overrides: dict[str, int] = field(default_factory=dict)
    lmbda: float = 100.0
    #: Variable-rate models: lambda at quality 0 (``lmbda`` is lambda at quality 1); each
    #: sample draws a quality byte, and lambda is interpolated in log space between the two.
    lmbda_q0: float = 0.0
    steps: int = 10000
    batch: int = 16
    lr: float = 3e-4
    lr_d: float = 1e-4
    lr_drop: int = 0
    #: Steps over which the generator's lr ramps up from zero when the optimizer starts
    #: without its state (``init`` from weights alone, e.g. the bundled ones on a new
    #: machine): Adam's first steps on a converged model otherwise undo some of it.
    warmup: int = 0
    beta: float = 0.0
    gan_start: int = 0
    discriminator: str = "latent"
    instance_noise: float = 0.1
    msssim_weight: float = 0.0
    #: How the MS-SSIM term's weight depends on a sample's lambda (``objective.MSSSIM_MODES``).
    msssim_mode: str = "batch"
    fresh_decoder_noise: bool = False
    precision: str = "fp32"
    frame_stride: int = 10
    topics: list[str] = field(default_factory=list)
    init: str = ""
    seed: int = 0
    threads: int = 0
    time_limit: float = 0.0
    checkpoint_every: int = 500
    val_fraction: float = 0.1
    max_val: int = 0
    #: How validation frames are cut (``training.data.CROP_MODES``): multi-scale crops see
    #: whole scenes as well as close views.
    val_crops: str = "multiscale"
    #: Draw training crops so that each ``data`` root has an equal share of the samples.
    balance: bool = False
    #: Which weights learn (``TRAIN_ONLY``): ``synthesis`` keeps the encoder, the entropy
    #: model and the encoder-side gains as they are, so payloads keep their bytes (all but the
    #: model id) and only the reconstruction learns (capacity at the top, issue 23).
    train_only: str = "all"
    command: str = ""


#: The choices of ``TrainConfig.train_only``.
TRAIN_ONLY = ("all", "synthesis")


def synthesis_only(model: CodecModel) -> list[str]:
    """Freeze all but the decoder side that leaves the bitstream alone; the names left to train.

    That is the synthesis transform and the decoder-side gains of a variable-rate model.
    """
    names = [n for n, _ in model.named_parameters()
             if n.startswith("decoder.") or n == "gain.log_dec"]
    for name, param in model.named_parameters():
        param.requires_grad_(name in names)
    return names


#: The paper's setting (Table 1, batch 8, lr 0.0004 / 0.004, noise level 100, BCE losses).
PAPER_SETTINGS: dict[str, Any] = {"preset": "paper", "batch": 8, "lr": 4e-4, "lr_d": 4e-3,
                                  "discriminator": "paper", "fresh_decoder_noise": True}


def bundled_settings() -> dict[str, Any]:
    """Architecture and rate range of the model ``Codec.load()`` loads, from its metadata.

    The trainer's default, so a plain run trains what the product decodes (WeightsError if
    no bundled weights are installed).
    """
    meta = read_metadata(resolve(None))
    training = meta.get("training", {})
    return {"preset": meta["preset"], "preset_overrides": dict(meta["config"]),
            "lmbda": float(training["lmbda"]), "lmbda_q0": float(training["lmbda_q0"])}


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _autocast_dtype(precision: str) -> torch.dtype | None:
    """``fp32`` -> None; ``bf16`` -> bfloat16; ``auto`` -> bf16 where the CPU has it."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision == "auto":
        if torch.cuda.is_available():
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
        return torch.bfloat16 if torch.backends.mkldnn.is_available() and \
            torch.ops.mkldnn._is_mkldnn_bf16_supported() else None
    raise ValueError(f"unknown precision {precision!r}: use fp32, bf16 or auto")


def _unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


def params_digest(module: nn.Module) -> str:
    """SHA-256 of every parameter and buffer (to show DDP ranks hold identical weights)."""
    digest = hashlib.sha256()
    for key, value in sorted(_unwrap(module).state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def rd_loss(out: dict[str, torch.Tensor], x: torch.Tensor, qbytes: torch.Tensor,
            objective: Objective) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Variable-rate loss of a forward pass: the per-sample ``objective``; loss, mse, bpp.

    Each sample's loss is scaled to a common magnitude (divided by ``objective.norm``, the
    square root of its lambda over the geometric mean), so low and high qualities pull alike.
    """
    n = x.shape[0]
    lam = objective.lmbda(qbytes)
    bpp_i = -torch.log2(out["likelihoods"]).reshape(n, -1).sum(1) / PIXELS
    mse_i, dist_i = objective.distortion(out["x_hat"], x, lam)
    return ((dist_i + lam * bpp_i) / objective.norm(lam)).mean(), mse_i.mean(), bpp_i.mean()


def evaluate(model: CodecModel, frames: np.ndarray,
             quality: float | None = None) -> tuple[dict[str, float], np.ndarray]:
    """Real range-coded bytes per frame, PSNR and MS-SSIM of ``model`` on ``frames``."""
    was_training = model.training
    codec = Codec.from_model(model.eval())
    payloads = codec.encode(frames, quality=quality)
    recon = codec.decode(payloads)
    model.train(was_training)
    sizes = np.array([len(p) for p in payloads], dtype=np.float64)
    result = {"bytes_per_frame": float(sizes.mean()), "bpp": float(sizes.mean() * 8 / PIXELS),
              "psnr": mean_psnr(frames, recon), "ms_ssim": msssim_np(frames, recon),
              "frames": int(len(frames))}
    if quality is not None:
        result["quality"] = quality
    return result, recon


class Trainer:
    """One training run in ``config.out``: weights, checkpoint, logs, plots, model card."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
        if self.distributed and not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        self.rank = dist.get_rank() if self.distributed else 0
        self.world = dist.get_world_size() if self.distributed else 1
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.device = torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
        self.main = self.rank == 0
        self.out = Path(config.out)
        if self.main:
            self.out.mkdir(parents=True, exist_ok=True)
        if config.threads > 0:
            torch.set_num_threads(config.threads)
        _seed_all(config.seed)  # identical initial weights on every rank
        holdout = 0.0 if config.val else config.val_fraction
        weights = None
        if config.balance:
            self.train_images, weights = load_balanced(config.data, config.frame_stride,
                                                       config.topics, holdout, self.main)
        else:
            self.train_images = load_frames(config.data, config.frame_stride, config.topics,
                                            holdout, held=False, progress=self.main)
        val_images = (load_frames(config.val, config.frame_stride, config.topics,
                                  progress=False) if config.val else
                      load_frames(config.data, config.frame_stride, config.topics, holdout,
                                  held=True, progress=False))
        if config.max_val:
            val_images = val_images[:config.max_val]
        self.val_frames = crops_of(val_images, config.val_crops)
        self.sampler = CropSampler(self.train_images, seed=config.seed + 1000 * self.rank,
                                   weights=weights)
        self.model = CodecModel(config.preset, config.preset_overrides)
        # ValueError on an unknown msssim_mode; a fixed-rate model has one lambda
        self.objective = Objective(config.lmbda, config.lmbda_q0 or config.lmbda,
                                   config.msssim_weight, config.msssim_mode)
        if self.model.variable_rate:
            if not config.lmbda_q0 > 0:
                raise ValueError(f"preset {config.preset} is variable-rate: give --lmbda-q0 "
                                 "(lambda at quality 0) as well as --lmbda (at quality 1)")
            levels = torch.arange(self.model.config["rate_levels"]) * (255.0 / (
                self.model.config["rate_levels"] - 1))
            lams = lmbda_of(levels, config.lmbda, config.lmbda_q0)
            gain = self.model.gain
            assert gain is not None  # rate_levels > 0
            with torch.no_grad():
                log_gain = 0.5 * torch.log(GAIN_REF_LMBDA / lams)
                gain.log_enc.copy_(log_gain[:, None].expand_as(gain.log_enc))
                gain.log_dec.copy_(-gain.log_enc)
        #: the training records of the weights this run started from (--init), oldest first:
        #: a run restarted from the bundled file keeps the lineage a model card must show
        self.ancestry: list[dict[str, Any]] = []
        if config.init:
            self._init_from(config.init)
        if config.train_only not in TRAIN_ONLY:
            raise ValueError(f"train_only must be one of {TRAIN_ONLY}, not {config.train_only!r}")
        if config.train_only == "synthesis":
            if not config.init:
                raise ValueError("--train-only synthesis needs --init: an untrained encoder "
                                 "and entropy model would stay untrained")
            synthesis_only(self.model)
        self.disc = build_discriminator(config.discriminator, self.model.latent_shape[0])
        self.opt_g = torch.optim.Adam([p for p in self.model.parameters() if p.requires_grad],
                                      lr=config.lr)
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=config.lr_d, betas=(0.5, 0.999))
        self.model.to(self.device)
        self.disc.to(self.device)
        self.autocast = _autocast_dtype(config.precision)
        if self.autocast is not None:  # bf16 convolutions run fastest in channels-last
            # Module.to takes memory_format at run time; torch's stubs do not say so
            self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            self.disc.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.g_net: nn.Module = self.model
        self.d_net: nn.Module = self.disc
        if self.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.g_net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
            self.d_net = nn.parallel.DistributedDataParallel(self.disc, device_ids=ids)
        self.step = 0
        self.elapsed = 0.0
        self.history: list[str] = []  # commands of earlier invocations when resumed
        self.optimizer_fresh = True  # no Adam state loaded (resume clears it)
        self.first_step = 0
        self.checkpoint_path = self.out / "checkpoint.pt"
        self.tb = self._tensorboard()

    def _init_from(self, path: str) -> None:
        """Start from a weights file or another run's ``checkpoint.pt`` (same preset)."""
        if path.endswith(".pt"):
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
            self.ancestry = [*ckpt.get("ancestry", []),
                             {"checkpoint": path, "steps_done": int(ckpt.get("step", 0)),
                              "commands": list(ckpt.get("commands", []))}]
            state = ckpt["model"]
            if not self._init_adding_blocks(state):
                self.model.load_state_dict(state)  # raises on any mismatch
            return
        loaded = load_weights(path)
        self.ancestry = ancestry_of(loaded.metadata, loaded.model_id)
        if (loaded.model.preset, loaded.model.config) == (self.model.preset, self.model.config):
            self.model.load_state_dict(loaded.model.state_dict())
            return
        if self._init_adding_blocks(loaded.model.state_dict()):
            return
        # Another preset: take the transforms (e.g. compact -> compact2). Where the latent is
        # wider here, the overlapping part is copied, the decoder reads the new channels
        # with zero weights and the encoder's new channels start random: the run starts as
        # the old model and learns to use the extra channels.
        own = self.model.state_dict()
        old = loaded.model.state_dict()
        wanted = [k for k in own if k.startswith(("encoder.", "decoder."))]
        if any(k not in old or old[k].dim() != own[k].dim() for k in wanted):
            raise ValueError(f"--init {path}: preset {loaded.model.preset} "
                             f"{loaded.model.config} has other transforms than this run's "
                             f"{self.model.preset} {self.model.config}")
        taken = {}
        for k in wanted:
            src, dst = old[k], own[k].clone()
            if k.startswith("decoder.") and src.shape != dst.shape:
                dst.zero_()
            overlap = tuple(slice(0, min(a, b)) for a, b in zip(src.shape, dst.shape,
                                                                strict=True))
            dst[overlap] = src[overlap]
            taken[k] = dst
        self.model.load_state_dict(taken, strict=False)

    def _init_adding_blocks(self, old: dict[str, torch.Tensor]) -> bool:
        """Load weights that lack only this run's extra synthesis blocks (``synthesis_blocks``).

        Every tensor of the file is taken; the new blocks keep their identity start, so the
        run begins exactly as the model it came from. False when the file differs otherwise.
        """
        own = self.model.state_dict()
        new = [k for k in own if k not in old]
        if not new or any(k not in own or own[k].shape != v.shape for k, v in old.items()):
            return False
        if not all(k.startswith("decoder.res") for k in new):
            return False
        self.model.load_state_dict(old, strict=False)
        return True

    def _tensorboard(self) -> Any:
        if not self.main:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # optional: CSV and PNG logs always exist
            return None
        return SummaryWriter(str(self.out / "tensorboard"))

    def resume(self) -> bool:
        """Continue from ``checkpoint.pt`` in the output folder if there is one.

        A slim checkpoint (the model alone, ``slim_checkpoint``: what a new machine gets
        from a committed snapshot) continues with a fresh optimizer, ramped up over
        ``warmup`` steps, and a fresh discriminator.
        """
        if not self.checkpoint_path.is_file():
            return False
        state = torch.load(self.checkpoint_path, map_location="cpu", weights_only=True)
        cfg = self.config
        if "disc" not in state and cfg.beta > 0 and int(state["step"]) >= cfg.gan_start:
            raise ValueError(f"{self.checkpoint_path} is a slim checkpoint (no discriminator) "
                             f"at step {state['step']}, past --gan-start {cfg.gan_start}: the "
                             "adversarial term would start from an untrained discriminator")
        self.model.load_state_dict(state["model"])  # a slim one's fp16 tensors are cast
        if "optimizer" in state:
            self.opt_g.load_state_dict(state["optimizer"])
            self.optimizer_fresh = False
        if "disc" in state:  # a warm-up checkpoint has no discriminator yet
            self.disc.load_state_dict(state["disc"])
            self.opt_d.load_state_dict(state["optimizer_d"])
        self.step = int(state["step"])
        self.elapsed = float(state["elapsed"])
        self._drop_log_rows_after(self.step)
        self.history = [*state.get("commands", []), f"(resumed at step {self.step})"]
        self.ancestry = list(state.get("ancestry", []))
        self.sampler.rng = np.random.default_rng([self.config.seed, self.rank, self.step])
        torch.manual_seed(self.config.seed + self.step)
        return True

    def save_checkpoint(self) -> None:
        """Write the full training state (atomic rename); rank 0 only."""
        if not self.main:
            return
        tmp = self.checkpoint_path.with_suffix(".tmp")
        torch.save({"model": self.model.state_dict(), "optimizer": self.opt_g.state_dict(),
                    "disc": self.disc.state_dict(), "optimizer_d": self.opt_d.state_dict(),
                    "step": self.step, "elapsed": self.elapsed,
                    "commands": [*self.history, self.config.command],
                    "ancestry": self.ancestry}, tmp)
        tmp.replace(self.checkpoint_path)

    def _drop_log_rows_after(self, step: int) -> None:
        """Remove ``train_log.csv``'s rows past ``step``.

        A resumed run trains the steps after its checkpoint again: logged twice otherwise.
        """
        path = self.out / "train_log.csv"
        if not self.main or not path.is_file():
            return
        lines = path.read_text().splitlines(keepends=True)
        kept = lines[:1] + [line for line in lines[1:]
                            if not line.split(",", 1)[0].isdigit()
                            or int(line.split(",", 1)[0]) <= step]
        if len(kept) < len(lines):
            tmp = path.with_suffix(".tmp")
            tmp.write_text("".join(kept))
            tmp.replace(path)

    def _log(self, row: dict[str, Any]) -> None:
        if not self.main:
            return
        path = self.out / "train_log.csv"
        new = not path.exists()
        with path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
        if self.tb is not None:
            for key, value in row.items():
                if key != "step":
                    self.tb.add_scalar(key, value, row["step"])

    def _amp(self) -> torch.autocast:
        return torch.autocast(device_type=self.device.type,
                              dtype=self.autocast or torch.bfloat16,
                              enabled=self.autocast is not None)

    def train_step(self, x: torch.Tensor) -> dict[str, float]:
        """One generator update and, once the GAN is on, one discriminator update."""
        cfg = self.config
        gan = cfg.beta > 0 and self.step >= cfg.gan_start
        n = x.shape[0]
        qbytes = None
        if self.model.variable_rate:
            qbytes = torch.randint(0, 256, (n,), device=x.device)
        with self._amp():
            out = self.g_net(x, fresh_noise=cfg.fresh_decoder_noise, qbytes=qbytes)
        x_hat, y_hat = out["x_hat"].float(), out["y_hat"].float()
        if qbytes is None:
            bpp = losses.rate_bpp(out["likelihoods"], n)
            mse = losses.mse_255(x_hat, x)
            loss = mse + cfg.lmbda * bpp
        else:
            loss, mse, bpp = rd_loss(out, x, qbytes, self.objective)
        if cfg.msssim_weight and qbytes is None:
            loss = loss + losses.msssim_term(x_hat, x, cfg.msssim_weight)
        terms = {"mse": mse.item(), "bpp": bpp.item()}
        if gan:
            self.disc.requires_grad_(False)
            fake = losses.add_instance_noise(x_hat, cfg.instance_noise)
            with self._amp():
                fake_logits = self.disc(fake, y_hat).float()
            g_adv = losses.generator_adversarial(fake_logits)
            loss = loss + cfg.beta * g_adv
            self.disc.requires_grad_(True)
            terms["g_adv"] = g_adv.item()
        lr = cfg.lr * (0.1 if cfg.lr_drop and self.step >= cfg.lr_drop else 1.0)
        if cfg.warmup and self.optimizer_fresh:  # Adam without its moments: ramp up
            lr *= min(1.0, (self.step - self.first_step + 1) / cfg.warmup)
        for group in self.opt_g.param_groups:  # one 10x drop near the end of long runs
            group["lr"] = lr
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt_g.step()
        terms["loss"] = loss.item()
        if gan:
            both = losses.add_instance_noise(torch.cat([x, x_hat.detach()]), cfg.instance_noise)
            with self._amp():
                logits = self.d_net(both, torch.cat([y_hat.detach(), y_hat.detach()])).float()
            real, fake_logits = logits.chunk(2)
            d_loss = losses.discriminator_loss(real, fake_logits)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            terms["d_loss"] = d_loss.item()
        return terms

    def _stop_now(self, started: float) -> bool:
        """Whether this invocation's ``time_limit`` is used up (agreed by all ranks)."""
        cfg = self.config
        stop = bool(cfg.time_limit) and time.monotonic() - started >= cfg.time_limit
        if self.distributed:  # every rank must agree, or the collectives hang
            flag = torch.tensor([1.0 if stop else 0.0], device=self.device)
            dist.all_reduce(flag)
            stop = bool(flag.item())
        return stop

    def train(self) -> dict[str, Any]:
        """Run until ``steps`` or ``time_limit``; then write weights, plots, model card."""
        cfg = self.config
        self.model.train()
        self.disc.train()
        started = time.monotonic()
        self.first_step = self.step
        start = started - self.elapsed  # wall time of the whole run, over resumes
        bar = tqdm(total=cfg.steps, initial=self.step, desc=f"train {cfg.preset}",
                   unit="step", dynamic_ncols=True, mininterval=2.0,
                   disable=None if self.main else True)
        keys = ("loss", "mse", "bpp", "g_adv", "d_loss")
        acc: dict[str, list[float]] = {k: [] for k in keys}
        batches = Prefetcher(self.sampler, cfg.batch)
        tick = time.monotonic()
        while self.step < cfg.steps and not self._stop_now(started):
            batch = torch.from_numpy(batches.next())
            x = batch.to(self.device).permute(0, 3, 1, 2).float().div_(255.0)
            if self.autocast is not None:
                x = x.contiguous(memory_format=torch.channels_last)
            for k, v in self.train_step(x).items():
                acc[k].append(v)
            self.step += 1
            now = time.monotonic()
            if now - tick > PAUSE_S:  # paused, not training: neither clock counts the gap
                started += now - tick
                start += now - tick
            tick = now
            bar.update(1)
            if self.step % LOG_EVERY == 0 or self.step == cfg.steps:
                row = {k: float(np.mean(v)) if v else float("nan") for k, v in acc.items()}
                psnr = 10 * math.log10(255.0 ** 2 / max(row["mse"], 1e-9))
                bar.set_postfix(bpp=f"{row['bpp']:.3f}", psnr=f"{psnr:.2f}")
                self._log({"step": self.step, "time_s": round(time.monotonic() - start, 1),
                           **{k: round(v, 5) for k, v in row.items()}})
                acc = {k: [] for k in keys}
            if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                self.elapsed = time.monotonic() - start
                self.save_checkpoint()
        batches.close()
        bar.close()
        self.elapsed = time.monotonic() - start
        self.save_checkpoint()
        return self.finish()

    def finish(self) -> dict[str, Any]:
        """Freeze tables, measure on the validation frames, write weights and pictures."""
        if self.distributed:
            (self.out / f"rank{self.rank}.params.sha256").write_text(
                params_digest(self.model) + "\n")
            dist.barrier()
        if not self.main:
            return {}
        self.model.eval()
        cpu_model = copy.deepcopy(self.model).cpu().to(
            memory_format=torch.contiguous_format)  # type: ignore[call-overload]
        result, recon = evaluate(cpu_model, self.val_frames) if len(self.val_frames) else ({},
                                                                                         None)
        curve = [evaluate(cpu_model, self.val_frames, q)[0] for q in EVAL_QUALITIES] \
            if cpu_model.variable_rate and len(self.val_frames) else []
        meta: dict[str, Any] = {
            "training": {**asdict(self.config), "steps_done": self.step,
                         "commands": [*self.history, self.config.command],
                         "ancestry": self.ancestry,
                         "wall_time_s": round(self.elapsed, 1), "processes": self.world,
                         "train_images": len(self.train_images), "torch": torch.__version__},
            "evaluation": result,
        }
        if curve:
            meta["evaluation_curve"] = curve
        written = save_weights(self.out / "weights.safetensors", cpu_model,
                               cpu_model.freeze_tables(), meta)
        (self.out / "model_card.md").write_text(model_card(written))
        if (self.out / "train_log.csv").exists():
            plot_losses(self.out / "train_log.csv", self.out / "losses.png",
                        f"{self.config.preset}, lambda {self.config.lmbda}")
        if recon is not None:
            n = min(8, len(recon))
            save_grid([("original", self.val_frames[:n]),
                       (f"decoded ({result['bytes_per_frame']:.0f} B/frame)", recon[:n])],
                      self.out / "samples.png")
        if self.tb is not None:
            self.tb.close()
        return written


def ancestry_of(meta: dict[str, Any], model_id: str) -> list[dict[str, Any]]:
    """The lineage a run inherits from the weights file it starts from (``--init``).

    The file's own ancestors first, then the file's training record (data, commands, init,
    steps): what a model card needs to say what a restarted run ultimately learned from.
    """
    t = meta.get("training", {})
    return [*t.get("ancestry", []),
            {"model_id": model_id, "data": list(t.get("data", [])), "init": t.get("init", ""),
             "commands": list(t.get("commands", [t.get("command", "")])),
             "steps_done": t.get("steps_done")}]


def _source(a: dict[str, Any]) -> str:
    """An ancestor's name: the model id of a weights file, else the checkpoint's path."""
    return f"model {a['model_id']}" if a.get("model_id") else f"checkpoint {a.get('checkpoint')}"


def _command_lines(commands: list[str], indent: str) -> list[str]:
    """Markdown list items for recorded commands (notes such as "(resumed at ...)" unquoted)."""
    return [f"{indent}- `{c}`" if c.startswith("gan-compress") else f"{indent}- {c}"
            for c in commands]


def _init_text(t: dict[str, Any]) -> str:
    """Where the weights started.

    A resumed run's ``init`` is empty though an earlier command of it started from other
    weights, so the lineage decides.
    """
    if t.get("init"):
        return str(t["init"])
    ancestry = t.get("ancestry", [])
    if not ancestry:
        return "scratch"
    return f"{_source(ancestry[-1])}'s weights (an earlier command of this run started from them)"


def _ancestor_lines(a: dict[str, Any], earlier: list[dict[str, Any]]) -> list[str]:
    """An ancestor's card lines; ``earlier``: the ancestors before it (where it started)."""
    data = f", data {', '.join(a['data'])}" if a.get("data") else ""
    started = _init_text({"init": a.get("init"), "ancestry": earlier})
    return [f"  - ancestor {_source(a)} ({a.get('steps_done')} steps{data}; initialised from "
            f"{started}), commands:",
            *_command_lines(a.get("commands", []), "    ")]


def model_card(meta: dict[str, Any]) -> str:
    """Markdown model card from a weights file's metadata."""
    t, e = meta.get("training", {}), meta.get("evaluation", {})
    gan = (f"adversarial weight beta {t.get('beta')} from step {t.get('gan_start')} "
           f"({t.get('discriminator')} discriminator, instance noise N_sp "
           f"{t.get('instance_noise')})" if t.get("beta") else "no adversarial term")
    # The weight is the last command's: a run resumed with another says so in its commands.
    msssim = (f" + {t['msssim_weight']:g} * (1 - MS-SSIM) (the last command's weight; mode "
              f"{t.get('msssim_mode') or 'batch'}, see codec/nn/objective.py)"
              if t.get("msssim_weight") else "")
    lines = [
        f"# Model card: {meta['preset']} codec, model id {meta['model_id']}", "",
        f"- Preset: `{meta['preset']}` with config `{json.dumps(meta['config'], sort_keys=True)}`",
        f"- Training data: {', '.join(t.get('data', []))} ({t.get('train_images')} images or "
        f"frames, video/bag frame stride {t.get('frame_stride')})",
        f"- Validation data: {', '.join(t.get('val', [])) or 'held-out split of --data'}",
        "- Commands (in order; later ones resumed the run):",
        *_command_lines(t.get("commands", [t.get("command", "")]), "  "),
        f"- Initialised from: {_init_text(t)}",
        *[line for k, a in enumerate(t.get("ancestry", []))
          for line in _ancestor_lines(a, t["ancestry"][:k])],
        f"- Seed: {t.get('seed')}; steps: {t.get('steps_done')}; batch {t.get('batch')} x "
        f"{t.get('processes', 1)} process(es); lr {t.get('lr')}; lambda {t.get('lmbda')}"
        + (f" at quality 1 to {t.get('lmbda_q0')} at quality 0 (variable rate)"
           if t.get("lmbda_q0") else ""),
        f"- Loss: MSE + lambda * bpp{msssim}; {gan}",
        f"- Wall time: {t.get('wall_time_s')} s (torch {t.get('torch')})",
    ]
    curve = meta.get("evaluation_curve", [])
    if curve:
        lines.append(f"- Quality sweep on {curve[0]['frames']} validation frames: " + "; ".join(
            f"q {p['quality']:.2f}: {p['bytes_per_frame']:.1f} B, {p['psnr']:.2f} dB, "
            f"MS-SSIM {p['ms_ssim']:.4f}" for p in curve))
    if e:
        crops = {"multiscale": "whole frames and 1/2 and 1/4 crops, resized to 64x64",
                 "centre": "64x64 centre crops"}.get(t.get("val_crops", "centre"), "64x64")
        lines.append(f"- Measured on {e['frames']} validation frames ({crops}): "
                     f"{e['bytes_per_frame']:.1f} bytes/frame ({e['bpp']:.3f} bpp), "
                     f"PSNR {e['psnr']:.2f} dB, MS-SSIM {e['ms_ssim']:.4f}")
    return "\n".join(lines) + "\n"


def slim_checkpoint(src: str | Path, dst: str | Path) -> int:
    """Copy checkpoint ``src`` to ``dst`` with its model in fp16 and no optimizer state.

    Keeps the step and the records; returns the step. Half the size of a weights file: small
    enough to commit, so a run continues on a new machine (``Trainer.resume`` takes it with
    a fresh optimizer) where its git-ignored run directory is gone. fp16 rounds a weight by
    at most 2**-11 of its size (below 6e-5 by at most 3e-8).
    """
    state = torch.load(src, map_location="cpu", weights_only=True)
    model = {k: v.half() if v.is_floating_point() else v for k, v in state["model"].items()}
    bad = [k for k, v in model.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ValueError(f"{src}: tensors {bad[:3]} overflow fp16")
    step = int(state["step"])
    slim = {"model": model, "step": step, "elapsed": float(state["elapsed"]),
            "commands": list(state.get("commands", [])),
            "ancestry": list(state.get("ancestry", []))}
    tmp = Path(str(dst) + ".tmp")
    torch.save(slim, tmp)
    tmp.replace(dst)
    return step
