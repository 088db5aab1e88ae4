"""The public latent layer: one object per coded frame, as CompressAI's ``compress()``.

Every path of the codec (``Codec.encode``/``decode``, the stream coders of temporal mode,
rate control, a latent search) goes through the same three steps, each public:
frames -> integer latent (``Codec.latent``), integer latent -> ``CodedFrame``
(``Codec.code_latent``: entropy coding at a quality), payload -> ``CodedFrame``
(``Codec.read``: entropy decoding), and ``CodedFrame`` -> frames (``Codec.synthesise``).
A ``CodedFrame`` keeps what the entropy model needed, so nothing is computed twice (a key
frame's residual tables come from its ``tables``, not from running the context network
again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .bitstream import KINDS, Header
from .context_coding import QUALITY_LEVELS


@dataclass(frozen=True, eq=False)
class CodedFrame:
    """One coded frame: its payload and the integer latent it carries.

    ``latent``: (C, H, W) int64, exactly what a decoder rebuilds (values beyond a table's
    range clamped into it). ``qbyte``: the quality byte (0 for a fixed-rate model; an inter
    frame's is its key's). ``tables``: the entropy table of each latent element (C*H*W,)
    for context-coded intra frames, the residual table per element for inter frames, None
    for fixed-rate payloads (one table per channel). ``below_zero``: thinned below quality 0
    to meet a byte cap (``below_zero.py``), so smaller than the frame at quality 0.
    """

    payload: bytes
    version: int
    latent: np.ndarray
    qbyte: int
    tables: np.ndarray | None = None
    below_zero: bool = False

    @property
    def kind(self) -> str:
        """``fixed``, ``intra`` or ``inter`` (``bitstream.KINDS``)."""
        return KINDS[self.version]

    @property
    def quality(self) -> float:
        """The quality in [0, 1] the payload was coded at."""
        return self.qbyte / (QUALITY_LEVELS - 1)

    def __len__(self) -> int:
        return len(self.payload)


class IntraCoder(Protocol):
    """What one intra payload kind provides (``coders.py`` holds one per version)."""

    version: int  # the version it writes
    reads: tuple[int, ...]  # the versions it reads, that one first
    variable_rate: bool

    @property
    def implementation(self) -> str:
        """The range coder that runs: ``constriction`` or ``python``."""

    def quantize(self, y: np.ndarray, qbytes: np.ndarray) -> np.ndarray:
        """The integer latent (N, C, H, W) of analysis output ``y`` at quality bytes (N,)."""

    def code(self, latent: np.ndarray, qbytes: np.ndarray) -> list[CodedFrame]:
        """Entropy-code integer latents (N, C, H, W) at quality bytes (N,)."""

    def check(self, header: Header) -> None:
        """BitstreamError unless the kind's own fields and check byte are right."""

    def read(self, headers: list[Header]) -> list[CodedFrame]:
        """Entropy-decode headers of this kind that passed ``check``."""

    def dequantize(self, latent: np.ndarray, qbytes: np.ndarray) -> np.ndarray:
        """The float32 latent (N, C, H, W) the synthesis transform takes."""
