"""The context entropy model and gain units as torch modules (training), and their freezing.

Training runs the float twin of ``context_coding``'s integer network: the same groups, the
same inputs (already-coded elements and the quality byte), clipped ReLUs, a Gaussian per
element whose mean and log-scale the network predicts; the rate is the Gaussian's mass on
the noisy latent's unit bin. ``freeze`` rounds the weights to integers and writes the
Gaussian tables, so coding never depends on float arithmetic.

Gain units (Cui et al. 2021) make one model variable-rate: the latent is multiplied by a
per-channel gain before rounding and by an inverse gain before synthesis; the gains of a
few quality levels are learned and interpolated in log space between them.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .. import context_coding as cc
from ..tables import CdfTables, quantize_pmf

#: Every table covers at least +-MIN_RADIUS around its mean, and 8 standard deviations:
#: a value outside is clamped into the end symbol (a distortion), so the range is wide. The
#: 16-bit tables give each symbol at least 2**-16, so the unlikely symbols cost about a bit
#: per frame in all.
MIN_RADIUS = 24
_LIKELIHOOD_BOUND = 1e-9


class ClippedReLU(nn.Module):
    """ReLU clipped at ``ACT_CLIP``: what the integer network computes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clip to [0, ACT_CLIP]."""
        return torch.clamp(x, 0.0, cc.ACT_CLIP)


class ContextEntropyModel(nn.Module):
    """Per-group networks: (coded elements, quality) -> mean and log-scale per element."""

    def __init__(self, latent_shape: tuple[int, int, int], slices: int, checkerboard: bool,
                 hidden: int) -> None:
        super().__init__()
        self.latent_shape = latent_shape
        self.slices = slices
        self.checkerboard = checkerboard
        groups = cc.schedule(latent_shape, slices, checkerboard)
        self.groups = [torch.from_numpy(g) for g in groups]
        self.context_index = [torch.from_numpy(c) for c in cc.contexts(groups)]
        self.nets = nn.ModuleList()
        for g, ctx in zip(groups, self.context_index, strict=True):
            net = nn.Sequential(nn.Linear(len(ctx) + 1, hidden), ClippedReLU(),
                                nn.Linear(hidden, hidden), ClippedReLU(),
                                nn.Linear(hidden, 2 * len(g)))
            last = net[-1]
            assert isinstance(last, nn.Linear)
            with torch.no_grad():  # start near "mean 0, scale 1": a stable first rate
                last.weight.mul_(0.01)
                last.bias.zero_()
            self.nets.append(net)

    def likelihood(self, y_noisy: torch.Tensor, y_round: torch.Tensor,
                   qbytes: torch.Tensor) -> torch.Tensor:
        """Mass of each noisy latent's unit bin (N, C, H, W); context from the rounded one."""
        n = y_noisy.shape[0]
        noisy = y_noisy.reshape(n, -1)
        ctx_all = torch.clamp(y_round.reshape(n, -1), -cc.LATENT_CLIP, cc.LATENT_CLIP)
        q = (qbytes.float() / 256.0).reshape(n, 1)
        out = torch.empty_like(noisy)
        lo, hi = math.log(cc.SCALE_MIN), math.log(cc.SCALE_MAX)
        for net, idx, ctx in zip(self.nets, self.groups, self.context_index, strict=True):
            params = net(torch.cat([ctx_all[:, ctx], q], dim=1))
            mean, log_scale = params.chunk(2, dim=1)
            scale = torch.exp(torch.clamp(log_scale, lo, hi))
            value = noisy[:, idx] - mean
            upper = torch.special.ndtr((value + 0.5) / scale)
            lower = torch.special.ndtr((value - 0.5) / scale)
            out[:, idx] = torch.clamp(upper - lower, min=_LIKELIHOOD_BOUND)
        return out.reshape(y_noisy.shape)

    @torch.no_grad()
    def freeze(self, gain_enc: np.ndarray, gain_dec: np.ndarray) -> cc.ContextModel:
        """The integer model: rounded weights, scale bounds, Gaussian tables, gains."""
        networks = []
        act, wb = 1 << cc.ACT_BITS, 1 << cc.WEIGHT_BITS
        for net in self.nets:
            layers = []
            for i, lin in enumerate(m for m in net.children() if isinstance(m, nn.Linear)):
                weight = lin.weight.double().numpy()
                if i == 0:  # inputs are coded values (times 2**ACT_BITS) and q * 256
                    weight = weight.copy()
                    weight[:, -1] *= act / 256.0
                layers.append(cc.IntLayer(np.round(weight * wb),
                                          np.round(lin.bias.double().numpy() * wb * act)))
            networks.append(layers)
        grid = np.log(cc.scale_grid())
        mids = (grid[1:] + grid[:-1]) / 2
        bounds = np.round(mids * wb * act)
        return cc.ContextModel(self.latent_shape, self.slices, self.checkerboard, networks,
                               bounds, gaussian_tables(), gain_enc.astype(np.float32),
                               gain_dec.astype(np.float32))


