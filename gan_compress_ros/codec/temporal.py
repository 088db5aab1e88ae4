"""Temporal mode: key frames, and inter frames coded against the latest key frame only.

A key frame is an ordinary intra payload (it decodes alone). An inter frame carries the
change of the integer latent since its key frame, never since the previous inter frame, so
a lost inter frame costs one frame, a lost key frame costs the frames until the next key,
and a late joiner waits at most ``key_interval`` frames.

Inter payload (format version 5), 4 bytes of header:
``[version 5][model tag: 1 byte][check: 1 byte][key tag: 1 byte][range-coded body]``
(version 3, still read, has the whole 2-byte model id in place of the model tag). The key
tag is a byte of the key payload's CRC-32, and the check byte is the low byte of a CRC-32
of the body and the model id seeded with the key's CRC-32 and the temporal tables' CRC-32:
a decoder that holds another key or other tables rejects the payload (255 times in 256)
instead of showing a wrong picture; one with other weights never holds the key (it refused
the key frame), and its model tag or check byte refuses the payload. Inter frames use their
key frame's quality.

The body: one flag per latent position (4x4) saying whether anything changed there, then
the change of every channel at the changed positions, each coded with the table of its
key element's scale (the context model's own scale index, an integer), so the
probabilities are integers on every backend and machine, as on the intra path.

Inter frames carry the change in units of ``step`` latent steps (part of the tables, so
part of the bitstream): coarser than the key frame, as video codecs quantize predicted
frames more coarsely than key frames. The rest are the encoder's choices, not in the
bitstream: changes smaller than ``0.5 + deadzone`` steps are not sent, nor positions whose
changes sum to at most ``skip_sum`` steps (camera noise that flips a rounding), and key
frames are coded ``key_boost`` above the requested quality, since every inter frame shows
the key's picture where nothing moved. Measured on the surveillance clip, these give the
same PSNR as intra frames at the requested quality for about a quarter of the bytes
(docs/temporal.md).
"""

from __future__ import annotations

import json
import zlib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .bitstream import INTER_VERSION, INTER_VERSIONS
from .bundled import BUNDLED_DIR, EXPORT_TABLES, TABLES_SUFFIX, WeightsRef
from .errors import BitstreamError, WeightsError
from .export_dir import share
from .inter import (
    FLAG_TABLE,
    HEADER_BYTES,
    RESIDUAL_RANGE,
    SCALE_BINS,
    SCALE_PER_BIN,
    InterCoder,
    Key,
)
from .intra import ContextIntraCoder
from .latent import CodedFrame
from .tables import CdfTables, quantize_pmf

if TYPE_CHECKING:
    from .api import Codec

#: Key frames a decoder keeps, so that an inter frame overtaken by the next key still decodes.
KEYS_HELD = 4
#: Bitstream: inter frames carry changes in units of this many latent steps.
DEFAULT_STEP = 3
#: Encoder defaults, stored with the tables they were fitted with.
DEFAULT_DEADZONE = 0.1
DEFAULT_SKIP_SUM = 0
#: Key frames' quality above the requested one. The bytes it buys depend on the model's
#: quality curve: 0.3 suited c436; model 184a, whose bytes rise faster with quality, shows
#: the intra picture's PSNR at the default quality with 0.2, as do its successors (temporal.md).
DEFAULT_KEY_BOOST = 0.2
DEFAULT_RD_LAMBDA = 1.0
__all__ = ["EXPORT_TABLES", "FLAG_TABLE", "HEADER_BYTES", "INTER_VERSION", "RESIDUAL_RANGE",
           "SCALE_BINS", "SCALE_PER_BIN", "TABLES_SUFFIX", "InterCoder", "Key"]


@dataclass(frozen=True)
class Settings:
    """How inter frames are made: ``step`` is the bitstream's, the rest the encoder's."""

    step: int = DEFAULT_STEP
    deadzone: float = DEFAULT_DEADZONE
    skip_sum: int = DEFAULT_SKIP_SUM
    key_boost: float = DEFAULT_KEY_BOOST
    rd_lambda: float = DEFAULT_RD_LAMBDA


