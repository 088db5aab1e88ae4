"""``gan-compress-bench effort`` with the greedy pass's trials set per effort (an experiment).

The effort search anneals the latent, then tries single-element +-1 moves
(``codec/nn/effort.py``, ``GREEDY_TRIALS``). This measures what the greedy pass buys at one
effort without changing the product's table (docs/results.md, "Encoder effort"):

    TRIALS=0 python dev/effort_greedy_trials.py effort --data DIRS... --efforts 0 5
    TRIALS=128 ROUND=32 python dev/effort_greedy_trials.py effort ...   # rounds of 32 trials
    RETRY=1 python dev/effort_greedy_trials.py effort ...   # rejected moves tried again

TRIALS (unset: the product's) replaces the trials of every effort that has a greedy pass
(effort 2 and up); ROUND (default the product's ``ROUND_TRIALS``) the trials ranked by one
gradient; RETRY=1 ranks every round by the gradient alone, so moves rejected before are
tried again (the pass before 2026-12-07's change).
"""

from __future__ import annotations

import os
import sys

import torch

from gan_compress_ros.codec.nn import effort
from gan_compress_ros.tools.bench import main

if "TRIALS" in os.environ:
    TRIALS = int(os.environ["TRIALS"])
    effort.GREEDY_TRIALS = tuple(TRIALS if shipped else 0 for shipped in effort.GREEDY_TRIALS)
effort.ROUND_TRIALS = int(os.environ.get("ROUND", str(effort.ROUND_TRIALS)))
if os.environ.get("RETRY") == "1":
    effort._ranked = lambda grad, rejected: torch.argsort(-grad.abs(), dim=1, stable=True)

if __name__ == "__main__":
    sys.exit(main())
