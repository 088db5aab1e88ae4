"""The public ``Codec``: uint8 RGB frames in, self-contained byte payloads out, and back.

The transforms run on a backend (``backend_torch``, ``backend_onnx``); everything else here
(validation, rounding to the tables, range coding, the payload format) is NumPy shared by
both, so a payload from either backend decodes on the other.
"""

from __future__ import annotations

import importlib.util
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from . import bitstream
from .bundled import (
    MODEL,
    ONNX_DIR,
    QUALITY_PRESETS,
    bundled_names,
    preset_quality,
    resolve,
    resolve_export,
    user_path,
)
from .choices import BACKENDS, ONNXRUNTIME, PRECISIONS, TORCH
from .context_coding import QUALITY_LEVELS, ContextCoder, ContextModel
from .errors import BitstreamError, ByteCapError, WeightsError
from .export_dir import is_export, read_export
from .presets import FRAME_SIZE
from .rangecoder import TableCoder
from .tables import CdfTables

if TYPE_CHECKING:
    from .nn.model import CodecModel
    from .temporal import Key, StreamDecoder, StreamEncoder

FRAME_SHAPE = (FRAME_SIZE, FRAME_SIZE, 3)


class Transforms(Protocol):
    """What a backend provides: the two transforms, NumPy in and out."""

    name: str
    device: Any
    precision: str
    latent_shape: tuple[int, int, int]

    @property
    def frozen(self) -> bool:
        """Whether the transforms run as frozen (traced) graphs."""

    def describe(self) -> str:
        """One line for logs."""

    def analyse(self, frames: np.ndarray) -> np.ndarray:
        """Float32 latent (N, C, h, w), not rounded, of uint8 RGB frames (N, 64, 64, 3)."""

    def synthesise(self, y_hat: np.ndarray) -> np.ndarray:
        """uint8 RGB frames (N, 64, 64, 3) of a float32 latent (N, C, h, w)."""


