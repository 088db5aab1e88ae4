"""Byte caps below what quality 0 takes: the encoder thins the latent until the frame fits.

At quality 0 a 64x64 frame of a detailed scene still takes about 40-115 bytes; some links
take less per packet (802.15.4 about 100 B, LoRa 222-255 B, Iridium SBD 340 B with headers
of their own). Here the encoder, still at quality byte 0, starts from the latent the context
model finds most probable everywhere (``ContextModel.mode``: 13 bytes with 3dcf, and no
picture of the frame) and puts back the frame's own values where they differ from it most,
as many as fit. The decoder and the payload format are unchanged (any integer latent
decodes), and every cap from that latent's size, under ``MIN_CAP``, is met.

Until 2026-12-07 the weakest values were set to zero instead. A latent of zeros costs more
than the most probable one wherever the network predicts values away from zero (42 bytes
with 3dcf), so under that size every frame went as the most probable latent alone; measured
on held-out crops that need more than the cap at quality 0 (``dev/below_zero_thinning.py``),
thinning towards the most probable latent keeps more of the picture at every cap.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from .errors import ByteCapError
from .intra import ContextIntraCoder
from .latent import CodedFrame

if TYPE_CHECKING:
    from .api import Codec

#: The smallest cap promised to fit every frame (the bundled model's most probable latent
#: takes 13 B with the 4-byte header).
MIN_CAP = 40


def smallest_payload(codec: Codec) -> int:
    """Bytes of the smallest payload the encoder sends: the most probable latent's.

    0 where the weights have no context model (no frame goes below quality 0 there).
    """
    coder = codec.coder
    if not isinstance(coder, ContextIntraCoder):
        return 0
    return len(codec.code_latent(coder.model.mode(0), qbyte=0)[0].payload)


def thinned(codec: Codec, y: np.ndarray, max_bytes: int) -> CodedFrame:
    """The frame at quality byte 0 of analysis output ``y`` (1, C, H, W), thinned to fit.

    The context model's most probable latent with as many of the frame's values as fit,
    those furthest from it first (a binary search over how many; the size grows with them
    all but monotonically, and the frame returned always fits). ``ByteCapError`` (with that
    latent's size as ``smallest``) where even the most probable latent alone is too long.
    """
    coder = codec.coder
    assert isinstance(coder, ContextIntraCoder)
    scaled = coder.gained(y, np.zeros(1, dtype=np.int64)).reshape(-1)
    latent = np.round(scaled).astype(np.int64)
    mode = coder.model.mode(0)
    flat_mode = mode.reshape(-1)
    differ = np.flatnonzero(latent != flat_mode)
    order = differ[np.argsort(-np.abs(scaled[differ] - flat_mode[differ]), kind="stable")]

    def coded(k: int) -> CodedFrame:
        thin = flat_mode.copy()
        thin[order[:k]] = latent[order[:k]]
        return replace(codec.code_latent(thin.reshape(mode.shape), qbyte=0)[0],
                       below_zero=True)

    best = coded(0)
    if len(best.payload) > max_bytes:
        raise ByteCapError(f"needs at least {len(best.payload)} bytes even at quality 0 with "
                           f"the cheapest latent, over the cap of {max_bytes}", 0,
                           len(best.payload))
    low, high = 0, len(order) - 1  # the whole frame (len(order)) is quality 0: too long
    while low < high:  # invariant: best is coded(low), and it fits
        mid = (low + high + 1) // 2
        candidate = coded(mid)
        if len(candidate.payload) <= max_bytes:
            best, low = candidate, mid
        else:
            high = mid - 1
    return best