@dataclass(frozen=True)
class TemporalTables:
    """The inter path's integer tables for one model, and the encoder settings they fit."""

    model_id: str
    tables: CdfTables  # 1 + SCALE_BINS rows
    step: int = DEFAULT_STEP
    deadzone: float = DEFAULT_DEADZONE
    skip_sum: int = DEFAULT_SKIP_SUM
    key_boost: float = DEFAULT_KEY_BOOST
    rd_lambda: float = DEFAULT_RD_LAMBDA
    metadata: dict = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        """The settings the tables were fitted with."""
        return Settings(self.step, self.deadzone, self.skip_sum, self.key_boost, self.rd_lambda)

    @property
    def crc(self) -> int:
        """CRC-32 of the integer tables: mixed into every inter payload's check byte."""
        crc = 0
        for arr in (self.tables.offsets, self.tables.lengths, self.tables.pmf,
                    np.array([self.step])):
            crc = zlib.crc32(np.ascontiguousarray(arr, dtype="<i4").tobytes(), crc)
        return crc

    def validate(self) -> None:
        """Raise ValueError unless the tables have the shape and range the coder needs."""
        self.tables.validate(1 + SCALE_BINS)
        if self.tables.lengths[FLAG_TABLE] != 2 or self.tables.offsets[FLAG_TABLE] != 0:
            raise ValueError("temporal flag table must have 2 symbols from 0")
        rest = slice(1, None)
        if np.any(self.tables.offsets[rest] != -RESIDUAL_RANGE) or \
                np.any(self.tables.lengths[rest] != 2 * RESIDUAL_RANGE + 1):
            raise ValueError(f"temporal residual tables must span +-{RESIDUAL_RANGE}")
        if not 1 <= self.step <= 16:
            raise ValueError(f"temporal step {self.step} must be in [1, 16]")
        if not 0.0 <= self.deadzone < 4.0 or self.skip_sum < 0 or \
                not 0.0 <= self.key_boost <= 1.0 or not 0.0 <= self.rd_lambda < 1e6:
            raise ValueError("temporal deadzone must be in [0, 4), skip_sum >= 0, key_boost "
                             "in [0, 1], rd_lambda in [0, 1e6)")

    def save(self, path: str | Path) -> None:
        """Write the tables and their metadata (safetensors, no pickle)."""
        from safetensors.numpy import save_file

        meta = dict(self.metadata, model_id=self.model_id, deadzone=self.deadzone,
                    skip_sum=self.skip_sum, key_boost=self.key_boost, rd_lambda=self.rd_lambda)
        save_file({"temporal.offsets": self.tables.offsets.astype(np.int32),
                   "temporal.lengths": self.tables.lengths.astype(np.int32),
                   "temporal.pmf": self.tables.pmf.astype(np.int32),
                   "temporal.step": np.array([self.step], dtype=np.int32)}, str(path),
                  metadata={"temporal": json.dumps(meta, sort_keys=True)})
        share(Path(path))

    @classmethod
    def load(cls, path: str | Path) -> TemporalTables:
        """Read and validate a tables file; WeightsError names the file and what is wrong."""
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="numpy") as f:
                meta = json.loads((f.metadata() or {}).get("temporal", "{}"))
                arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
            tables = CdfTables(arrays["temporal.offsets"], arrays["temporal.lengths"],
                               arrays["temporal.pmf"])
            step = arrays["temporal.step"]
            for arr in (tables.offsets, tables.lengths, tables.pmf, step):
                if arr.dtype != np.int32:
                    raise ValueError("arrays must be int32")
            if step.shape != (1,):
                raise ValueError("temporal.step must hold one integer")
            out = cls(str(meta["model_id"]), tables, int(step[0]), float(meta["deadzone"]),
                      int(meta["skip_sum"]), float(meta["key_boost"]),
                      float(meta.get("rd_lambda", DEFAULT_RD_LAMBDA)), meta)
            out.validate()
        except (OSError, SafetensorError, KeyError, ValueError, TypeError,
                json.JSONDecodeError) as exc:
            raise WeightsError(f"temporal tables {path}: not a valid tables file ({exc})") \
                from None
        return out


def tables_from_counts(model_id: str, flags: np.ndarray, residuals: np.ndarray,
                       settings: Settings, metadata: dict) -> TemporalTables:
    """Tables from counts: ``flags`` (2,), ``residuals`` (SCALE_BINS, 2 * RANGE + 1).

    A bin with few counts borrows the shape of all bins pooled (20 samples' weight), and
    every symbol keeps a probability of at least 2**-16, so no change is impossible.
    """
    pooled = residuals.sum(0) + 0.5
    pooled = pooled / pooled.sum()
    pmfs = [quantize_pmf(flags.astype(np.float64) + 0.5)]
    for row in residuals:
        pmfs.append(quantize_pmf(row + 20.0 * pooled))
    offsets = np.array([0] + [-RESIDUAL_RANGE] * SCALE_BINS, dtype=np.int32)
    tables = TemporalTables(model_id, CdfTables.from_pmfs(offsets, pmfs), settings.step,
                            settings.deadzone, settings.skip_sum, settings.key_boost,
                            settings.rd_lambda, metadata)
    tables.validate()
    return tables


def find_tables(codec: Codec) -> Path | None:
    """Where a codec's temporal tables lie: beside its weights, in its export, or bundled."""
    for candidate in WeightsRef.tables_beside(codec.path):
        if candidate.is_file():
            return candidate
    return None


