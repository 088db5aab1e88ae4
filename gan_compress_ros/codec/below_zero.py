"""Byte caps below what quality 0 takes: the encoder thins the latent until the frame fits.

At quality 0 a 64x64 frame of a detailed scene still takes about 40-115 bytes; some links
take less per packet (802.15.4 about 100 B, LoRa 222-255 B, Iridium SBD 340 B with headers
of their own). Here the encoder, still at quality byte 0, sets the latent's weakest values to
zero, the fewest that make the payload fit: the weakest first, because they carry the least
of the picture, and zeros are what the context model predicts most cheaply. The decoder and
the payload format are unchanged (any integer latent decodes); a latent of zeros, the
smallest payload, takes 25 bytes with the bundled model, so every cap from ``MIN_CAP`` is met.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import bitstream
from .errors import ByteCapError

if TYPE_CHECKING:
    from .api import Codec

#: The smallest cap promised to fit every frame (the bundled model's zero latent: 25 B).
MIN_CAP = 40


def thinned_payload(codec: Codec, y: np.ndarray, max_bytes: int) -> bytes:
    """The payload at quality byte 0 of analysis output ``y`` (1, C, H, W), thinned to fit.

    ``ByteCapError`` (with the zero latent's size as ``smallest``) when even a latent of
    zeros is longer than ``max_bytes``.
    """
    context = codec._context
    assert context is not None
    gain = context.model.gain_enc[0].reshape(1, -1, 1, 1)
    scaled = y * gain
    latent = np.round(scaled).astype(np.int64)
    nonzero = np.flatnonzero(latent)
    order = nonzero[np.argsort(np.abs(scaled.reshape(-1)[nonzero]), kind="stable")]

    def payload(k: int) -> bytes:
        thin = latent.copy().reshape(-1)
        thin[order[:k]] = 0
        body = context.encode(thin.reshape(latent.shape), np.array([0]))[0]
        return bitstream.pack_quality(codec.model_id, 0, body)

    best = payload(len(order))
    if len(best) > max_bytes:
        raise ByteCapError(f"needs at least {len(best)} bytes even at quality 0 with a latent of "
                           f"zeros, over the cap of {max_bytes}", 0, len(best))
    low, high = 0, len(order)  # invariant: payload(high) fits; payload(low - 1) does not
    while low < high:
        mid = (low + high) // 2
        candidate = payload(mid)
        if len(candidate) <= max_bytes:
            best, high = candidate, mid
        else:
            low = mid + 1
    return best
