"""Fine-tune codec weights to one camera without forgetting everything else.

Starts from the bundled weights (or ``init``), trains rate-distortion on the camera's earlier
frames as the encoder node sees them (``camera.CameraSampler``), with general photos mixed
into every batch and optionally a pull back towards the starting weights, until a wall-clock
deadline or a step count. Then it measures the new weights against the starting ones on the
camera's later, held-out frames and on general photos (BD-rate over a quality sweep) and
writes ``weights.safetensors`` with a model card. ``docs/finetune.md`` has the measurements
behind the defaults.
"""

from __future__ import annotations

import copy
import math
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ..codec.bundled import resolve
from ..codec.nn.model import CodecModel
from ..codec.nn.objective import Objective
from ..codec.nn.weights import compute_model_id, load_weights, model_tensors, save_weights
from . import camera
from .data import CropSampler, Prefetcher, crops_of, load_balanced, load_frames
from .rd_eval import RDPoint, bd_rate, weights_curve
from .trainer import _autocast_dtype, bundled_settings, rd_loss

#: Which weights adapt: every one; the decoder side (synthesis, entropy model, gains; the
#: encoder stays); only biases (and GDN offsets); see ``trainable``.
ADAPT_MODES = ("all", "decoder", "bias")
#: Qualities of the before/after sweep.
SWEEP = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
#: Video/bag frame stride of the general validation set (as the lead's set: docs/results.md).
VAL_STRIDE = 10
#: General photos shipped with the package (``dev/make_general_sample.py``): mixed into every
#: batch unless ``general`` names others, so a user's run forgets little without any data set.
GENERAL_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "general"


@dataclass
class FinetuneConfig:
    """Everything that determines a fine-tuning run (written into the weights' metadata)."""

    data: list[str]
    out: str
    init: str = ""
    topic: str = ""
    minutes: float = 0.0
    steps: int = 0
    val: list[str] = field(default_factory=list)
    general: list[str] = field(default_factory=lambda: [str(GENERAL_SAMPLE)])
    #: Fraction of every batch drawn from ``general`` (none when ``general`` is empty).
    general_share: float = 0.5
    adapt: str = "all"
    #: Weight of the summed squared distance of the adapted weights from the starting ones.
    anchor: float = 0.0
    lr: float = 1e-4
    batch: int = 8
    resize_mode: str = "crop"
    frame_stride: int = 1
    holdout: float = camera.HOLDOUT
    eval_frames: int = 100
    seed: int = 0
    threads: int = 0
    precision: str = "auto"
    command: str = ""

    def check(self) -> None:
        """ValueError (one line) for settings that cannot run."""
        if self.minutes < 0 or (self.minutes == 0 and self.steps <= 0):
            raise ValueError("give --minutes M (> 0) or --steps N (> 0)")
        if self.steps < 0:
            raise ValueError(f"--steps {self.steps}: must be > 0")
        if self.adapt not in ADAPT_MODES:
            raise ValueError(f"--adapt {self.adapt}: use one of {', '.join(ADAPT_MODES)}")
        if not 0 <= self.general_share < 1:
            raise ValueError(f"--general-share {self.general_share}: must be in [0, 1)")
        if self.anchor < 0 or self.lr <= 0 or self.batch < 1 or self.frame_stride < 1:
            raise ValueError("--anchor must be >= 0, --lr > 0, --batch and --frame-stride >= 1")
        if not 0 < self.holdout < 1:
            raise ValueError(f"holdout {self.holdout}: must be in (0, 1)")


def trainable(model: CodecModel, adapt: str) -> list[tuple[str, torch.nn.Parameter]]:
    """The parameters ``adapt`` (one of ``ADAPT_MODES``) trains; the others are frozen."""
    def wanted(name: str) -> bool:
        if adapt == "all":
            return True
        if adapt == "decoder":
            return not name.startswith("encoder.")
        return name.endswith(".bias") or name.endswith(".beta")
    chosen = [(n, p) for n, p in model.named_parameters() if wanted(n)]
    for _, p in model.named_parameters():
        p.requires_grad_(False)
    for _, p in chosen:
        p.requires_grad_(True)
    return chosen