def torch_installed() -> bool:
    """Whether torch is installed here (without importing it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def torch_works() -> bool:
    """Whether torch imports: a broken wheel (as happens on Jetsons) counts as absent."""
    if not torch_installed():
        return False
    try:
        import torch  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def onnxruntime_installed() -> bool:
    """Whether onnxruntime is installed here (without importing it)."""
    try:
        return importlib.util.find_spec("onnxruntime") is not None
    except (ImportError, ValueError):
        return False


def choose_backend(backend: str, weights: str | Path | None, device: str = "cpu") -> str:
    """The backend that ``backend`` means for ``weights`` on ``device``.

    ``auto``: the fastest that is installed and has the weights in its form. An export
    directory, or a bundled name (which has a bundled export) on the CPU, runs on
    onnxruntime where it is installed: it starts in a fifth of torch's time, in a third of
    its memory, and writes the same payloads but for a rounding tie in about 1 frame in 400
    (README, Backends). A ``.safetensors`` file, or a GPU, runs on torch if it imports;
    without torch, everything runs on onnxruntime.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: use {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    if weights not in (None, "") and is_export(user_path(weights)):
        return ONNXRUNTIME
    bundled = weights in (None, "") or str(weights) in QUALITY_PRESETS
    if bundled and device == "cpu" and onnxruntime_installed() and is_export(ONNX_DIR / MODEL):
        return ONNXRUNTIME
    return TORCH if torch_works() else ONNXRUNTIME


class Codec:
    """A loaded codec. Batched; CPU by default; payloads decode alone, in any process."""

    def __init__(self, transforms: Transforms, tables: CdfTables | ContextModel, model_id: str,
                 metadata: dict | None = None, path: Path | None = None,
                 quality: float | None = None) -> None:
        self.transforms = transforms
        self.tables = tables
        self.model_id = model_id
        self.metadata = metadata or {}
        self.path = path
        self.latent_shape = transforms.latent_shape
        self._symbols_per_channel = self.latent_shape[1] * self.latent_shape[2]
        self._context: ContextCoder | None = None
        self._quality = quality
        if isinstance(tables, ContextModel):
            self._coder = TableCoder(tables.tables)
            self._context = ContextCoder(tables, self._coder)
        else:
            self._coder = TableCoder(tables)
            self._low = tables.lows.astype(np.float32).reshape(1, -1, 1, 1)
            self._high = tables.highs.astype(np.float32).reshape(1, -1, 1, 1)

    @classmethod
    def load(cls, weights: str | Path | None = None, device: str = "cpu",
             optimize: bool = True, backend: str = "auto", precision: str = "fp32",
             threads: int = 0) -> Codec:
        """Load the bundled default (None), a bundled name (``"low"``) or a weights file.

        The onnxruntime backend loads a bundled name's shipped export, or an export directory
        written by ``gan-compress-export``.

        ``backend``: ``torch``, ``onnxruntime`` or ``auto`` (``choose_backend``).
        ``precision``: ``fp32`` or ``fp16`` where the backend and device support it.
        ``threads``: CPU threads for the transforms (0: the runtime's default).
        ``optimize`` (torch on CPU): frozen graphs where exact (``inference.py``).
        """
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}: use {', '.join(PRECISIONS)}")
        if threads < 0:
            raise ValueError(f"threads={threads} must be >= 0 (0: the runtime's default)")
        if choose_backend(backend, weights, device) == ONNXRUNTIME:
            from .backend_onnx import OnnxTransforms

            found = read_export(resolve_export(weights))
            transforms: Transforms = OnnxTransforms(found, device, precision, threads)
            metadata = dict(found.manifest["source"].get("metadata", {}))
            return cls(transforms, found.tables, found.model_id, metadata, found.path,
                       preset_quality(weights))
        if not torch_installed():
            raise ValueError("backend torch needs PyTorch, which is not installed: install "
                             "torch, or use backend onnxruntime")
        from .nn.backend_torch import TorchTransforms
        from .nn.weights import load_weights

        path = resolve(weights)
        if is_export(path):
            raise WeightsError(f"weights {path}: an ONNX export runs on backend onnxruntime, "
                               "not torch")
        loaded = load_weights(path, "cpu")
        transforms = TorchTransforms(loaded.model, device, precision, optimize, threads)
        return cls(transforms, loaded.tables, loaded.model_id, loaded.metadata, path,
                   preset_quality(weights))

    @classmethod
    def from_model(cls, model: CodecModel, device: str = "cpu") -> Codec:
        """A codec from an in-memory model (freezes its tables now): for training and tests."""
        from .nn.backend_torch import TorchTransforms
        from .nn.weights import compute_model_id, model_tensors

        tables = model.freeze_tables()
        model_id = compute_model_id(model_tensors(model, tables), model.preset, model.config)
        return cls(TorchTransforms(model, device), tables, model_id)

    @property
    def backend(self) -> str:
        """``torch`` or ``onnxruntime``."""
        return self.transforms.name

    @property
    def device(self) -> Any:
        """The device: torch's (``auto`` resolved), or as given for onnxruntime.

        ``describe`` names the onnxruntime providers that run.
        """
        return self.transforms.device

    @property
    def precision(self) -> str:
        """``fp32`` or ``fp16``."""
        return self.transforms.precision

    @property
    def frozen(self) -> bool:
        """Whether the torch transforms run as frozen graphs (see ``inference.py``)."""
        return self.transforms.frozen

    def describe(self) -> str:
        """One line for logs: model id, preset, backend and where it runs."""
        rate = "" if self.default_quality is None else \
            f", variable rate, default quality {self.default_quality:g}"
        return (f"codec {self.model_id} ({self.metadata.get('preset', '?')}{rate}) from "
                f"{self.path} on {self.transforms.describe()}; range coder "
                f"{self._coder.implementation}")

    @staticmethod
    def bundled() -> list[str]:
        """Names of the bundled quality presets, lowest rate first."""
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

    @property
    def variable_rate(self) -> bool:
        """Whether ``encode`` takes a ``quality`` (a context model with gain units)."""
        return self._context is not None

    @property
    def default_quality(self) -> float | None:
        """The quality ``encode`` uses when none is given (None: a fixed-rate model)."""
        if self._context is None:
            return None
        if self._quality is not None:  # a named preset of the bundled model
            return self._quality
        return float(self.metadata.get("default_quality", 0.5))

    def quality_byte(self, quality: float | None) -> int:
        """The byte a payload carries for ``quality`` in [0, 1] (None: the default)."""
        if self._context is None:
            if quality is not None:
                raise ValueError("this model has one fixed rate: quality applies only to "
                                 "variable-rate models (preset compact2)")
            return 0
        if quality is None:
            quality = self.default_quality
        if isinstance(quality, bool) or not isinstance(quality, (int, float, np.floating)) \
                or not 0.0 <= float(quality) <= 1.0:
            raise ValueError(f"quality={quality!r} must be a number in [0, 1]")
        return int(round(float(quality) * (QUALITY_LEVELS - 1)))

    def latent_symbols(self, frames: np.ndarray) -> np.ndarray:
        """Quantized latent of ``frames`` as integers (N, C, H*W), clamped to the tables.

        Context models: the integer latent at the default quality, before coding.
        """
        arr = self._frames(frames)
        c, h, w = self.latent_shape
        if self._context is not None:
            return self.latent(arr).reshape(len(arr), c, h * w)
        if not len(arr):  # not every runtime accepts an empty batch
            return np.zeros((0, c, h * w), dtype=np.int32)
        y = np.round(self.transforms.analyse(arr))
        y = np.maximum(np.minimum(y, self._high), self._low)
        return (y - self._low).astype(np.int32).reshape(len(arr), c, h * w)

    def latent(self, frames: np.ndarray, quality: float | None = None) -> np.ndarray:
        """Context models: the integer latent (N, C, H, W) at ``quality``, before coding."""
        if self._context is None:
            raise ValueError("latent() is for context models; use latent_symbols()")
        arr = self._frames(frames)
        qbyte = self.quality_byte(quality)
        if not len(arr):
            return np.zeros((0, *self.latent_shape), dtype=np.int64)
        return self._gained(self.transforms.analyse(arr), qbyte)

    def _gained(self, y: np.ndarray, qbyte: int) -> np.ndarray:
        """The integer latent of an analysis output ``y`` at quality byte ``qbyte``."""
        assert self._context is not None
        gain = self._context.model.gain_enc[qbyte].reshape(1, -1, 1, 1)
        return np.round(y * gain).astype(np.int64)

    def encode(self, frames: np.ndarray, quality: float | None = None,
               max_bytes: int | None = None) -> list[bytes]:
        """Compress uint8 RGB frames (N, 64, 64, 3) or one (64, 64, 3) into payloads.

        ``quality`` in [0, 1] (0 fewest bytes, 1 most) for variable-rate models; None: the
        model's default. Fixed-rate models refuse it.

        ``max_bytes``: every payload at most this long, each at the highest quality that
        fits (at most ``quality``, if given, else 1). The analysis runs once; only the
        entropy coding is repeated, in a binary search over the quality byte. A frame that
        does not fit at quality 0 gets a thinner latent (``below_zero.py``): every cap of at
        least 40 bytes is met. Below that, a frame that cannot fit raises ``ByteCapError``
        naming its smallest size, with every frame's payload (None where none fits) in its
        ``payloads``.
        """
        if max_bytes is not None:
            return self._encode_capped(frames, quality, max_bytes)
        if self._context is None:
            self.quality_byte(quality)  # refuses a quality
            symbols = self.latent_symbols(frames)
            return [bitstream.pack(self.model_id, self._coder.encode(s)) for s in symbols]
        qbyte = self.quality_byte(quality)
        latent = self.latent(frames, quality)
        bodies = self._context.encode(latent, np.full(len(latent), qbyte))
        return [bitstream.pack_quality(self.model_id, qbyte, b) for b in bodies]

    def _encode_capped(self, frames: np.ndarray, quality: float | None,
                       max_bytes: int) -> list[bytes]:
        """``encode`` with a byte cap: a binary search over the quality byte per frame."""
        arr = self._frames(frames)
        self._check_cap(max_bytes)
        if not len(arr):
            return []
        y = self.transforms.analyse(arr)
        out: list[bytes | None] = []
        failed: ByteCapError | None = None
        for n in range(len(arr)):
            try:
                out.append(self._encode_capped_analysis(y[n:n + 1], quality, max_bytes))
            except ByteCapError as exc:  # the other frames are still coded
                out.append(None)
                failed = failed or ByteCapError(f"frame {n} {exc}", n, exc.smallest)
        if failed is not None:
            failed.payloads = out
            raise failed
        return [p for p in out if p is not None]

    def _check_cap(self, max_bytes: object) -> None:
        if self._context is None:
            raise ValueError("max_bytes needs a variable-rate model (preset compact2): a "
                             "fixed-rate model has one size per frame")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)) or \
                max_bytes < 1:
            raise ValueError(f"max_bytes={max_bytes!r} must be a positive integer")

    def _intra_from_analysis(self, y: np.ndarray, qbyte: int) -> bytes:
        """The intra payload of one frame's analysis output ``y`` (1, C, H, W) at ``qbyte``."""
        assert self._context is not None
        body = self._context.encode(self._gained(y, qbyte), np.array([qbyte]))[0]
        return bitstream.pack_quality(self.model_id, qbyte, body)

    def _encode_capped_analysis(self, y: np.ndarray, quality: float | None,
                                max_bytes: int) -> bytes:
        """The best intra payload of at most ``max_bytes`` for analysis output ``y``."""
        self._check_cap(max_bytes)
        ceiling = QUALITY_LEVELS - 1 if quality is None else self.quality_byte(quality)
        best = self._intra_from_analysis(y, 0)
        if len(best) > max_bytes:  # below quality 0: a thinner latent (below_zero.py)
            from .below_zero import thinned_payload
            return thinned_payload(self, y, max_bytes)
        low, high = 1, ceiling  # invariant: quality low - 1 fits
        while low <= high:
            mid = (low + high) // 2
            candidate = self._intra_from_analysis(y, mid)
            if len(candidate) <= max_bytes:
                best, low = candidate, mid + 1
            else:
                high = mid - 1
        return best

    def stream_encoder(self, key_interval: int = 30,
                       tables: str | Path | None = None) -> StreamEncoder:
        """Temporal mode (``temporal.py``): key frames every ``key_interval``, inter between.

        ``tables``: the temporal tables file (default: beside the weights, or the bundled
        model's). ``key_interval`` 1 codes every frame intra and needs no tables.
        """
        from .temporal import StreamEncoder, load_tables

        if key_interval != 1 and self._context is None:
            raise ValueError("temporal mode needs a variable-rate model (preset compact2)")
        loaded = load_tables(self, tables) if tables is not None else None
        return StreamEncoder(self, key_interval, loaded)

    def stream_decoder(self, tables: str | Path | None = None) -> StreamDecoder:
        """Decodes key and inter payloads in arrival order (None: its key frame is missing)."""
        from .temporal import StreamDecoder, load_tables

        return StreamDecoder(self, load_tables(self, tables) if tables is not None else None)

    def _key_of(self, payload: bytes, y: np.ndarray) -> Key:
        """What a key frame is to inter frames: the latent the decoder rebuilds, and bins."""
        from .temporal import Key, key_bins

        assert self._context is not None
        qbyte = bitstream.quality_of(payload)
        if qbyte == 0:  # perhaps thinned below quality 0 (below_zero.py): what it decodes to
            body = bitstream.unpack_quality(payload, self.model_id)[1]
            latent = self._context.decode([body], np.array([0]))
        else:
            _, latent = self._context.symbols(self._gained(y, qbyte), np.array([qbyte]))
        flat = latent.reshape(-1)
        return Key(flat, qbyte, key_bins(self._context, flat, qbyte), zlib.crc32(payload))

    def _decode_key(self, payload: bytes) -> tuple[np.ndarray, np.ndarray | None, int]:
        """One intra payload: the frame, its integer latent (context models) and quality."""
        if self._context is None:
            return self.decode([payload])[0], None, 0
        qbyte, body = bitstream.unpack_quality(payload, self.model_id)
        try:
            latent = self._context.decode([body], np.array([qbyte]))
        except Exception as exc:  # constriction reports corrupt data as various errors
            raise BitstreamError(f"corrupt payload: its range-coded body does not decode "
                                 f"({exc})") from None
        flat = latent.reshape(-1)
        return self._synthesise_latent(flat, qbyte), flat, qbyte

    def _synthesise_latent(self, latent: np.ndarray, qbyte: int) -> np.ndarray:
        """The frame (64, 64, 3) of one integer latent at quality byte ``qbyte``."""
        assert self._context is not None
        gain = self._context.model.gain_dec[qbyte].reshape(1, -1, 1, 1)
        y_hat = latent.reshape(1, *self.latent_shape) * gain
        return self.transforms.synthesise(y_hat.astype(np.float32))[0]

    def _symbols(self, payload: object) -> np.ndarray:
        body = bitstream.unpack(payload, self.model_id)  # type: ignore[arg-type]
        try:
            return self._coder.decode(body, self._symbols_per_channel)
        except Exception as exc:  # constriction reports corrupt data as various errors
            raise BitstreamError(f"corrupt payload: its range-coded body does not decode "
                                 f"({exc})") from None

    def _decode_context(self, items: list) -> np.ndarray:
        assert self._context is not None
        qbytes, bodies = [], []
        for i, payload in enumerate(items):
            try:
                qbyte, body = bitstream.unpack_quality(payload, self.model_id)
            except BitstreamError as exc:
                prefix = f"payload {i}: " if len(items) > 1 else ""
                raise BitstreamError(f"{prefix}{exc}") from None
            qbytes.append(qbyte)
            bodies.append(body)
        q = np.array(qbytes, dtype=np.int64)
        try:
            latent = self._context.decode(bodies, q)
        except Exception as exc:  # constriction reports corrupt data as various errors
            raise BitstreamError(f"corrupt payload: its range-coded body does not decode "
                                 f"({exc})") from None
        gain = self._context.model.gain_dec[q][:, :, None, None]
        return self.transforms.synthesise((latent * gain).astype(np.float32))

    def decode(self, payloads: Iterable[bytes] | bytes) -> np.ndarray:
        """Reconstruct uint8 RGB frames (N, 64, 64, 3); BitstreamError for bad payloads."""
        if isinstance(payloads, (bytes, bytearray, memoryview)):
            payloads = [bytes(payloads)]
        try:
            items = list(payloads)
        except TypeError:
            raise BitstreamError(f"payloads must be a list of bytes, got "
                                 f"{type(payloads).__name__}") from None
        if not items:
            return np.zeros((0, *FRAME_SHAPE), dtype=np.uint8)
        if self._context is not None:
            return self._decode_context(items)
        symbols = []
        for i, payload in enumerate(items):
            try:
                symbols.append(self._symbols(payload))
            except BitstreamError as exc:
                prefix = f"payload {i}: " if len(items) > 1 else ""
                raise BitstreamError(f"{prefix}{exc}") from None
        y_hat = np.stack(symbols).astype(np.float32).reshape(-1, *self.latent_shape) + self._low
        return self.transforms.synthesise(y_hat)
