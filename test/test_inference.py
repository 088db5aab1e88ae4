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