def load_tables(codec: Codec, path: str | Path | None = None) -> TemporalTables:
    """The temporal tables of ``codec``: from ``path``, else ``find_tables``; checked."""
    if not codec.variable_rate:
        raise ValueError("temporal mode needs a variable-rate model (preset compact2)")
    found = Path(path) if path is not None else find_tables(codec)
    if found is None or not found.is_file():
        where = f"{path}" if path is not None else f"beside {codec.path}"
        raise WeightsError(f"no temporal tables for model {codec.model_id} ({where}): fit "
                           "them with gan-compress-fit-temporal --weights WEIGHTS --data "
                           "VIDEOS_OR_BAGS")
    tables = TemporalTables.load(found)
    if tables.model_id != codec.model_id:
        if path is None and found.parent == BUNDLED_DIR:
            raise WeightsError(f"no temporal tables for model {codec.model_id} (the bundled "
                               f"ones are for model {tables.model_id}): fit them with "
                               "gan-compress-fit-temporal --weights WEIGHTS --data "
                               "VIDEOS_OR_BAGS")
        raise WeightsError(f"temporal tables {found} are for model {tables.model_id}, the "
                           f"codec is model {codec.model_id}")
    return tables


def residual(u: np.ndarray, key: np.ndarray, shape: tuple[int, int, int],
             settings: Settings) -> np.ndarray:
    """The change an inter frame sends, in steps: latent ``u`` (float, gained) minus ``key``.

    Changes below ``0.5 + deadzone`` steps are not sent, nor positions whose changes sum to
    at most ``skip_sum`` steps.
    """
    r = (u.reshape(-1) - key) / settings.step
    d = np.where(np.abs(r) < 0.5 + settings.deadzone, 0.0, np.round(r)).astype(np.int64)
    c, h, w = shape
    per_pos = d.reshape(c, h * w)
    per_pos[:, np.abs(per_pos).sum(0) <= settings.skip_sum] = 0
    return d


class StreamEncoder:
    """Encodes a camera's frames in order: a key frame every ``key_interval``, inter between.

    ``encode(frame)`` returns the inter payload where it costs less than the intra one in
    bytes and error (``_inter_frame``), else the intra one, which starts a new key frame
    (a scene change, a moving camera). ``quality`` and ``max_bytes`` work as in
    ``Codec.encode``; a quality change takes effect at the next key frame, since inter
    frames use their key's. ``key_interval`` 1: every frame intra, exactly ``Codec.encode``.
    """

    def __init__(self, codec: Codec, key_interval: int = 30,
                 tables: TemporalTables | None = None) -> None:
        if isinstance(key_interval, bool) or not isinstance(key_interval, (int, np.integer)) \
                or key_interval < 1:
            raise ValueError(f"key_interval={key_interval!r} must be an integer >= 1")
        self.codec = codec
        self.key_interval = int(key_interval)
        self.tables = None if key_interval == 1 else \
            tables if tables is not None else load_tables(codec)
        self._inter = InterCoder(self.tables, codec.latent_shape, codec.model_id) \
            if self.tables else None
        self.key: Key | None = None
        self._since_key = 0
        self._key_len = 0
        self.keys = self.inters = 0
        self.key_bytes = self.inter_bytes = 0

    def encode(self, frame: np.ndarray, quality: float | None = None,
               max_bytes: int | None = None) -> bytes:
        """The payload for the next frame (uint8 RGB (64, 64, 3)); ByteCapError as ``encode``."""
        return self.encode_frame(frame, quality, max_bytes).payload

    def encode_frame(self, frame: np.ndarray, quality: float | None = None,
                     max_bytes: int | None = None, effort: int = 0,
                     below_zero: bool = True) -> CodedFrame:
        """``encode``, keeping the frame's kind, quality and latent (``CodedFrame``).

        ``effort`` (``Codec.encode``) applies to intra streams (key interval 1); key frames
        of temporal mode are coded in a single pass, as inter frames are. ``below_zero``:
        as ``Codec.encode_frames``.
        """
        codec = self.codec
        arr = codec.check_frames(frame)
        if len(arr) != 1:
            raise ValueError("stream_encoder().encode takes one frame (64, 64, 3)")
        if self.tables is not None:  # checked here too: an inter frame does not use them
            codec.quality_byte(quality)
            if max_bytes is not None:
                codec.check_cap(max_bytes)
        if self.tables is None:  # key_interval 1 (any model): intra, as Codec.encode
            self.keys += 1
            return codec.encode_frames(arr, quality=quality, max_bytes=max_bytes,
                                       effort=effort, below_zero=below_zero)[0]
        y = codec.analyse(arr)
        if self.key is not None and self._since_key < self.key_interval:
            inter = self._inter_frame(y, self.key, max_bytes)
            if inter is not None:
                self._since_key += 1
                self.inters += 1
                self.inter_bytes += len(inter.payload)
                return inter
        return self._key_frame(y, quality, max_bytes, below_zero)

    def _key_frame(self, y: np.ndarray, quality: float | None, max_bytes: int | None,
                   below_zero: bool = True) -> CodedFrame:
        codec = self.codec
        if self.tables is not None and (quality is not None or max_bytes is None):
            # key frames a little above the requested quality (with a cap and no quality,
            # the best that fits, up to 1, as Codec.encode)
            default = codec.default_quality
            base = float(quality) if quality is not None else \
                (default if default is not None else 0.5)
            quality = min(1.0, base + self.tables.key_boost)
        if max_bytes is not None:
            coded = codec.code_to_cap(y, quality, max_bytes, below_zero)
        else:
            coded = codec.code_analysis(y, codec.quality_byte(quality))[0]
        if self._inter is not None:
            self.key = Key.of(coded)
        self._since_key = 1
        self.keys += 1
        self.key_bytes += len(coded.payload)
        self._key_len = len(coded.payload)
        return coded

    def _inter_frame(self, y: np.ndarray, key: Key, max_bytes: int | None) -> CodedFrame | None:
        """The inter frame of analysis output ``y``, or None where a key frame is better.

        Better means a lower ``bytes + rd_lambda * squared latent error``: an inter frame is
        coarser than an intra one, so it must save bytes for its error. The intra payload's
        size is taken as its key's where the inter one is under a quarter of that (the same
        scene), and made only where it is not.
        """
        assert self._inter is not None and self.tables is not None
        coder = self.codec.coder
        assert isinstance(coder, ContextIntraCoder)
        settings = self.tables.settings
        u = coder.gained(y, np.array([key.qbyte])).reshape(-1)
        d = residual(u, key.latent, self.codec.latent_shape, settings)
        if np.abs(d).max(initial=0) > RESIDUAL_RANGE:
            return None
        inter = self._inter.code(d, key)
        size = len(inter.payload)
        if max_bytes is not None and size > max_bytes:
            return None
        intra_bytes = self._key_len
        if size > self._key_len // 4:
            intra_bytes = len(self.codec.code_analysis(y, key.qbyte)[0].payload)
        error_inter = float(np.sum((u - key.latent - d * settings.step) ** 2))
        error_intra = float(np.sum((u - np.round(u)) ** 2))
        if size + settings.rd_lambda * error_inter >= \
                intra_bytes + settings.rd_lambda * error_intra:
            return None
        return inter


