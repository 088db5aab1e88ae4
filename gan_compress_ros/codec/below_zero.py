"""Byte caps below what quality 0 takes: the encoder thins the latent until the frame fits.

At quality 0 a 64x64 frame of a detailed scene still takes about 40-115 bytes; some links
take less per packet (802.15.4 about 100 B, LoRa 222-255 B, Iridium SBD 340 B with headers
of their own). Here the encoder, still at quality byte 0, sets the latent's weakest values to
zero, the fewest that make the payload fit: the weakest first, because they carry the least
of the picture, and zeros are what the context model mostly predicts cheaply. The decoder and
the payload format are unchanged (any integer latent decodes). Where even a latent of zeros
does not fit (3dcf's takes 42 bytes, two over ``MIN_CAP``; a543's took 40), the frame is
sent as the latent the context model finds most probable everywhere (13 bytes with 3dcf; it
shows no picture of the frame either), so every cap from ``MIN_CAP`` is met.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import ByteCapError
from .intra import ContextIntraCoder
from .latent import CodedFrame

if TYPE_CHECKING:
    from .api import Codec

#: The smallest cap promised to fit every frame (the bundled model's most probable latent
#: takes 13 B, a latent of zeros 41, with the 4-byte header).
MIN_CAP = 40


def thinned(codec: Codec, y: np.ndarray, max_bytes: int) -> CodedFrame:
    """The frame at quality byte 0 of analysis output ``y`` (1, C, H, W), thinned to fit.

    A frame that does not fit even as a latent of zeros is sent as the context model's most
    probable latent; ``ByteCapError`` (with that payload's size as ``smallest``) when that
    is longer than ``max_bytes`` too.
    """
    coder = codec.coder
    assert isinstance(coder, ContextIntraCoder)
    scaled = coder.gained(y, np.zeros(1, dtype=np.int64))
    latent = np.round(scaled).astype(np.int64)
    nonzero = np.flatnonzero(latent)
    order = nonzero[np.argsort(np.abs(scaled.reshape(-1)[nonzero]), kind="stable")]

    def coded(k: int) -> CodedFrame:
        thin = latent.copy().reshape(-1)
        thin[order[:k]] = 0
        return codec.code_latent(thin.reshape(latent.shape), qbyte=0)[0]

    best = coded(len(order))
    if len(best.payload) > max_bytes:
        floor = codec.code_latent(coder.model.mode(0), qbyte=0)[0]
        if len(floor.payload) <= max_bytes:
            return floor
        smallest = min(len(best.payload), len(floor.payload))
        raise ByteCapError(f"needs at least {smallest} bytes even at quality 0 with the "
                           f"cheapest latent, over the cap of {max_bytes}", 0, smallest)
    low, high = 0, len(order)  # invariant: coded(high) fits; coded(low - 1) does not
    while low < high:
        mid = (low + high) // 2
        candidate = coded(mid)
        if len(candidate.payload) <= max_bytes:
            best, high = candidate, mid
        else:
            low = mid + 1
    return best
