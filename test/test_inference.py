"""The frozen CPU inference path gives the eager modules' payloads and pixels, bit for bit."""

from pathlib import Path

import numpy as np
import torch

from gan_compress_ros.codec import Codec
from gan_compress_ros.codec.nn.inference import frozen


def test_frozen_equals_eager(trained_weights: Path, val_frames: np.ndarray) -> None:
    fast = Codec.load(trained_weights)
    eager = Codec.load(trained_weights, optimize=False)
    assert fast.frozen and not eager.frozen  # the frozen path is in use
    payloads = fast.encode(val_frames)
    assert payloads == eager.encode(val_frames)
    assert [fast.encode(f)[0] for f in val_frames] == payloads  # batch 1 as in the nodes
    assert np.array_equal(fast.decode(payloads), eager.decode(payloads))


def test_inexact_graph_falls_back_to_eager() -> None:
    """A module whose traced graph would differ (a shape-dependent branch) stays eager."""
    class Branchy(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2 if x.shape[0] == 1 else x  # tracing at batch 1 bakes in ``x * 2``

    class Holder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = Branchy()

        def run(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x)
    holder = Holder()
    fn = frozen(holder, "run", (2,), integer_input=True)
    assert not isinstance(fn, torch.jit.ScriptModule)



def test_a_frozen_gdn_computes_what_its_parameters_do() -> None:
    """``GDN.freeze`` (the ONNX export's) keeps the function: constants rounded once.

    Floored entries of gamma are exactly zero in both, unlike the exported reparametrisation
    (2^-36), which moved far-out outputs by 100 times float error.
    """
    from gan_compress_ros.codec.nn.gdn import GDN

    torch.manual_seed(0)
    for inverse in (False, True):
        layer = GDN(8, inverse=inverse)
        with torch.no_grad():
            layer.gamma.uniform_(-0.05, 0.3)  # some entries below the floor
            layer.beta.uniform_(-1.0, 2.0)
        x = torch.randn(2, 8, 5, 5) * 40
        with torch.no_grad():
            want = layer(x)
            layer.freeze()
            got = layer(x)
        beta, gamma = layer._frozen
        assert bool((gamma == 0).any()) and gamma.dtype == torch.float32
        assert torch.allclose(got, want, rtol=1e-6, atol=1e-6), float((got - want).abs().max())
