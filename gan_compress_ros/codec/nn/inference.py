"""The transforms prepared for CPU inference: traced and frozen with TorchScript.

Freezing folds GDN's reparametrised beta and gamma into constants and lets oneDNN keep its
convolution weights pre-packed, instead of recomputing and re-laying them out on every call
(the profiler showed both in eager inference). The frozen graph is used only if it gives
bit-identical output to the eager module on a probe input; anything else (an older or newer
torch without TorchScript, a CUDA device) runs the eager module, so payloads never depend
on which path ran.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable

import torch
from torch import nn

#: Seeds the probe input the frozen graph must reproduce exactly.
_PROBE_SEED = 7


class _Call(nn.Module):
    """Wraps a bound method as a module, so it can be traced."""

    def __init__(self, model: nn.Module, method: str) -> None:
        super().__init__()
        self.model = model
        self.method = method

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Call the wrapped method."""
        return getattr(self.model, self.method)(x)


def frozen(model: nn.Module, method: str, shape: tuple[int, ...],
           integer_input: bool = False) -> Callable[[torch.Tensor], torch.Tensor]:
    """``model.<method>`` as a frozen TorchScript function where that is exact, else eager.

    ``shape`` is one input's shape without the batch axis; ``integer_input`` makes the probe
    integer-valued, like a quantized latent.
    """
    eager = getattr(model, method)
    gen = torch.Generator().manual_seed(_PROBE_SEED)
    probe = torch.rand((3, *shape), generator=gen)
    if integer_input:
        probe = torch.round((probe - 0.5) * 16)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # TorchScript is deprecated in favour of torch.compile, which needs a compiler at
            # run time and seconds to start: too heavy for a node on a robot. Kept while it
            # exists, checked below, and replaced by eager where it does not.
            warnings.simplefilter("ignore")
            wrapper = _Call(copy.deepcopy(model).eval(), method).eval()
            graph = torch.jit.freeze(torch.jit.trace(wrapper, probe[:1]))
            ok = all(torch.equal(graph(probe[:n]), eager(probe[:n])) for n in (1, 3))
    except Exception:  # noqa: BLE001 - any failure means: use the eager module
        return eager
    return graph if ok else eager
