"""The public ``Codec``: uint8 RGB frames in, self-contained byte payloads out, and back."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from . import bitstream
from .bundled import bundled_names, resolve
from .entropy import CdfTables
from .errors import BitstreamError
from .inference import frozen
from .model import CodecModel
from .presets import FRAME_SIZE
from .rangecoder import TableCoder
from .weights import compute_model_id, load_weights, model_tensors

FRAME_SHAPE = (FRAME_SIZE, FRAME_SIZE, 3)


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


class Codec:
    """A loaded codec. Batched; CPU by default; payloads decode alone, in any process."""

    def __init__(self, model: CodecModel, tables: CdfTables, model_id: str,
                 device: str | torch.device = "cpu", metadata: dict | None = None,
                 path: Path | None = None, optimize: bool = False) -> None:
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.tables = tables
        self.model_id = model_id
        self.metadata = metadata or {}
        self.path = path
        self._coder = TableCoder(tables)
        self._low = torch.from_numpy(tables.lows.astype(np.float32)).view(1, -1, 1, 1)
        self._high = torch.from_numpy(tables.highs.astype(np.float32)).view(1, -1, 1, 1)
        self._symbols_per_channel = model.latent_shape[1] * model.latent_shape[2]
        self._analyse, self._synthesise = self.model.analyse, self.model.synthesise
        if optimize and self.device.type == "cpu":  # frozen graphs: see inference.py
            self._analyse = frozen(self.model, "analyse", FRAME_SHAPE[::-1])
            self._synthesise = frozen(self.model, "synthesise", model.latent_shape,
                                      integer_input=True)

    @classmethod
    def load(cls, weights: str | Path | None = None, device: str = "cpu",
             optimize: bool = True) -> Codec:
        """Load bundled default (None), a bundled name (``"low"``), or a weights file.

        ``optimize`` runs the transforms as frozen graphs on CPU where that is exact
        (``inference.py``); False keeps the eager modules (for comparison).
        """
        path = resolve(weights)
        loaded = load_weights(path, "cpu")
        return cls(loaded.model, loaded.tables, loaded.model_id, device, loaded.metadata, path,
                   optimize=optimize)

    @classmethod
    def from_model(cls, model: CodecModel, device: str = "cpu") -> Codec:
        """A codec from an in-memory model (freezes its tables now): for training and tests."""
        tables = model.freeze_tables()
        model_id = compute_model_id(model_tensors(model, tables), model.preset, model.config)
        return cls(model, tables, model_id, device)

    @property
    def frozen(self) -> bool:
        """Whether both transforms run as frozen graphs (see ``inference.py``)."""
        return all(isinstance(f, torch.jit.ScriptModule)
                   for f in (self._analyse, self._synthesise))

    @staticmethod
    def bundled() -> list[str]:
        """Names of the bundled rate points, lowest rate first."""
        return bundled_names()

    def _frames(self, frames: np.ndarray) -> np.ndarray:
        arr = np.asarray(frames)
        if arr.ndim == 3:
            arr = arr[None]
        if arr.ndim != 4 or arr.shape[1:] != FRAME_SHAPE:
            raise ValueError(f"frames must be uint8 RGB of shape (N, 64, 64, 3) or (64, 64, 3), "
                             f"got shape {np.shape(frames)}")
        if arr.dtype != np.uint8:
            raise ValueError(f"frames must be uint8, got {arr.dtype}")
        return arr

    @torch.inference_mode()
    def latent_symbols(self, frames: np.ndarray) -> np.ndarray:
        """Quantized latent of ``frames`` as integers (N, C, H*W), clamped to the tables."""
        arr = self._frames(frames)
        x = torch.from_numpy(np.ascontiguousarray(arr)).to(self.device)
        x = x.permute(0, 3, 1, 2).float().div_(255.0)
        y = torch.round(self._analyse(x)).cpu()
        y = torch.maximum(torch.minimum(y, self._high), self._low)
        return (y - self._low).to(torch.int32).flatten(2).numpy()

    def encode(self, frames: np.ndarray) -> list[bytes]:
        """Compress uint8 RGB frames (N, 64, 64, 3) or one (64, 64, 3) into payloads."""
        symbols = self.latent_symbols(frames)
        return [bitstream.pack(self.model_id, self._coder.encode(s)) for s in symbols]

    def _symbols(self, index: int, payload: object) -> np.ndarray:
        body = bitstream.unpack(payload, self.model_id)  # type: ignore[arg-type]
        try:
            return self._coder.decode(body, self._symbols_per_channel)
        except Exception as exc:  # constriction reports corrupt data as various errors
            raise BitstreamError(f"corrupt payload: its range-coded body does not decode "
                                 f"({exc})") from None

    @torch.inference_mode()
    def decode(self, payloads: Iterable[bytes] | bytes) -> np.ndarray:
        """Reconstruct uint8 RGB frames (N, 64, 64, 3); BitstreamError for bad payloads."""
        if isinstance(payloads, (bytes, bytearray, memoryview)):
            payloads = [payloads]
        try:
            items = list(payloads)
        except TypeError:
            raise BitstreamError(f"payloads must be a list of bytes, got "
                                 f"{type(payloads).__name__}") from None
        if not items:
            return np.zeros((0, *FRAME_SHAPE), dtype=np.uint8)
        symbols = []
        for i, payload in enumerate(items):
            try:
                symbols.append(self._symbols(i, payload))
            except BitstreamError as exc:
                prefix = f"payload {i}: " if len(items) > 1 else ""
                raise BitstreamError(f"{prefix}{exc}") from None
        c, h, w = self.model.latent_shape
        y_hat = torch.from_numpy(np.stack(symbols)).float().view(-1, c, h, w) + self._low
        x_hat = self._synthesise(y_hat.to(self.device))
        x_hat = torch.clamp(x_hat, 0.0, 1.0).mul_(255.0).round_().to(torch.uint8)
        return x_hat.permute(0, 2, 3, 1).cpu().numpy()
