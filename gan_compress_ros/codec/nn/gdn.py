"""Generalized divisive normalization (Balle et al. 2016), the codec's nonlinearity.

GDN gaussianizes local statistics, which lets a small transform reach a compact latent:
``y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)`` (and the inverse, ``x * sqrt(...)``).
beta and gamma are kept non-negative by a reparametrisation (square of a lower-bounded value).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_PEDESTAL = 2.0 ** -36
_BETA_MIN = 1e-6


def _lower_bound(x: torch.Tensor, bound: float) -> torch.Tensor:
    """Clamp from below with a gradient that still pulls values up towards the bound."""
    clamped = torch.clamp(x, min=bound)
    return x + (clamped - x).detach() if x.requires_grad else clamped


class GDN(nn.Module):
    """GDN over the channel axis; ``inverse=True`` gives IGDN for synthesis transforms."""

    def __init__(self, channels: int, inverse: bool = False, gamma_init: float = 0.1) -> None:
        super().__init__()
        self.inverse = inverse
        beta_bound = (_BETA_MIN + _PEDESTAL) ** 0.5
        self._beta_bound = beta_bound
        self.beta = nn.Parameter(torch.sqrt(torch.ones(channels) + _PEDESTAL))
        gamma = gamma_init * torch.eye(channels) + _PEDESTAL
        self.gamma = nn.Parameter(torch.sqrt(gamma))

        self._frozen: tuple[torch.Tensor, torch.Tensor] | None = None

    def effective(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The (beta, gamma) the normalization uses: (C,) and (C, C)."""
        beta = _lower_bound(self.beta, self._beta_bound) ** 2 - _PEDESTAL
        gamma = _lower_bound(self.gamma, _PEDESTAL ** 0.5) ** 2 - _PEDESTAL
        return beta, gamma

    def freeze(self, dtype: torch.dtype | None = None) -> None:
        """Hold beta and gamma as constants computed in float64, for an ONNX export.

        Exported as the reparametrisation, they came out differently: the graph lost the
        pedestal on gamma's floored entries (2^-36 where torch has 0) and folded beta in the
        module's precision. On a channel whose beta sits at its 1e-6 floor that moved the
        output measurably for large inputs (model 3e82: 9.4e-2 at +-739 on the export's probe,
        where torch's own float32 error is 8.5e-4; frozen, 9.8e-4). ``dtype``: the constants'
        (default: the parameters'). A plain attribute, not a buffer: it stays out of the
        weights and does not follow ``.to()``. Not undone: use it on a copy.
        """
        with torch.no_grad():
            beta, gamma = (t.to(dtype or self.beta.dtype) for t in _float64(self).effective())
        self._frozen = (beta, gamma)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize ``x`` (N, C, H, W)."""
        channels = x.shape[1]
        beta, gamma = self._frozen if self._frozen is not None else self.effective()
        norm = F.conv2d(x * x, gamma.view(channels, channels, 1, 1), beta)
        norm = torch.sqrt(norm)
        return x * norm if self.inverse else x / norm


def _float64(module: GDN) -> GDN:
    """A float64 copy of ``module``'s parameters, for computing its constants exactly."""
    wide = GDN(module.beta.numel(), module.inverse).double()
    wide.load_state_dict(module.state_dict())  # copied into float64 parameters, exactly
    return wide
