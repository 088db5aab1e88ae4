"""The rate-distortion objective the codec is trained on.

Shared by the trainer and the encoder's latent search (``effort.py``), so both weigh bytes
against error the same way.
"""

from __future__ import annotations

import math

import torch

from ..context_coding import QUALITY_LEVELS
from ..presets import PIXELS

#: Lambda at quality 1 and at quality 0 of weights whose metadata does not say (the first
#: variable-rate model's settings).
DEFAULT_LMBDA = (12.0, 3000.0)


def lmbda_of(qbytes: torch.Tensor, lmbda_q1: float, lmbda_q0: float) -> torch.Tensor:
    """Lambda of each quality byte: log-linear from ``lmbda_q0`` (byte 0) to ``lmbda_q1``."""
    t = qbytes.float() / (QUALITY_LEVELS - 1)
    return torch.exp(math.log(lmbda_q0) * (1 - t) + math.log(lmbda_q1) * t)


def lmbdas_of_metadata(metadata: dict) -> tuple[float, float]:
    """(lambda at quality 1, lambda at quality 0) that weights were trained with."""
    training = metadata.get("training") or {}
    q1 = float(training.get("lmbda") or DEFAULT_LMBDA[0])
    q0 = float(training.get("lmbda_q0") or DEFAULT_LMBDA[1])
    return q1, q0


def rd_loss(mse_255: torch.Tensor, bits: torch.Tensor, lmbda: torch.Tensor) -> torch.Tensor:
    """Per-frame objective: MSE on the 0-255 scale + lambda * bits per pixel."""
    return mse_255 + lmbda * bits / PIXELS
