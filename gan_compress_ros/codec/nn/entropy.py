"""Learned per-channel factorized prior (Balle et al. 2018) and its frozen integer tables.

Training uses the differentiable density (``likelihood``); coding never does. ``freeze``
turns the density into integer probability tables that are stored with the weights, so the
encoder and decoder use bit-identical probabilities on any device or backend.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..tables import CdfTables, quantize_pmf

#: Probability mass left outside a channel's coded range (clamped into its end symbols).
TAIL_MASS = 1e-6
#: Widest integer range searched when freezing (latents are clamped into it).
SEARCH_RADIUS = 255
_LIKELIHOOD_BOUND = 1e-9


class FactorizedPrior(nn.Module):
    """A non-parametric cumulative density per latent channel (the "entropy bottleneck")."""

    def __init__(self, channels: int, filters: tuple[int, ...] = (3, 3, 3),
                 init_scale: float = 10.0) -> None:
        super().__init__()
        self.channels = channels
        dims = (1, *filters, 1)
        scale = init_scale ** (1.0 / (len(filters) + 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(filters) + 1):
            init = float(np.log(np.expm1(1.0 / scale / dims[i + 1])))
            self.matrices.append(nn.Parameter(torch.full((channels, dims[i + 1], dims[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, dims[i + 1], 1) - 0.5))
            if i < len(filters):
                self.factors.append(nn.Parameter(torch.zeros(channels, dims[i + 1], 1)))

    def logits_cumulative(self, values: torch.Tensor) -> torch.Tensor:
        """Logit of the CDF at ``values`` shaped (C, 1, K), in ``values``' dtype."""
        logits = values
        dtype = values.dtype
        for i, matrix in enumerate(self.matrices):
            logits = torch.matmul(F.softplus(matrix.to(dtype)), logits) + \
                self.biases[i].to(dtype)
            if i < len(self.factors):
                logits = logits + torch.tanh(self.factors[i].to(dtype)) * torch.tanh(logits)
        return logits

    def likelihood(self, y: torch.Tensor) -> torch.Tensor:
        """Probability mass of the unit bin around each value of ``y`` (N, C, H, W)."""
        n, c, h, w = y.shape
        values = y.permute(1, 0, 2, 3).reshape(c, 1, -1)
        lower = self.logits_cumulative(values - 0.5)
        upper = self.logits_cumulative(values + 0.5)
        sign = -torch.sign(lower + upper).detach()
        lik = torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))
        lik = torch.clamp(lik, min=_LIKELIHOOD_BOUND)
        return lik.reshape(c, n, h, w).permute(1, 0, 2, 3)

    @torch.no_grad()
    def freeze(self) -> CdfTables:
        """Integer probability tables of the current density, one per channel."""
        grid = torch.arange(-SEARCH_RADIUS, SEARCH_RADIUS + 2, dtype=torch.float64) - 0.5
        values = grid.view(1, 1, -1).expand(self.channels, 1, -1)
        logits = self.logits_cumulative(values).squeeze(1)  # float64 for stable tails
        cdf = torch.sigmoid(logits).numpy()  # (C, 2R+2): CDF at k - 0.5, k = -R..R+1
        offsets = np.zeros(self.channels, dtype=np.int32)
        pmfs = []
        for c in range(self.channels):
            pmf, low = _channel_pmf(cdf[c])
            offsets[c] = low
            pmfs.append(pmf)
        return CdfTables.from_pmfs(offsets, pmfs)


def _channel_pmf(cdf: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer pmf over the smallest integer range holding all but TAIL_MASS of the mass."""
    radius = SEARCH_RADIUS
    ks = np.arange(-radius, radius + 1)
    below = cdf[1:]  # P(Y <= k) for k = -R..R
    above = 1.0 - cdf[:-1]  # P(Y >= k)
    inside_low = np.nonzero(below > TAIL_MASS / 2)[0]
    inside_high = np.nonzero(above > TAIL_MASS / 2)[0]
    low = int(ks[inside_low[0]]) if inside_low.size else 0
    high = int(ks[inside_high[-1]]) if inside_high.size else 0
    if high < low:
        low, high = high, low
    i0, i1 = low + radius, high + radius
    mass = np.diff(cdf)[i0:i1 + 1].astype(np.float64)
    mass[0] += cdf[i0]  # everything below is clamped into the first symbol
    mass[-1] += 1.0 - cdf[i1 + 1]  # and everything above into the last
    return quantize_pmf(mass), low
