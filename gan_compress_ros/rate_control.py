"""A bit-rate budget held over every 1-second window: how many bytes the next frame may take.

No ROS and no codec here: the encoder node asks ``BitBudget.allowance`` before it encodes a
frame, encodes at the highest quality whose payload fits (``Codec.encode(max_bytes=...)``),
and reports what it published with ``sent`` (or ``skipped`` when nothing fits).

Two rules, both on the bytes actually published (payload plus message overhead):

* A sliding window: the bytes sent in any interval of ``window_s`` seconds never exceed the
  budget. (A token bucket that guarantees the same must refill at half the budget, with a
  bucket of the other half, and so leaves half the link unused in steady state.)
* A share: credit accrues at ``SHARE`` of the budget's rate with the time between arriving
  frames and is spent by the frames that are sent; each frame's share is ``budget / frame rate``
  bytes, so a steady stream spends the budget evenly instead of bursting at the start of
  each window. A frame may take its share (up to twice it from credit that
  smaller frames left); when the share is below the smallest message the recent frames
  could be (their size at quality 0, ``floor``), frames are coded at quality 0
  (``lowest_only``) and go out whenever the credit covers them. So the encoder first
  lowers quality down to 0, and only then skips frames: a frame that cannot fit leaves its
  credit to the next, which goes out at about quality 0 once the credit covers it.

Frames are not thinned below quality 0 to spend a small credit sooner (``RateEncoder``):
such a frame shows little or nothing of the scene. Only where quality 0 is more than a
whole window can hold (``below_zero``) do frames go out thinner, each when the credit is
full, so each is the best that the window allows. On slow links (a share of a fraction of
a byte) the credit builds up the same way until it covers a whole frame.
"""

from __future__ import annotations

from collections import deque

#: Frame interval assumed before two frames have arrived (seconds): a 30 fps camera's, so a
#: first frame takes no more than its share at the common rates.
FIRST_INTERVAL_S = 1 / 30
#: Weight of the newest interval in the frame-rate estimate.
INTERVAL_SMOOTHING = 0.1
#: Part of the budget the shares hand out: the rest absorbs jittered arrivals, so that the
#: window rarely has to hold a frame back.
SHARE = 0.97


class BitBudget:
    """A budget in bit/s over sliding ``window_s``-second windows, with an even share per frame."""

    def __init__(self, bits_per_s: int, window_s: float = 1.0) -> None:
        if bits_per_s < 8:
            raise ValueError(f"a bit-rate budget of {bits_per_s} bit/s cannot carry a byte")
        self.window_s = window_s
        self.limit = bits_per_s * window_s // 8  # bytes per window
        self._sent: deque[tuple[float, int]] = deque()
        self._in_window = 0
        self._credit = 0.0
        self._interval: float | None = None
        self._last_arrival: float | None = None
        self.frames_sent = 0
        self.frames_skipped = 0
        self.bytes_sent = 0
        #: Smallest message (payload and overhead) recent frames could be: quality 0's.
        self.floor = 0
        #: Set by ``allowance``: code this frame at quality 0 (the share is below ``floor``).
        self.lowest_only = False

    def set_rate(self, bits_per_s: int) -> None:
        """Change the budget; bytes already sent in the window still count."""
        if bits_per_s < 8:
            raise ValueError(f"a bit-rate budget of {bits_per_s} bit/s cannot carry a byte")
        self.limit = bits_per_s * self.window_s // 8
        self._credit = min(self._credit, self.limit)

    def _expire(self, now: float) -> None:
        while self._sent and self._sent[0][0] <= now - self.window_s:
            self._in_window -= self._sent.popleft()[1]

    def room(self, now: float) -> int:
        """Bytes that may still be sent now without any window going over the budget."""
        self._expire(now)
        return int(self.limit - self._in_window)

    def allowance(self, now: float, overhead: int, min_interval: float = 0.0) -> int:
        """Payload bytes the frame arriving at ``now`` may take (< 1: skip it).

        ``overhead``: bytes the message adds around the payload. ``min_interval``: the
        shortest time between frames that may be sent (a frame-rate limit's period), so
        each one's share is at least that much of the budget.
        """
        gap = None
        if self._last_arrival is not None:
            gap = max(now - self._last_arrival, 0.0)
            self._interval = gap if self._interval is None else \
                (1 - INTERVAL_SMOOTHING) * self._interval + INTERVAL_SMOOTHING * gap
        self._last_arrival = now
        interval = self._interval if self._interval is not None else FIRST_INTERVAL_S
        interval = max(interval, min_interval)
        share = SHARE * self.limit * min(interval / self.window_s, 1.0)
        # credit is earned by the time elapsed, the share (a frame's size) by the frame rate:
        # a frame arriving soon after a skipped one earns only that short while
        earned = share if gap is None else SHARE * self.limit * min(gap / self.window_s, 1.0)
        self._credit = min(self._credit + earned, float(self.limit))
        # a share below the smallest frame (or below one byte beside the overhead, before any
        # frame has said its size): quality 0, once the credit covers a whole frame (skipping
        # until then); otherwise up to twice the share, from credit that smaller frames left
        self.lowest_only = max(self.floor, overhead + 1) > share
        target = self._credit if self.lowest_only else min(self._credit, 2 * share)
        if self.lowest_only and min(self._credit, self.room(now)) < min(self.floor, self.limit):
            target = 0.0  # skipped without coding it: no room or credit for a frame yet
        return int(min(target, self._credit, self.room(now))) - overhead

    @property
    def below_zero(self) -> bool:
        """Whether frames must go below quality 0: quality 0 needs more than a window holds."""
        return self.floor > self.limit

    def sent(self, now: float, total_bytes: int, at_lowest: bool = False,
             below_floor: bool = False) -> None:
        """Record a published message of ``total_bytes`` (payload plus overhead).

        ``at_lowest``: it was coded at quality 0, so it is the frame's smallest size;
        ``below_floor``: smaller than the frame's own single-pass intra frame at quality 0
        (thinned below it, searched at effort > 0, or an inter frame), so it says nothing of
        that size.
        """
        if total_bytes > self.room(now):
            raise ValueError(f"{total_bytes} bytes exceed the {self.room(now)} bytes left in "
                             "the window")
        self._sent.append((now, total_bytes))
        self._in_window += total_bytes
        self._credit = max(self._credit - total_bytes, 0.0)
        self.frames_sent += 1
        self.bytes_sent += total_bytes
        if below_floor:
            return
        if at_lowest:
            self.floor = total_bytes
        elif self.floor:  # this frame fitted above quality 0: its smallest is smaller still
            self.floor = min(self.floor, total_bytes)

    def skipped(self, smallest: int = 0) -> None:
        """Record a frame that did not fit (its credit stays for the next one).

        ``smallest``: its size at quality 0 with the overhead, when the coder found it.
        """
        self.frames_skipped += 1
        if smallest:
            self.floor = smallest

    def window_bits_per_s(self, now: float) -> float:
        """Bits per second sent over the current window."""
        self._expire(now)
        return self._in_window * 8 / self.window_s
