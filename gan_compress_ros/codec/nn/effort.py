"""Encoder effort: a search for latents that cost fewer bytes at the same distortion.

The decoder and the integer entropy model stay fixed; only the encoder's choice of integer
latent changes, so every payload decodes with today's decoder. The search is stochastic
Gumbel annealing (Yang, Bamler & Mandt 2020, "Improving inference for neural image
compression"): the gained latent is optimised with Adam against the trained objective
(``Objective.loss``) through a soft rounding that hardens over the run. The float context
model's rate drives the gradient; which latent is sent is then decided on the real payload
bytes the integer model codes and the real decoded distortion, per frame, among the
annealed candidates and the single-pass latent, so effort never loses against effort 0 in
the real objective. From effort 2 a greedy pass follows: single-element +-1 moves of the
chosen integer latent, ranked by the objective's gradient and kept where the float objective
falls, an element whose move was rejected not tried again; annealing leaves the latent short
of such a local optimum (the pass gained 2.6 points of PSNR BD-rate at effort 5 on model
e453, docs/results.md "Encoder effort"). The objective is the one the model was trained on
(``objective.py``), its MS-SSIM term included: a search on squared error alone trades
MS-SSIM away.

A slow link gives the encoder this time: at 9,600 bit/s a 200-byte frame leaves the radio
every 170 ms.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..choices import MAX_EFFORT, check_effort
from ..presets import PIXELS
from .model import CodecModel
from .objective import Objective

#: Adam steps of each effort level (index = effort).
EFFORT_STEPS = (0, 10, 20, 35, 50, 75, 100, 100, 150, 150)
#: Greedy trials after the annealing (index = effort): each tries one +-1 move per frame.
GREEDY_TRIALS = (0, 0, 16, 32, 64, 128, 192, 256, 384, 512)
#: Trials per greedy round; each round ranks the moves by a fresh gradient.
ROUND_TRIALS = 64
#: Learning rate of the latent (measured: 5e-3 to 2e-2 land within 0.5%).
LR = 1e-2
#: Temperature of the soft rounding: from TAU_START down to TAU_END, exponentially.
TAU_START, TAU_END = 0.5, 0.05
#: Candidates checked on real payloads: the rounded latent at these fractions of the run.
CHECKPOINTS = (0.5, 0.75, 1.0)

assert len(EFFORT_STEPS) == len(GREEDY_TRIALS) == MAX_EFFORT + 1

#: Codes integer latents (N, C, H, W) at quality bytes (N,): payload bodies, and the latent
#: the decoder will rebuild from them (values beyond the tables clamped).
EncodeBodies = Callable[[np.ndarray, np.ndarray], tuple[list[bytes], np.ndarray]]


def _soft_round(z: torch.Tensor, tau: float) -> torch.Tensor:
    """Gumbel-softmax between floor and ceil, logits -atanh(distance) / tau."""
    floor = torch.floor(z)
    r = z - floor
    eps = 1e-5
    logits = torch.stack([-torch.atanh(torch.clamp(r, -1 + eps, 1 - eps)),
                          -torch.atanh(torch.clamp(1 - r, -1 + eps, 1 - eps))], dim=-1) / tau
    gumbel = -torch.log(-torch.log(torch.rand_like(logits).clamp_(1e-10, 1.0)))
    p = torch.softmax(logits + gumbel, dim=-1)
    return floor + p[..., 1]


class _Frozen:
    """Turns off the gradients of a model's parameters for a block (the latent is optimised)."""

    def __init__(self, model: CodecModel) -> None:
        self.params = list(model.parameters())
        self.flags: list[bool] = []

    def __enter__(self) -> None:
        self.flags = [p.requires_grad for p in self.params]
        for p in self.params:
            p.requires_grad_(False)

    def __exit__(self, *exc: object) -> None:
        for p, flag in zip(self.params, self.flags, strict=True):
            p.requires_grad_(flag)


def refine(model: CodecModel, frames: np.ndarray, y_gained: np.ndarray, qbytes: np.ndarray,
           gain_dec: np.ndarray, effort: int, objective: Objective,
           encode_bodies: EncodeBodies, seed: int = 0) -> tuple[np.ndarray, list[bytes]]:
    """Integer latents (N, C, H, W) and payload bodies chosen by a search of ``effort``.

    ``frames``: the uint8 RGB originals (N, 64, 64, 3); ``y_gained``: the analysis output
    times the encoder gain (what effort 0 rounds); ``gain_dec``: the decoder gains (N, C) of
    the frames' quality bytes as the integer model stores them; ``objective``: what the model
    was trained to minimise (``Objective.of_metadata``); ``encode_bodies``: the real entropy coder.
    """
    effort = check_effort(effort)
    base = np.round(y_gained).astype(np.int64)
    base_bodies, base_rebuilt = encode_bodies(base, qbytes)
    if effort == 0 or not len(frames):
        return base, base_bodies
    steps = EFFORT_STEPS[effort]
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0
    q = torch.from_numpy(np.asarray(qbytes, np.int64))
    lam = objective.lmbda(q)
    gdec = torch.from_numpy(np.asarray(gain_dec, np.float32))[:, :, None, None]
    z = torch.tensor(y_gained, dtype=torch.float32, requires_grad=True)
    opt = torch.optim.Adam([z], lr=LR)
    checks = sorted({max(1, int(round(f * steps))) for f in CHECKPOINTS})
    candidates = []
    was_training = model.training
    model.eval()
    try:
        with _Frozen(model):
            for step in range(1, steps + 1):
                tau = TAU_START * (TAU_END / TAU_START) ** ((step - 1) / max(1, steps - 1))
                loss = _float_loss(model, x, _soft_round(z, tau), q, gdec, lam, objective).sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if step in checks:
                    candidates.append(torch.round(z.detach()).numpy().astype(np.int64))
            chosen = _choose(model, x, (base, base_bodies, base_rebuilt), candidates, qbytes,
                             gdec, lam, objective, encode_bodies)
            if GREEDY_TRIALS[effort]:
                moved = _greedy(model, x, chosen[0], q, gdec, lam, objective,
                                trials=GREEDY_TRIALS[effort])
                chosen = _choose(model, x, chosen, [moved], qbytes, gdec, lam, objective,
                                 encode_bodies)
    finally:
        model.train(was_training)
        torch.random.set_rng_state(gen_state)
    return chosen[0], chosen[1]