def gaussian_tables() -> CdfTables:
    """Integer pmfs of N(f / MEAN_STEPS, scale) on the integers, per scale and fraction f."""
    offsets, pmfs = [], []
    for scale in cc.scale_grid():
        for f in range(cc.MEAN_STEPS):
            mean = f / cc.MEAN_STEPS
            radius = max(MIN_RADIUS, int(math.ceil(scale * 8 + 1)))
            ks = np.arange(-radius, radius + 1, dtype=np.float64)
            cdf = 0.5 * np.array([math.erfc(-(k - mean) / (scale * math.sqrt(2)))
                                  for k in np.append(ks - 0.5, ks[-1] + 0.5)])
            mass = np.diff(cdf)
            mass[0] += cdf[0]  # the tails beyond are clamped into the end symbols
            mass[-1] += 1.0 - cdf[-1]
            offsets.append(-radius)
            pmfs.append(quantize_pmf(mass))
    return CdfTables.from_pmfs(np.array(offsets, np.int32), pmfs)


class GainUnits(nn.Module):
    """Learned per-channel gains of ``levels`` quality levels, interpolated in log space."""

    def __init__(self, channels: int, levels: int, init_log_gains: np.ndarray | None = None
                 ) -> None:
        super().__init__()
        init = torch.zeros(levels, channels)
        if init_log_gains is not None:
            init += torch.as_tensor(init_log_gains, dtype=torch.float32).reshape(levels, 1)
        self.log_enc = nn.Parameter(init.clone())
        self.log_dec = nn.Parameter(-init.clone())

    def _interp(self, table: torch.Tensor, qbytes: torch.Tensor) -> torch.Tensor:
        pos = qbytes.to(table.device).float() / (cc.QUALITY_LEVELS - 1) * (table.shape[0] - 1)
        i0 = torch.clamp(pos.floor().long(), 0, table.shape[0] - 2)
        frac = (pos - i0.float()).unsqueeze(1)
        return table[i0] * (1 - frac) + table[i0 + 1] * frac

    def gains(self, qbytes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder and decoder gains (N, C, 1, 1) for quality bytes (N,)."""
        enc = torch.exp(self._interp(self.log_enc, qbytes))
        dec = torch.exp(self._interp(self.log_dec, qbytes))
        return enc[:, :, None, None], dec[:, :, None, None]

    @torch.no_grad()
    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Gains of every quality byte (QUALITY_LEVELS, C) as float32, for coding."""
        q = torch.arange(cc.QUALITY_LEVELS)
        enc, dec = self.gains(q)
        return (enc.squeeze(-1).squeeze(-1).float().cpu().numpy(),
                dec.squeeze(-1).squeeze(-1).float().cpu().numpy())