class StreamDecoder:
    """Decodes key and inter payloads in arrival order; None where the key is missing.

    Keeps the last ``KEYS_HELD`` key frames, so reordering around a key costs nothing.
    ``waiting`` counts inter payloads whose key frame it does not hold.
    """

    def __init__(self, codec: Codec, tables: TemporalTables | None = None) -> None:
        self.codec = codec
        self._tables = tables
        self._inter: InterCoder | None = None
        self.keys: deque[Key] = deque(maxlen=KEYS_HELD)
        self.waiting = 0
        self.key_bytes = self.inter_bytes = 0  # of the payloads taken (waiting ones too)

    def _coder(self) -> InterCoder:
        if self._inter is None:
            try:
                tables = self._tables if self._tables is not None else \
                    load_tables(self.codec)
            except (WeightsError, ValueError) as exc:
                raise BitstreamError(f"an inter frame of temporal mode, and {exc}") from None
            self._inter = InterCoder(tables, self.codec.latent_shape, self.codec.model_id)
        return self._inter

    def read(self, payload: bytes) -> CodedFrame | None:
        """The ``CodedFrame`` of the next payload (no synthesis); None: its key is missing.

        BitstreamError for a corrupt or foreign payload (the decoder's state is unchanged).
        An intra frame runs the context network once: its tables give the key's bins.
        """
        header = self.codec.read_header(payload, inter=True)
        if header.version not in INTER_VERSIONS:
            coded = self.codec.coder.read([header])[0]
            if coded.tables is not None:  # a context-coded key frame
                key = Key.of(coded)
                if all(k.crc != key.crc for k in self.keys):  # a repeat must not push keys out
                    self.keys.append(key)
            self.key_bytes += len(header.payload)
            return coded
        inter = self._coder().read(header, self.keys)
        if inter is None:
            self.waiting += 1
        self.inter_bytes += len(header.payload)
        return inter

    def decode(self, payload: bytes) -> np.ndarray | None:
        """A uint8 RGB frame (64, 64, 3), or None for an inter frame without its key.

        BitstreamError for a corrupt or foreign payload (the decoder's state is unchanged).
        """
        coded = self.read(payload)
        return None if coded is None else self.codec.synthesise([coded])[0]
