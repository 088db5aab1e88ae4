"""The two intra payload kinds: each frame decodes alone (``bitstream.py`` has the layouts).

``FixedRateCoder`` (version 1): fixed-rate models, one factorized table per channel.
``ContextIntraCoder`` (version 4; reads version 2 too): variable-rate models, the integer
context model (``context_coding.py``) and a quality byte. ``coders.py`` picks one by version.
"""

from __future__ import annotations

import numpy as np

from . import bitstream
from .bitstream import FORMAT_VERSION, INTRA_VERSIONS, Header
from .context_coding import ContextCoder, ContextModel
from .errors import BitstreamError, corrupt_body
from .latent import CodedFrame
from .rangecoder import TableCoder
from .tables import CdfTables


class FixedRateCoder:
    """Version 1: the rounded latent, clamped to each channel's table, range coded."""

    version = FORMAT_VERSION
    reads: tuple[int, ...] = (FORMAT_VERSION,)
    variable_rate = False

    def __init__(self, tables: CdfTables, latent_shape: tuple[int, int, int],
                 model_id: str) -> None:
        self.coder = TableCoder(tables)
        self.latent_shape = latent_shape
        self.model_id = model_id
        self._low = tables.lows.astype(np.int64).reshape(1, -1, 1, 1)
        self._high = tables.highs.astype(np.int64).reshape(1, -1, 1, 1)

    @property
    def implementation(self) -> str:
        """The range coder that runs."""
        return self.coder.implementation

    def quantize(self, y: np.ndarray, qbytes: np.ndarray) -> np.ndarray:
        """Rounded and clamped to the tables (``qbytes`` is ignored: one rate)."""
        y = np.round(y)
        return np.maximum(np.minimum(y, self._high), self._low).astype(np.int64)

    def symbols(self, latent: np.ndarray) -> np.ndarray:
        """The coder's symbols (N, C, H*W) of integer latents (N, C, H, W)."""
        c, h, w = self.latent_shape
        return (latent - self._low).astype(np.int32).reshape(len(latent), c, h * w)

    def code(self, latent: np.ndarray, qbytes: np.ndarray) -> list[CodedFrame]:
        """One payload per latent (clamped to the tables first)."""
        latent = np.maximum(np.minimum(latent, self._high), self._low)
        return [CodedFrame(bitstream.pack(self.model_id, self.coder.encode(s)), self.version,
                           lat, 0) for s, lat in zip(self.symbols(latent), latent, strict=True)]

    def check(self, header: Header) -> None:
        """BitstreamError unless the check byte matches the body."""
        bitstream.checked(header)

    def read(self, headers: list[Header]) -> list[CodedFrame]:
        """The latents of ``check``ed version-1 headers; BitstreamError for a corrupt body."""
        c, h, w = self.latent_shape
        out = []
        for header in headers:
            with corrupt_body():
                symbols = self.coder.decode(header.rest, h * w)
            latent = symbols.astype(np.int64).reshape(c, h, w) + self._low[0]
            out.append(CodedFrame(header.payload, self.version, latent, 0))
        return out

    def dequantize(self, latent: np.ndarray, qbytes: np.ndarray) -> np.ndarray:
        """The latent as float32: the tables' values are the latent's."""
        return latent.astype(np.float32)


class ContextIntraCoder:
    """Version 4: the latent times a gain per quality byte, coded with the context model."""

    version = INTRA_VERSIONS[0]
    #: Version 2 is the same payload with the model id in its header.
    reads: tuple[int, ...] = INTRA_VERSIONS
    variable_rate = True

    def __init__(self, model: ContextModel, latent_shape: tuple[int, int, int],
                 model_id: str) -> None:
        self.model = model
        self.context = ContextCoder(model, TableCoder(model.tables))
        self.latent_shape = latent_shape
        self.model_id = model_id

    @property
    def implementation(self) -> str:
        """The range coder that runs."""
        return self.context.coder.implementation

    def gained(self, y: np.ndarray, qbytes: np.ndarray) -> np.ndarray:
        """``y * gain`` (float32, not rounded), the gain of each frame's quality byte."""
        gain = self.model.gain_enc[np.asarray(qbytes, dtype=np.int64)][:, :, None, None]
        return y * gain

    def quantize(self, y: np.ndarray, qbytes: np.ndarray) -> np.ndarray:
        """``round(y * gain)``, the gain of each frame's quality byte."""
        return np.round(self.gained(y, qbytes)).astype(np.int64)

    def code(self, latent: np.ndarray, qbytes: np.ndarray) -> list[CodedFrame]:
        """One payload per latent; each ``CodedFrame`` holds the latent the decoder rebuilds."""
        q = np.asarray(qbytes, dtype=np.int64)
        bodies, rebuilt, tables = self.context.code(latent, q)
        return [CodedFrame(bitstream.pack_quality(self.model_id, int(qb), body), self.version,
                           lat, int(qb), tab)
                for body, lat, qb, tab in zip(bodies, rebuilt, q, tables, strict=True)]

    def check(self, header: Header) -> None:
        """BitstreamError unless the check byte matches and the quality byte is there."""
        if not bitstream.checked(header):
            raise BitstreamError("truncated payload: it ends before its quality byte")

    def read(self, headers: list[Header]) -> list[CodedFrame]:
        """The latents of ``check``ed version-4 (or 2) headers, decoded as one batch."""
        qbytes, bodies = [], []
        for header in headers:
            rest = header.rest
            qbytes.append(rest[0])
            bodies.append(rest[1:])
        q = np.array(qbytes, dtype=np.int64)
        with corrupt_body():
            latents, tables = self.context.read(bodies, q)
        return [CodedFrame(h.payload, h.version, lat, int(qb), tab)
                for h, lat, qb, tab in zip(headers, latents, q, tables, strict=True)]

    def dequantize(self, latent: np.ndarray, qbytes: np.ndarray) -> np.ndarray:
        """``latent / gain`` as float32, the inverse gain of each frame's quality byte."""
        gain = self.model.gain_dec[np.asarray(qbytes, dtype=np.int64)][:, :, None, None]
        return (latent * gain).astype(np.float32)

