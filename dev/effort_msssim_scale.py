"""``gan-compress-bench effort`` with the search's MS-SSIM weight scaled (an experiment).

The effort search minimises the objective the model was trained on (``codec/nn/effort.py``).
Scaling that objective's MS-SSIM weight trades MS-SSIM for PSNR; this measures how much,
without a product option for it (docs/results.md, "Encoder effort").

    SCALE=0.5 python dev/effort_msssim_scale.py effort --data DIRS... --efforts 0 5
"""

from __future__ import annotations

import dataclasses
import os
import sys

from gan_compress_ros.codec.nn import objective
from gan_compress_ros.tools.bench import main

SCALE = float(os.environ.get("SCALE", "1"))
_trained = objective.Objective.of_metadata.__func__


def _scaled(cls: type[objective.Objective], metadata: dict) -> objective.Objective:
    """The trained objective with its MS-SSIM weight times SCALE."""
    found = _trained(cls, metadata)
    return dataclasses.replace(found, msssim_weight=found.msssim_weight * SCALE)


objective.Objective.of_metadata = classmethod(_scaled)  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
