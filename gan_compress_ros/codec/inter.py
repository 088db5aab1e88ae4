"""The inter payload kind (version 5): the change of the latent since a key frame.

Layout, 4 bytes of header: ``[version 5][model tag: 1 byte][check: 1 byte][key tag: 1 byte]
[range-coded body]``, the check's CRC-32 started from the key's and the temporal tables'
CRCs and run on over the model id (``bitstream.check_of``). Version 3, read but no longer
written, carries the whole model id in place of the model tag. ``temporal.py`` explains the
scheme and owns the stream coders.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import bitstream
from .bitstream import INTER_VERSION, Header, header_bytes
from .context_coding import MEAN_STEPS, SCALE_LEVELS, rows_by_table, runs_by_table
from .errors import BitstreamError, corrupt_body
from .latent import CodedFrame
from .rangecoder import TableCoder

if TYPE_CHECKING:
    from .temporal import TemporalTables

#: Largest change of one latent element an inter frame carries; larger: a key frame.
RESIDUAL_RANGE = 63
#: Key scale indices per residual table.
SCALE_PER_BIN = 4
SCALE_BINS = SCALE_LEVELS // SCALE_PER_BIN
#: Table 0 codes the position flags; tables 1.. the residuals per scale bin.
FLAG_TABLE = 0
#: Header bytes of an inter payload: version, model tag and check, then the key tag.
HEADER_BYTES = bitstream.HEADER_BYTES + 1


def bins_of(tables: np.ndarray) -> np.ndarray:
    """Residual table per element (1..SCALE_BINS) of a key's context tables per element."""
    return tables // MEAN_STEPS // SCALE_PER_BIN + 1


@dataclass
class Key:
    """A key frame as both sides hold it: its integer latent and what inter frames need."""

    latent: np.ndarray  # (C*H*W,) int64, as the decoder reconstructs it
    qbyte: int
    bins: np.ndarray  # (C*H*W,) residual table per element (1..SCALE_BINS)
    crc: int  # CRC-32 of the whole key payload

    @classmethod
    def of(cls, frame: CodedFrame) -> Key:
        """The key a context-coded intra frame is: no network runs, its tables say it all."""
        assert frame.tables is not None, "a key frame is a context-coded intra frame"
        return cls(frame.latent.reshape(-1), frame.qbyte, bins_of(frame.tables),
                   zlib.crc32(frame.payload))

    @property
    def tag(self) -> int:
        """The byte inter payloads carry to name this key."""
        return self.crc >> 24


class InterCoder:
    """Range codes residuals against a key: position flags, then changes per scale bin."""

    version = INTER_VERSION

    def __init__(self, tables: TemporalTables, shape: tuple[int, int, int],
                 model_id: str) -> None:
        self.tables = tables
        self.shape = shape
        self.model_id = model_id
        self.coder = TableCoder(tables.tables)
        self.crc = tables.crc

    def encode(self, d: np.ndarray, key: Key) -> bytes:
        """The body of change ``d`` (C*H*W,) in steps against ``key``; |d| <= RESIDUAL_RANGE."""
        c, h, w = self.shape
        active = np.any(d.reshape(c, h * w) != 0, axis=0)
        rows = [(FLAG_TABLE, active.astype(np.int32))]
        idx = _active_elements(active, c)
        if len(idx):
            rows.extend(rows_by_table(key.bins[idx], (d[idx] + RESIDUAL_RANGE).astype(np.int32)))
        return self.coder.encode_rows(rows)

    def code(self, d: np.ndarray, key: Key) -> CodedFrame:
        """The inter payload of change ``d`` (in steps) against ``key``."""
        body = self.encode(d, key)
        check = bitstream.check_of(INTER_VERSION, self.model_id, body, key.crc ^ self.crc)
        payload = bitstream.pack_header(INTER_VERSION, self.model_id, check) + \
            bytes([key.tag]) + body
        return CodedFrame(payload, INTER_VERSION, self._latent(key, d), key.qbyte, key.bins)

    def decode(self, body: bytes, key: Key) -> np.ndarray:
        """The change (C*H*W,) in steps of ``body``; raises on data that does not decode."""
        c, h, w = self.shape
        decoder = self.coder.decoder(body)
        active = self.coder.decode_row(decoder, FLAG_TABLE, h * w).astype(bool)
        d = np.zeros(c * h * w, dtype=np.int64)
        idx = _active_elements(active, c)
        if len(idx):
            order, starts, tables = runs_by_table(key.bins[idx])
            sym = np.zeros(len(idx), dtype=np.int64)
            for t, lo, hi in zip(tables, starts[:-1], starts[1:], strict=True):
                sym[order[lo:hi]] = self.coder.decode_row(decoder, t, hi - lo)
            d[idx] = sym - RESIDUAL_RANGE
        return d

    def read(self, header: Header, keys: Iterable[Key]) -> CodedFrame | None:
        """The frame of a checked inter header against the keys held; None: no key for it.

        BitstreamError for a truncated or corrupt payload, or one for other keys or tables.
        """
        rest = header.rest
        if not rest:
            raise BitstreamError(f"truncated inter payload: {len(header.payload)} bytes, the "
                                 f"header alone is {header_bytes(header.version) + 1}")
        tag, body = rest[0], rest[1:]
        candidates = [k for k in keys if k.tag == tag]
        if not candidates:
            return None
        for key in reversed(candidates):
            if header.matches(body, key.crc ^ self.crc):
                break
        else:
            raise BitstreamError("corrupt inter payload, or one for a key frame, temporal "
                                 "tables or weights this decoder does not hold: its check "
                                 "byte does not match")
        with corrupt_body("inter"):
            d = self.decode(body, key)
        return CodedFrame(header.payload, header.version, self._latent(key, d), key.qbyte,
                          key.bins)

    def _latent(self, key: Key, d: np.ndarray) -> np.ndarray:
        """The latent (C, H, W) a decoder rebuilds from ``key`` and change ``d`` in steps."""
        return (key.latent + d * self.tables.step).reshape(self.shape)


def _active_elements(active: np.ndarray, channels: int) -> np.ndarray:
    """Flat (C-major) indices of every channel at the active positions, in coding order."""
    positions = np.flatnonzero(active)
    hw = len(active)
    return (np.arange(channels)[:, None] * hw + positions[None, :]).reshape(-1)
