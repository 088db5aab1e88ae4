"""The bit-rate budget: no window over it, the budget used, quality before skipping."""

from __future__ import annotations

import numpy as np
import pytest

from gan_compress_ros.rate_control import BitBudget


def _windows_ok(sent: list[tuple[float, int]], limit: int, window: float) -> bool:
    """Whether every interval of ``window`` seconds holds at most ``limit`` bytes."""
    times = np.array([t for t, _ in sent])
    sizes = np.array([n for _, n in sent])
    for t in times:  # the worst windows start at a send
        if sizes[(times >= t) & (times < t + window)].sum() > limit:
            return False
    return True


# budgets of many frames a window (a window holding two or three frames cannot be filled
# with frames of 100-160 bytes: that case is measured by gan-compress-bench rate)
@pytest.mark.parametrize("bits_per_s, fps", [(8000, 30.0), (16000, 30.0), (20000, 10.0),
                                             (12000, 5.0)])
def test_no_window_over_the_budget_and_most_of_it_used(bits_per_s: int, fps: float) -> None:
    rng = np.random.default_rng(bits_per_s)
    budget = BitBudget(bits_per_s)
    sent: list[tuple[float, int]] = []
    overhead = 40
    t = 0.0
    for _ in range(int(120 * fps)):  # two minutes, with jittered arrivals
        t += rng.uniform(0.5, 1.5) / fps
        allowed = budget.allowance(t, overhead)
        smallest = int(rng.integers(60, 120))  # what quality 0 would need for this frame
        if allowed < smallest:
            budget.skipped(smallest + overhead)  # the coder reports the size it reached
            continue
        size = int(rng.uniform(0.9, 1.0) * allowed)  # the coder fills most of its cap
        size = smallest if budget.lowest_only else max(size, smallest)
        budget.sent(t, size + overhead, at_lowest=size == smallest)
        sent.append((t, size + overhead))
    assert _windows_ok(sent, bits_per_s // 8, 1.0)
    used = sum(n for _, n in sent) * 8 / t
    assert used >= 0.85 * bits_per_s, (used, bits_per_s)


def test_frames_share_the_budget_evenly() -> None:
    budget = BitBudget(24_000)  # 3000 B/s at 30 fps: 100 B a frame
    allowances = []
    for i in range(300):
        allowed = budget.allowance(i / 30, 0)
        allowances.append(allowed)
        budget.sent(i / 30, allowed)
    assert np.median(allowances[30:]) == pytest.approx(97, abs=2)  # SHARE of 100


def test_a_skipped_frame_leaves_its_credit_to_the_next() -> None:
    budget = BitBudget(24_000)
    for i in range(60):
        budget.sent(i / 30, budget.allowance(i / 30, 0))
    normal = budget.allowance(2.0, 0)
    budget.skipped()
    assert 90 <= normal <= 110  # a share of 97 bytes, and the fractions of bytes carried over
    assert budget.allowance(2.0 + 1 / 30, 0) >= normal + 85


def test_sending_over_the_window_is_refused() -> None:
    budget = BitBudget(800)  # 100 bytes a second
    budget.sent(0.0, 100)
    assert budget.room(0.5) == 0
    with pytest.raises(ValueError, match="exceed"):
        budget.sent(0.5, 1)
    assert budget.room(1.0) == 100  # the window has moved on


def test_a_longer_window_for_slow_links() -> None:
    budget = BitBudget(100, window_s=10.0)  # an acoustic modem: 125 bytes per 10 s
    assert budget.limit == 125
    with pytest.raises(ValueError, match="cannot carry a byte"):
        BitBudget(4)


def test_quality_drops_to_zero_before_frames_are_skipped() -> None:
    """A share below the smallest frame: frames go out at that size, not bigger and rarer."""
    budget = BitBudget(8000)  # 1000 B/s at 30 fps: a share of 32 bytes
    sizes, t = [], 0.0
    for i in range(900):
        t = i / 30
        allowed = budget.allowance(t, 0)
        if allowed < 100:  # every frame needs 100 bytes at quality 0
            budget.skipped(100)
            continue
        # quality 0 when told so, else the coder fills any cap up to quality 1's 400 bytes
        size = 100 if budget.lowest_only else min(allowed, 400)
        budget.sent(t, size, at_lowest=size == 100)
        sizes.append(size)
    assert np.median(sizes) <= 110  # near quality 0
    assert len(sizes) >= 0.9 * 1000 * 30 / 100  # about budget / smallest frames a second


def test_slow_links_send_once_the_credit_covers_a_frame() -> None:
    """54 bit/s over 60 s windows (LoRa at a 1% duty cycle) for a 10 fps camera.

    A share of half a byte a frame: frames go out whenever the credit covers one at quality
    0 (60 B and 8 of framing). Until 2026-12-07 a frame could take at most twice its share,
    never a byte beside the framing, and no frame was ever sent.
    """
    budget = BitBudget(54, window_s=60.0)  # 405 bytes a window
    sent: list[tuple[float, int]] = []
    coded = 0
    for i in range(6000):  # ten minutes
        t = i / 10
        allowed = budget.allowance(t, 8)
        if allowed < 1:  # the node skips it unread
            budget.skipped()
            continue
        coded += 1
        if allowed < 60:  # the coder reports quality 0's size
            budget.skipped(68)
            continue
        budget.sent(t, 68, at_lowest=True)
        sent.append((t, 68))
    assert _windows_ok(sent, 405, 60.0)
    assert len(sent) >= 0.95 * 600 / 60 * (405 // 68), len(sent)  # 5 whole frames a window
    assert coded <= 2 * len(sent) + 2  # frames wait uncoded until the credit covers one


def test_a_window_under_quality_0_sends_below_it_with_the_full_window() -> None:
    budget = BitBudget(300)  # 37 bytes a second, under any frame's quality 0 with framing
    assert budget.allowance(0.0, 8) < 1 and not budget.below_zero
    budget.skipped()
    for i in range(1, 60):
        allowed = budget.allowance(i / 30, 8)
        if allowed >= 1:
            break
    budget.skipped(60 + 8)  # the coder: quality 0 needs 60 bytes
    assert budget.below_zero  # no window can hold it: frames must go thinner
    allowances = [budget.allowance(1 + i / 30, 8) for i in range(40)]
    first = next(i for i, a in enumerate(allowances) if a >= 1)
    assert allowances[first] == 37 - 8  # the whole window, not a first byte of credit
    budget.sent(1 + first / 30, 37, below_floor=True)
    assert budget.below_zero  # a thinned frame says nothing of quality 0's size


def test_credit_is_earned_by_the_time_elapsed() -> None:
    """A frame-rate limit's period sets a frame's share, not the credit it earns.

    With ``max_rate_hz`` a skipped frame leaves the next camera frame due; until 2026-12-07
    that one earned a whole period's share again, 1/30 s after the last.
    """
    budget = BitBudget(9600)  # 1200 B/s; at 5 Hz a share of 0.97 * 240 bytes
    first = budget.allowance(0.0, 0, min_interval=0.2)
    budget.skipped()
    soon = budget.allowance(1 / 30, 0, min_interval=0.2)
    assert first == pytest.approx(0.97 * 240, abs=1)
    assert soon - first <= 0.97 * 1200 / 30 + 1, (first, soon)