class MixedSampler:
    """Batches of camera samples with a share of general photos (the forgetting guard)."""

    def __init__(self, cam: camera.CameraSampler, general: CropSampler | None,
                 share: float) -> None:
        self.cam, self.general = cam, general
        self.share = share if general is not None else 0.0

    def batch(self, n: int) -> np.ndarray:
        """``n`` samples, uint8 (n, 64, 64, 3): ``round(n * share)`` general ones last."""
        k = int(round(n * self.share))
        parts = [self.cam.batch(n - k)]
        if k and self.general is not None:
            parts.append(self.general.batch(k))
        return np.concatenate(parts)


def _rates(init_meta: dict[str, Any]) -> tuple[float, float]:
    """Lambda at quality 1 and 0 the starting weights were trained with."""
    t = init_meta.get("training", {})
    if t.get("lmbda") and t.get("lmbda_q0"):
        return float(t["lmbda"]), float(t["lmbda_q0"])
    b = bundled_settings()
    return b["lmbda"], b["lmbda_q0"]


class Finetuner:
    """One fine-tuning run: data and model are loaded (and checked) on construction."""

    def __init__(self, config: FinetuneConfig, progress: bool = True) -> None:
        config.check()
        self.config = config
        self.progress = progress
        if config.threads > 0:
            torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        self.init_path = resolve(config.init or None)
        loaded = load_weights(self.init_path)  # WeightsError names the file
        if not loaded.model.variable_rate:
            raise ValueError(f"--init {self.init_path}: fine-tuning needs a variable-rate model "
                             f"(preset {loaded.model.preset} is fixed-rate)")
        self.init_meta = loaded.metadata
        self.start_id = loaded.model_id
        self.model = loaded.model.train()
        self.lmbda, self.lmbda_q0 = _rates(loaded.metadata)
        # The starting model's MS-SSIM term (the bundled one has one): fine-tuning without it
        # would pull the model back towards squared error alone.
        self.objective = replace(Objective.of_metadata(loaded.metadata),
                                 lmbda_q1=self.lmbda, lmbda_q0=self.lmbda_q0)
        footage = camera.load_footage(config.data, config.topic or None, config.resize_mode,
                                      config.frame_stride)
        self.train_seq, self.held_seq = camera.split_footage(footage, config.holdout)
        self.held_frames = camera.camera_eval_frames(self.held_seq, config.eval_frames)
        general = None
        if config.general:
            images, weights = load_balanced(config.general, VAL_STRIDE, progress=False)
            if not images:
                raise camera.FootageError(f"no images in --general {' '.join(config.general)}")
            general = CropSampler(images, seed=config.seed + 1, weights=weights)
        self.val_frames = crops_of(load_frames(config.val, VAL_STRIDE, progress=False)) \
            if config.val else np.zeros((0, 64, 64, 3), np.uint8)
        if config.val and not len(self.val_frames):
            raise camera.FootageError(f"no images in --val {' '.join(config.val)}")
        self.sampler = MixedSampler(camera.CameraSampler(self.train_seq, config.seed),
                                    general, config.general_share)
        self.params = trainable(self.model, config.adapt)
        self.start = {n: p.detach().clone() for n, p in self.params}
        self.opt = torch.optim.Adam([p for _, p in self.params], lr=config.lr)
        self.autocast = _autocast_dtype(config.precision)
        self.step = 0
        self.elapsed = 0.0
        self.interrupted = False
        self.losses: list[float] = []
        self._start_curves: dict[str, list[RDPoint]] = {}

    @property
    def train_frames(self) -> int:
        """Camera frames trained on."""
        return sum(len(s.frames) for s in self.train_seq)

    @property
    def held_count(self) -> int:
        """Later camera frames held out."""
        return sum(len(s.frames) for s in self.held_seq)

    def train_step(self, x: torch.Tensor) -> float:
        """One rate-distortion update (plus the starting model's MS-SSIM and anchor terms)."""
        n = x.shape[0]
        qbytes = torch.randint(0, 256, (n,))
        with torch.autocast(device_type="cpu", dtype=self.autocast or torch.bfloat16,
                            enabled=self.autocast is not None):
            out = self.model(x, qbytes=qbytes)
        loss, _, _ = rd_loss(out, x, qbytes, self.objective)
        if self.config.anchor:
            drift = sum(((p - self.start[k]) ** 2).sum() for k, p in self.params)
            loss = loss + self.config.anchor * drift
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in self.params], 1.0)
        self.opt.step()
        return float(loss.item())

    def train(self) -> None:
        """Train until the step count or the deadline; Ctrl-C ends early (weights kept)."""
        cfg = self.config
        seconds = cfg.minutes * 60.0
        began = time.monotonic()
        bar = tqdm(total=round(seconds) if seconds else cfg.steps,
                   unit="s" if seconds else "step", desc="fine-tune", dynamic_ncols=True,
                   mininterval=1.0, disable=not self.progress or None,
                   bar_format=("{l_bar}{bar}| {n_fmt}/{total_fmt} s, {remaining} left"
                               "{postfix}") if seconds else None)
        batches = Prefetcher(self.sampler, cfg.batch)
        try:
            while (not cfg.steps or self.step < cfg.steps) and \
                    (not seconds or time.monotonic() - began < seconds):
                x = torch.from_numpy(batches.next()).permute(0, 3, 1, 2).float().div_(255.0)
                self.losses.append(self.train_step(x))
                self.step += 1
                if seconds:
                    bar.update(min(round(seconds), round(time.monotonic() - began)) - bar.n)
                else:
                    bar.update(1)
                if self.step % 20 == 0:
                    bar.set_postfix(step=self.step, loss=f"{np.mean(self.losses[-20:]):.2f}")
        except KeyboardInterrupt:
            self.interrupted = True
        finally:
            batches.close()
            bar.close()
            self.elapsed = time.monotonic() - began

    def frozen_model(self) -> CodecModel:
        """A CPU eval copy whose model id differs from the starting weights' (payload safety)."""
        model = copy.deepcopy(self.model).eval()
        for p in model.parameters():
            p.requires_grad_(False)
        # A 16-bit id collides once in 65,536 runs: then nudge one bias by a float step so a
        # decoder holding the starting weights refuses the new payloads instead of misreading
        bias = next(p for n, p in model.named_parameters() if n.endswith(".bias"))
        while compute_model_id(model_tensors(model, model.freeze_tables()), model.preset,
                               model.config) == self.start_id:
            with torch.no_grad():
                bias.view(-1)[0] = torch.nextafter(bias.view(-1)[0], torch.tensor(math.inf))
        return model

    def metadata(self) -> dict[str, Any]:
        """What the weights file records about this run."""
        return {"training": {**asdict(self.config), "finetune": True,
                             "init": str(self.init_path), "init_model_id": self.start_id,
                             "lmbda": self.lmbda, "lmbda_q0": self.lmbda_q0,
                             "msssim_weight": self.objective.msssim_weight,
                             "msssim_mode": self.objective.msssim_mode,
                             "steps_done": self.step, "wall_time_s": round(self.elapsed, 1),
                             "interrupted": self.interrupted,
                             "train_frames": self.train_frames,
                             "held_out_frames": self.held_count,
                             "frame_strides": [s.stride * self.config.frame_stride
                                               for s in self.train_seq],
                             "torch": torch.__version__}}

    def measure(self, weights: Path) -> dict[str, Any]:
        """BD-rate of ``weights`` against the starting weights: camera's later frames, --val."""
        out: dict[str, Any] = {}
        sets = [("camera", self.held_frames)]
        if len(self.val_frames):
            sets.append(("general", self.val_frames))
        for name, frames in sets:
            new = [p for p, _ in weights_curve(weights, frames, "new", list(SWEEP))]
            if name not in self._start_curves:  # measured once per run
                self._start_curves[name] = [p for p, _ in weights_curve(
                    self.init_path, frames, "start", list(SWEEP))]
            old = self._start_curves[name]
            out[name] = {"frames": int(len(frames)),
                         "bd_rate_psnr": round(bd_rate(new, old, "psnr"), 2),
                         "bd_rate_ms_ssim": round(bd_rate(new, old, "ms_ssim"), 2),
                         "new": [_short(p) for p in new], "start": [_short(p) for p in old]}
        return out


