"""The torch backend: the reference transforms, eager or as frozen graphs (``inference.py``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..choices import TORCH
from ..presets import FRAME_SIZE
from .inference import frozen
from .model import CodecModel


def resolve_device(device: str | torch.device) -> torch.device:
    """``cpu``, ``cuda[:N]`` or ``auto`` (CUDA when available) as a torch device."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"unknown device {device!r}: use cpu, cuda or auto") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {device!r}: use cpu, cuda or auto")
    return dev


class TorchTransforms:
    """Analysis and synthesis of a ``CodecModel`` on a torch device; NumPy in and out."""

    name = TORCH

    def __init__(self, model: CodecModel, device: str | torch.device = "cpu",
                 precision: str = "fp32", optimize: bool = False, threads: int = 0) -> None:
        self.device = resolve_device(device)
        if precision == "fp16" and self.device.type != "cuda":
            # Measured: this CPU build runs half convolutions ~50x slower than fp32.
            raise ValueError("precision fp16 needs device cuda on the torch backend; on a CPU "
                             "use fp32, or the onnxruntime backend")
        if threads:
            torch.set_num_threads(threads)
        self.precision = precision
        self._dtype = torch.float16 if precision == "fp16" else torch.float32
        self.model = model.to(self.device, self._dtype).eval()
        self.latent_shape = model.latent_shape
        self._analyse: Callable[..., torch.Tensor] = self.model.analyse
        self._synthesise: Callable[..., torch.Tensor] = self.model.synthesise
        if optimize and self.device.type == "cpu":  # frozen graphs: see inference.py
            self._analyse = frozen(self.model, "analyse", (3, FRAME_SIZE, FRAME_SIZE))
            self._synthesise = frozen(self.model, "synthesise", model.latent_shape,
                                      integer_input=True)

    @property
    def frozen(self) -> bool:
        """Whether both transforms run as frozen graphs (see ``inference.py``)."""
        return all(isinstance(f, torch.jit.ScriptModule)
                   for f in (self._analyse, self._synthesise))

    def describe(self) -> str:
        """One line for logs: runtime, device, precision, path."""
        path = "frozen graphs" if self.frozen else "eager"
        return f"torch {torch.__version__} on {self.device}, {self.precision}, {path}"

    @torch.inference_mode()
    def analyse(self, frames: np.ndarray) -> np.ndarray:
        """Latent (N, C, h, w) float32, not rounded, of uint8 RGB frames (N, 64, 64, 3)."""
        x = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device)
        x = x.permute(0, 3, 1, 2).float().div_(255.0).to(self._dtype)
        return self._analyse(x).float().cpu().numpy()

    @torch.inference_mode()
    def synthesise(self, y_hat: np.ndarray) -> np.ndarray:
        """uint8 RGB frames (N, 64, 64, 3) from a latent (N, C, h, w)."""
        y = torch.from_numpy(y_hat).to(self.device, self._dtype)
        x_hat = self._synthesise(y).float()
        x_hat = torch.clamp(x_hat, 0.0, 1.0).mul_(255.0).round_().to(torch.uint8)
        return x_hat.permute(0, 2, 3, 1).cpu().numpy()