def _float_loss(model: CodecModel, x: torch.Tensor, latent: torch.Tensor, q: torch.Tensor,
                gdec: torch.Tensor, lam: torch.Tensor, objective: Objective) -> torch.Tensor:
    """Per-frame objective of latents under the float model (the search's own rate)."""
    bits = -torch.log2(model.prior.likelihood(latent, latent, q)).flatten(1).sum(1)
    return objective.loss(model.synthesise(latent * gdec), x, bits, lam)


def _greedy(model: CodecModel, x: torch.Tensor, latent: np.ndarray, q: torch.Tensor,
            gdec: torch.Tensor, lam: torch.Tensor, objective: Objective,
            trials: int) -> np.ndarray:
    """``latent`` after ``trials`` single-element +-1 moves per frame, each kept if it pays.

    Each round ranks the elements by the objective's gradient at the current latent and
    tries the strongest ones in turn, one per frame per trial (one forward pass of the
    batch); a move stays where the frame's float objective falls. An element whose move did
    not pay is not tried again in the pass (``_ranked``): without that, two thirds of the
    trials at effort 9 retried rejected moves.
    """
    cur = torch.from_numpy(latent.astype(np.float32))
    n = cur.shape[0]
    rows = torch.arange(n)
    rejected = torch.zeros(n, cur[0].numel(), dtype=torch.bool)
    done = 0
    while done < trials:
        probe = cur.clone().requires_grad_(True)
        loss = _float_loss(model, x, probe, q, gdec, lam, objective)
        (grad,) = torch.autograd.grad(loss.sum(), probe)
        best = loss.detach()
        grad = grad.reshape(n, -1)
        order = _ranked(grad, rejected)
        with torch.no_grad():
            round_trials = min(ROUND_TRIALS, trials - done)
            for t in range(round_trials):
                idx = order[:, t]
                trial = cur.reshape(n, -1).clone()
                trial[rows, idx] -= torch.sign(grad[rows, idx])
                trial = trial.reshape(cur.shape)
                trial_loss = _float_loss(model, x, trial, q, gdec, lam, objective)
                kept = trial_loss < best
                rejected[rows[~kept], idx[~kept]] = True
                cur[kept] = trial[kept]
                best = torch.where(kept, trial_loss, best)
        done += round_trials
    return cur.round().numpy().astype(np.int64)


def _ranked(grad: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """Per frame (row), the elements in the order to try: strongest gradient first.

    Elements whose move was rejected come last: reached only when every other one has been.
    """
    return torch.argsort(-torch.where(rejected, -1.0, grad.abs()), dim=1, stable=True)


@torch.no_grad()
def _real_loss(model: CodecModel, x: torch.Tensor, rebuilt: np.ndarray, bodies: list[bytes],
               gdec: torch.Tensor, lam: torch.Tensor, objective: Objective) -> torch.Tensor:
    """Per-frame objective of latents as sent: real bytes, the pixels the decoder makes."""
    shape = (len(bodies), *model.latent_shape)
    y_hat = torch.from_numpy(rebuilt.reshape(shape).astype(np.float32)) * gdec
    x_hat = torch.clamp(model.synthesise(y_hat), 0.0, 1.0)
    x_hat = torch.round(x_hat * 255.0) / 255.0  # the decoder's uint8 output
    bits = torch.tensor([8.0 * len(b) for b in bodies])
    return objective.loss(x_hat, x, bits, lam)


def _choose(model: CodecModel, x: torch.Tensor,
            single: tuple[np.ndarray, list[bytes], np.ndarray], candidates: list[np.ndarray],
            qbytes: np.ndarray, gdec: torch.Tensor, lam: torch.Tensor, objective: Objective,
            encode_bodies: EncodeBodies) -> tuple[np.ndarray, list[bytes], np.ndarray]:
    """Per frame, the candidate with the lowest real objective (``single`` included).

    ``single`` and the result: (latents, payload bodies, the latents the decoder rebuilds).
    """
    base, base_bodies, base_rebuilt = single
    best = base.copy()
    bodies = list(base_bodies)
    best_rebuilt = np.array(base_rebuilt, copy=True)
    best_loss = _real_loss(model, x, base_rebuilt, base_bodies, gdec, lam, objective)
    for cand in candidates:
        cand_bodies, rebuilt = encode_bodies(cand, qbytes)
        loss = _real_loss(model, x, rebuilt, cand_bodies, gdec, lam, objective)
        better = (loss < best_loss).numpy()
        for n in np.flatnonzero(better):
            best[n] = cand[n]
            bodies[n] = cand_bodies[n]
            best_rebuilt[n] = rebuilt[n]
        best_loss = torch.minimum(best_loss, loss)
    return best, bodies, best_rebuilt


def bits_per_pixel(bodies: list[bytes]) -> float:
    """Mean bits per pixel of payload bodies (for reports)."""
    return float(np.mean([8.0 * len(b) for b in bodies]) / PIXELS) if bodies else 0.0
