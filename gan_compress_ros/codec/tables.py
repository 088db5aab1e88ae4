"""Frozen integer probability tables: what encoder and decoder share, on any backend.

Plain NumPy (no torch), so a deployment on the onnxruntime backend reads them too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Probabilities in the frozen tables sum to 2**PRECISION.
PRECISION = 16


def quantize_pmf(mass: np.ndarray, precision: int = PRECISION) -> np.ndarray:
    """Integers >= 1 summing to 2**precision, proportional to ``mass``."""
    total = 1 << precision
    size = mass.size
    if size > total // 2:
        raise ValueError(f"alphabet of {size} symbols is too large for {precision}-bit tables")
    mass = np.clip(np.nan_to_num(mass, nan=0.0), 0.0, None)
    mass = mass / mass.sum() if mass.sum() > 0 else np.full(size, 1.0 / size)
    pmf = np.maximum(1, np.floor(mass * (total - size)).astype(np.int64))
    pmf[int(np.argmax(pmf))] += total - int(pmf.sum())
    return pmf.astype(np.int32)


@dataclass(frozen=True)
class CdfTables:
    """Per-channel integer pmfs: symbol ``s`` of channel ``c`` stands for ``offsets[c] + s``."""

    offsets: np.ndarray  # int32 (C,)
    lengths: np.ndarray  # int32 (C,)
    pmf: np.ndarray  # int32 (C, Lmax), zero-padded

    @classmethod
    def from_pmfs(cls, offsets: np.ndarray, pmfs: list[np.ndarray]) -> CdfTables:
        """Pack a list of per-channel pmfs into padded arrays."""
        lengths = np.array([p.size for p in pmfs], dtype=np.int32)
        table = np.zeros((len(pmfs), int(lengths.max())), dtype=np.int32)
        for c, p in enumerate(pmfs):
            table[c, :p.size] = p
        return cls(np.asarray(offsets, np.int32), lengths, table)

    def validate(self, channels: int) -> None:
        """Raise ValueError unless the tables are well-formed for ``channels`` channels."""
        if self.offsets.shape != (channels,) or self.lengths.shape != (channels,):
            raise ValueError(f"entropy tables have shape {self.offsets.shape}, the model has "
                             f"{channels} channels")
        if self.pmf.ndim != 2 or self.pmf.shape[0] != channels:
            raise ValueError("entropy table pmf has the wrong shape")
        if (self.lengths < 1).any() or (self.lengths > self.pmf.shape[1]).any():
            raise ValueError("entropy table lengths out of range")
        for c in range(channels):
            row = self.pmf[c, :self.lengths[c]]
            if (row < 1).any() or int(row.sum()) != 1 << PRECISION:
                raise ValueError(f"entropy table of channel {c} is not a valid "
                                 f"{PRECISION}-bit distribution")

    @property
    def lows(self) -> np.ndarray:
        """Smallest coded latent value per channel."""
        return self.offsets

    @property
    def highs(self) -> np.ndarray:
        """Largest coded latent value per channel."""
        return self.offsets + self.lengths - 1
