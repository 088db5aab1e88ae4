"""The public ``Codec``: uint8 RGB frames in, self-contained byte payloads out, and back.

The transforms run on a backend (``backend_torch``, ``backend_onnx``); everything else here
(validation, rounding to the tables, range coding, the payload format) is NumPy shared by
both, so a payload from either backend decodes on the other.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from . import bitstream
from .bitstream import INTER_VERSIONS
from .bundled import WeightsRef, bundled_names
from .choices import BACKENDS, ONNXRUNTIME, PRECISIONS, TORCH, check_effort
from .coders import intra_coder
from .context_coding import QUALITY_LEVELS, ContextModel
from .errors import BitstreamError, ByteCapError, WeightsError
from .export_dir import is_export, read_export
from .intra import ContextIntraCoder, FixedRateCoder
from .latent import CodedFrame
from .presets import FRAME_SIZE
from .tables import CdfTables

if TYPE_CHECKING:
    from .nn.model import CodecModel
    from .temporal import StreamDecoder, StreamEncoder

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


def choose_backend(backend: str, weights: str | Path | WeightsRef | None,
                   device: str = "cpu") -> str:
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
    ref = WeightsRef.parse(weights)
    if ref.kind == "export":
        return ONNXRUNTIME
    if device == "cpu" and ref.has_bundled_export() and onnxruntime_installed():
        return ONNXRUNTIME
    return TORCH if torch_works() else ONNXRUNTIME


class Codec:
    """A loaded codec. Batched; CPU by default; payloads decode alone, in any process."""

    def __init__(self, transforms: Transforms, tables: CdfTables | ContextModel, model_id: str,
                 metadata: dict | None = None, path: Path | None = None,
                 quality: float | None = None, weights: WeightsRef | None = None) -> None:
        self.transforms = transforms
        self.tables = tables
        self.model_id = model_id
        self.metadata = metadata or {}
        self.path = path
        #: What ``load`` was given, parsed (None for a codec made in memory).
        self.weights = weights
        self.latent_shape = transforms.latent_shape
        #: The intra entropy coder of these weights (``coders.py``: one per payload kind).
        self.coder = intra_coder(tables, self.latent_shape, model_id)
        self._quality = quality
        self._search_model: Any = None  # the torch model effort > 0 searches with

    @classmethod
    def load(cls, weights: str | Path | WeightsRef | None = None, device: str = "cpu",
             optimize: bool = True, backend: str = "auto", precision: str = "fp32",
             threads: int = 0) -> Codec:
        """Load the bundled default (None), a bundled rate point (``"low"``) or a weights file.

        ``weights`` is parsed once into a ``WeightsRef`` (kept as ``codec.weights``).

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
        ref = WeightsRef.parse(weights)
        if choose_backend(backend, ref, device) == ONNXRUNTIME:
            from .backend_onnx import OnnxTransforms

            found = read_export(ref.export())
            transforms: Transforms = OnnxTransforms(found, device, precision, threads)
            metadata = dict(found.manifest["source"].get("metadata", {}))
            return cls(transforms, found.tables, found.model_id, metadata, found.path,
                       ref.quality, ref)
        if not torch_installed():
            raise ValueError("backend torch needs PyTorch, which is not installed: install "
                             "torch, or use backend onnxruntime")
        from .nn.backend_torch import TorchTransforms
        from .nn.weights import load_weights

        path = ref.safetensors()
        if is_export(path):
            raise WeightsError(f"weights {path}: an ONNX export runs on backend onnxruntime, "
                               "not torch")
        loaded = load_weights(path, "cpu")
        transforms = TorchTransforms(loaded.model, device, precision, optimize, threads)
        return cls(transforms, loaded.tables, loaded.model_id, loaded.metadata, path,
                   ref.quality, ref)

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
                f"{self.coder.implementation}")

    @staticmethod
    def bundled() -> list[str]:
        """Names of the bundled rate points, lowest rate first."""
        return bundled_names()

    def check_frames(self, frames: np.ndarray) -> np.ndarray:
        """``frames`` as uint8 RGB (N, 64, 64, 3); ValueError for any other shape or type."""
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
        return self.coder.variable_rate

    @property
    def default_quality(self) -> float | None:
        """The quality ``encode`` uses when none is given (None: a fixed-rate model)."""
        if not self.variable_rate:
            return None
        if self._quality is not None:  # a named rate point of the bundled model
            return self._quality
        return float(self.metadata.get("default_quality", 0.5))

    def quality_byte(self, quality: float | None) -> int:
        """The byte a payload carries for ``quality`` in [0, 1] (None: the default)."""
        if not self.variable_rate:
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

    def check_cap(self, max_bytes: object) -> None:
        """ValueError unless ``max_bytes`` is a positive integer and this model can meet it."""
        if not self.variable_rate:
            raise ValueError("max_bytes needs a variable-rate model (preset compact2): a "
                             "fixed-rate model has one size per frame")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)) or \
                max_bytes < 1:
            raise ValueError(f"max_bytes={max_bytes!r} must be a positive integer")

    # -- the latent layer (``latent.py``): frames -> latent -> CodedFrame -> frames ----------

    def analyse(self, frames: np.ndarray) -> np.ndarray:
        """The analysis transform's float32 latent (N, C, H, W) of frames, not rounded."""
        arr = self.check_frames(frames)
        if not len(arr):  # not every runtime accepts an empty batch
            return np.zeros((0, *self.latent_shape), dtype=np.float32)
        return self.transforms.analyse(arr)

    def quantize(self, y: np.ndarray, qbyte: int) -> np.ndarray:
        """The integer latent (N, C, H, W) of analysis output ``y`` at quality byte ``qbyte``."""
        return self.coder.quantize(y, np.full(len(y), qbyte, dtype=np.int64))

    def latent(self, frames: np.ndarray, quality: float | None = None) -> np.ndarray:
        """Context models: the integer latent (N, C, H, W) at ``quality``, before coding."""
        if not self.variable_rate:
            raise ValueError("latent() is for context models; use latent_symbols()")
        arr = self.check_frames(frames)
        qbyte = self.quality_byte(quality)
        return self.quantize(self.analyse(arr), qbyte)

    def latent_symbols(self, frames: np.ndarray) -> np.ndarray:
        """Quantized latent of ``frames`` as integers (N, C, H*W), clamped to the tables.

        Context models: the integer latent at the default quality, before coding.
        """
        arr = self.check_frames(frames)
        c, h, w = self.latent_shape
        if self.variable_rate:
            return self.latent(arr).reshape(len(arr), c, h * w)
        assert isinstance(self.coder, FixedRateCoder)
        return self.coder.symbols(self.quantize(self.analyse(arr), 0))

    def code_latent(self, latent: np.ndarray, quality: float | None = None, *,
                    qbyte: int | None = None) -> list[CodedFrame]:
        """Entropy-code integer latents (N, C, H, W) or one (C, H, W): one ``CodedFrame`` each.

        At ``quality`` in [0, 1] (None: the default) or directly at quality byte ``qbyte``.
        Each frame's ``latent`` is what a decoder rebuilds (clamped into the tables).
        """
        arr = np.asarray(latent)
        if arr.ndim == 3:
            arr = arr[None]
        if arr.shape[1:] != tuple(self.latent_shape) or arr.ndim != 4 or \
                not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"latent must be integers of shape (N, *{self.latent_shape}), "
                             f"got {arr.dtype} {np.shape(latent)}")
        if qbyte is None:
            qbyte = self.quality_byte(quality)
        elif not 0 <= qbyte < QUALITY_LEVELS or (qbyte and not self.variable_rate):
            raise ValueError(f"qbyte={qbyte} must be in [0, {QUALITY_LEVELS - 1}] (0 for a "
                             "fixed-rate model)")
        if not len(arr):
            return []
        return self.coder.code(arr.astype(np.int64), np.full(len(arr), qbyte, dtype=np.int64))

    def code_analysis(self, y: np.ndarray, qbyte: int) -> list[CodedFrame]:
        """Coded frames of analysis output ``y`` (N, C, H, W) at quality byte ``qbyte``."""
        return self.code_latent(self.quantize(y, qbyte), qbyte=qbyte)

    def code_to_cap(self, y: np.ndarray, quality: float | None, max_bytes: int,
                    below_zero: bool = True) -> CodedFrame:
        """The best intra frame of at most ``max_bytes`` for one analysis output ``y``.

        A binary search over the quality byte up to ``quality`` (None: 1); only the
        entropy coding repeats. Where even quality 0 does not fit: a thinner latent
        (``below_zero.py``), or ByteCapError naming quality 0's size if ``below_zero`` is
        False (a bit budget would rather wait for the bytes of a whole frame).
        """
        self.check_cap(max_bytes)
        ceiling = QUALITY_LEVELS - 1 if quality is None else self.quality_byte(quality)
        best = self.code_analysis(y, 0)[0]
        if len(best.payload) > max_bytes:  # below quality 0: a thinner latent, if allowed
            if not below_zero:
                raise ByteCapError(f"needs {len(best.payload)} bytes at quality 0, over the "
                                   f"cap of {max_bytes}", 0, len(best.payload))
            from .below_zero import thinned

            return thinned(self, y, max_bytes)
        low, high = 1, ceiling  # invariant: quality low - 1 fits
        while low <= high:
            mid = (low + high) // 2
            candidate = self.code_analysis(y, mid)[0]
            if len(candidate.payload) <= max_bytes:
                best, low = candidate, mid + 1
            else:
                high = mid - 1
        return best

    def encode_frames(self, frames: np.ndarray, quality: float | None = None,
                      max_bytes: int | None = None, effort: int = 0,
                      below_zero: bool = True) -> list[CodedFrame]:
        """``encode``, keeping each frame's latent and entropy tables (``CodedFrame``).

        ``below_zero`` False: no frame is thinned below quality 0 to meet ``max_bytes``
        (``code_to_cap``); one that does not fit raises ``ByteCapError`` as below 40 bytes.
        """
        effort = self.check_effort(effort)
        if max_bytes is not None:
            arr = self.check_frames(frames)
            self.check_cap(max_bytes)
            y = self.analyse(arr)
            found: list[CodedFrame | None] = []
            failed: ByteCapError | None = None
            for n in range(len(arr)):
                try:
                    found.append(self.code_to_cap(y[n:n + 1], quality, max_bytes,
                                                  below_zero))
                except ByteCapError as exc:  # the other frames are still coded
                    found.append(None)
                    failed = failed or ByteCapError(f"frame {n} {exc}", n, exc.smallest)
            if failed is not None:
                failed.payloads = [None if f is None else f.payload for f in found]
                raise failed
            out = [f for f in found if f is not None]
        else:
            qbyte = self.quality_byte(quality)  # refuses a quality on a fixed-rate model
            arr = self.check_frames(frames)
            y = self.analyse(arr)
            out = self.code_analysis(y, qbyte)
        if effort and out:
            out = self.search(arr, y, out, effort, max_bytes)
        return out

    def check_effort(self, effort: object) -> int:
        """``effort`` checked for these weights: in 0..9, and > 0 only where it can search.

        ValueError (one line) for a fixed-rate model, or where PyTorch or the torch weights
        are missing.
        """
        effort = check_effort(effort)
        if effort and not self.variable_rate:
            raise ValueError("effort needs a variable-rate model (preset compact2)")
        if effort:
            self._torch_model()
        return effort

    def search(self, frames: np.ndarray, y: np.ndarray, coded: list[CodedFrame], effort: int,
               max_bytes: int | None = None) -> list[CodedFrame]:
        """Frames searched (``nn/effort.py``) for cheaper latents at their coded quality.

        ``y``: the frames' analysis output; ``coded``: their single-pass frames. A searched
        frame replaces its single-pass one only where it fits ``max_bytes`` too.
        """
        model = self._torch_model()  # first: says so in one line where torch is missing
        from .nn.effort import refine
        from .nn.objective import Objective

        coder = self.coder
        assert isinstance(coder, ContextIntraCoder)
        qbytes = np.array([f.qbyte for f in coded], dtype=np.int64)

        def code(latent: np.ndarray, q: np.ndarray) -> tuple[list[bytes], np.ndarray]:
            frames = coder.code(latent, q)
            return [f.payload for f in frames], np.stack([f.latent for f in frames])

        latents, _ = refine(model, frames, coder.gained(y, qbytes), qbytes,
                            coder.model.gain_dec[qbytes], effort,
                            Objective.of_metadata(self.metadata), code)
        searched = coder.code(latents, qbytes)
        if max_bytes is None:
            return searched
        # a searched frame in place of a thinned one is below quality 0 too
        return [replace(s, below_zero=c.below_zero) if len(s) <= max_bytes else c
                for s, c in zip(searched, coded, strict=True)]

    def search_with(self, other: Codec) -> None:
        """Run effort > 0 searches with ``other``'s torch model, which must be this model.

        An ONNX export has no gradients: an onnxruntime codec loaded from one searches with
        the torch codec of the .safetensors it came from.
        """
        if other.model_id != self.model_id:
            raise ValueError(f"search_with: model {other.model_id}, not this codec's "
                             f"{self.model_id}")
        model = getattr(other.transforms, "model", None)
        if model is None:
            raise ValueError(f"search_with: {other.backend} codec has no torch model; load "
                             "the .safetensors with backend torch")
        self._search_model = model

    def _torch_model(self) -> Any:
        """The torch model an effort search runs (this codec's, or loaded from its weights)."""
        if self._search_model is not None:
            return self._search_model
        model = getattr(self.transforms, "model", None)
        if model is None:
            if not torch_works():
                raise ValueError("effort > 0 searches with PyTorch, which is not installed "
                                 "here (onnxruntime-only install): use effort 0, or install "
                                 "gan_compress_ros[torch]")
            from .nn.weights import load_weights

            path = None
            try:
                path = self.weights.safetensors() if self.weights is not None else None
            except (WeightsError, ValueError):
                path = None
            loaded = load_weights(path, "cpu") if path is not None and path.is_file() else None
            if loaded is None or loaded.model_id != self.model_id:
                raise ValueError(f"effort > 0 needs the .safetensors weights of model "
                                 f"{self.model_id} (an ONNX export alone has no gradients): "
                                 "load the .safetensors file, or use effort 0")
            model = loaded.model
        self._search_model = model
        return model

    def encode(self, frames: np.ndarray, quality: float | None = None,
               max_bytes: int | None = None, effort: int = 0) -> list[bytes]:
        """Compress uint8 RGB frames (N, 64, 64, 3) or one (64, 64, 3) into payloads.

        ``quality`` in [0, 1] (0 fewest bytes, 1 most) for variable-rate models; None: the
        model's default. Fixed-rate models refuse it.

        ``max_bytes``: every payload at most this long, each at the highest quality that
        fits (at most ``quality``, if given, else 1). The analysis runs once; only the
        entropy coding is repeated, in a binary search over the quality byte.

        ``effort`` 0..9 (variable-rate models): 0 is the single pass; higher values search
        longer (``nn/effort.py``, with PyTorch) for a latent that costs fewer bytes at the
        same distortion. The payloads decode with any decoder of these weights.

        A frame that does not fit at quality 0 gets a thinner latent (``below_zero.py``),
        down to the context model's most probable one: every cap of at least 40 bytes is
        met. Below that, a frame that cannot fit raises ``ByteCapError`` naming its smallest
        size, with every frame's payload (None where none fits) in its ``payloads``.
        """
        return [f.payload for f in self.encode_frames(frames, quality, max_bytes, effort)]

    def read_header(self, payload: object, inter: bool = False) -> bitstream.Header:
        """The checked header of one payload for this codec (``inter``: inter frames too)."""
        versions = self.coder.reads + (INTER_VERSIONS if inter else ())
        header = bitstream.read_header(payload, self.model_id, versions)
        if header.version in self.coder.reads:
            self.coder.check(header)
        return header

    def read(self, payloads: Iterable[bytes] | bytes) -> list[CodedFrame]:
        """Entropy-decode intra payloads to ``CodedFrame``s (no synthesis); BitstreamError."""
        if isinstance(payloads, (bytes, bytearray, memoryview)):
            payloads = [bytes(payloads)]
        try:
            items = list(payloads)
        except TypeError:
            raise BitstreamError(f"payloads must be a list of bytes, got "
                                 f"{type(payloads).__name__}") from None
        headers = []
        for i, payload in enumerate(items):
            try:
                headers.append(self.read_header(payload))
            except BitstreamError as exc:
                prefix = f"payload {i}: " if len(items) > 1 else ""
                raise BitstreamError(f"{prefix}{exc}") from None
        return self.coder.read(headers) if headers else []

    def synthesise(self, coded: Sequence[CodedFrame]) -> np.ndarray:
        """uint8 RGB frames (N, 64, 64, 3) of coded frames' latents."""
        if not coded:
            return np.zeros((0, *FRAME_SHAPE), dtype=np.uint8)
        latent = np.stack([f.latent for f in coded])
        qbytes = np.array([f.qbyte for f in coded], dtype=np.int64)
        return self.transforms.synthesise(self.coder.dequantize(latent, qbytes))

    def decode(self, payloads: Iterable[bytes] | bytes) -> np.ndarray:
        """Reconstruct uint8 RGB frames (N, 64, 64, 3); BitstreamError for bad payloads."""
        return self.synthesise(self.read(payloads))

    def stream_encoder(self, key_interval: int = 30,
                       tables: str | Path | None = None) -> StreamEncoder:
        """Temporal mode (``temporal.py``): key frames every ``key_interval``, inter between.

        ``tables``: the temporal tables file (default: beside the weights, or the bundled
        model's). ``key_interval`` 1 codes every frame intra and needs no tables.
        """
        from .temporal import StreamEncoder, load_tables

        if key_interval != 1 and not self.variable_rate:
            raise ValueError("temporal mode needs a variable-rate model (preset compact2)")
        loaded = load_tables(self, tables) if tables is not None else None
        return StreamEncoder(self, key_interval, loaded)

    def stream_decoder(self, tables: str | Path | None = None) -> StreamDecoder:
        """Decodes key and inter payloads in arrival order (None: its key frame is missing)."""
        from .temporal import StreamDecoder, load_tables

        return StreamDecoder(self, load_tables(self, tables) if tables is not None else None)