def _short(p: RDPoint) -> dict[str, float]:
    return {"bytes": round(p.bytes_per_frame, 1), "psnr": round(p.psnr, 3),
            "ms_ssim": round(p.ms_ssim, 5)}


def write_run(tuner: Finetuner, out: Path, measure: bool = True,
              export: bool = False) -> dict[str, Any]:
    """Weights, model card (and ONNX export) into a folder beside ``out``, renamed at the end.

    Returns the metadata written. ``out`` must not exist or be empty.
    """
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model = tuner.frozen_model()
        meta = tuner.metadata()
        path = tmp / "weights.safetensors"
        written = save_weights(path, model, model.freeze_tables(), meta)
        if measure:
            try:
                meta["evaluation"] = {"finetune": tuner.measure(path)}
                written = save_weights(path, model, model.freeze_tables(), meta)
            except KeyboardInterrupt:  # Ctrl-C while measuring: keep the weights, unmeasured
                pass
        (tmp / "model_card.md").write_text(model_card(written))
        if export:
            from ..codec.nn.export import export as onnx_export

            onnx_export(path, tmp / "onnx", command=tuner.config.command)
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp's folder is private; OUT is an ordinary one
        if out.exists():
            out.rmdir()  # empty (checked before training)
        tmp.replace(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return written


def model_card(meta: dict[str, Any]) -> str:
    """Markdown model card of fine-tuned weights."""
    t = meta["training"]
    ev = meta.get("evaluation", {}).get("finetune", {})
    lines = [
        f"# Model card: {meta['preset']} codec fine-tuned to one camera, model id "
        f"{meta['model_id']}", "",
        f"- Started from: {t['init']} (model id {t['init_model_id']})",
        f"- Camera data: {', '.join(t['data'])} ({t['train_frames']} earlier frames trained "
        f"on, {t['held_out_frames']} later frames held out; frame strides "
        f"{t['frame_strides']}; resize {t['resize_mode']})",
        f"- General photos mixed in: {', '.join(t['general']) or 'none'}"
        + (f" ({t['general_share']:.0%} of each batch)" if t["general"] else ""),
        f"- Adapted: {t['adapt']} weights; anchor {t['anchor']}; lr {t['lr']}; batch "
        f"{t['batch']}; lambda {t['lmbda']} at quality 1 to {t['lmbda_q0']} at quality 0",
        f"- Command: `{t['command']}`",
        f"- Steps: {t['steps_done']} in {t['wall_time_s']} s"
        + (" (stopped by Ctrl-C)" if t["interrupted"] else "") + f" (torch {t['torch']})",
        "- The receiving side needs this same file: payloads are bound to model id "
        f"{meta['model_id']}, and a decoder with other weights refuses them.",
    ]
    for name, label in (("camera", "the camera's later frames"), ("general", "general photos")):
        if name in ev:
            e = ev[name]
            lines.append(f"- BD-rate against the starting weights on {label} ({e['frames']} "
                         f"frames, quality sweep {SWEEP[0]:g}..{SWEEP[-1]:g}): "
                         f"{e['bd_rate_psnr']:+.1f}% (PSNR), {e['bd_rate_ms_ssim']:+.1f}% "
                         "(MS-SSIM); negative: fewer bytes for the same quality")
    if not ev:
        lines.append("- Not measured (the run was stopped before the measurement)")
    return "\n".join(lines) + "\n"
