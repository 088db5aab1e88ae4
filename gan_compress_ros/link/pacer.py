"""The sender's pace: a token bucket on the link's bytes; the newest frame waits, older drop."""

from __future__ import annotations

#: Seconds of link time the bucket may save up (a burst after a quiet spell).
BURST_S = 0.5


class Pacer:
    """Holds at most one message (its frames) until the link has time for it.

    ``bytes_per_s`` 0: no limit. A new message replaces one still waiting, which is counted
    as dropped: on a slow link the newest picture is worth more than an old one.
    """

    def __init__(self, bytes_per_s: float) -> None:
        self.bytes_per_s = bytes_per_s
        self.tokens = bytes_per_s * BURST_S
        self._last: float | None = None
        self.pending: list[bytes] | None = None
        self.dropped = 0
        self.sent = 0
        self.bytes_sent = 0

    def offer(self, frames: list[bytes]) -> None:
        """A message to send as soon as the link allows (replacing one still waiting)."""
        if self.pending is not None:
            self.dropped += 1
        self.pending = frames

    def poll(self, now: float) -> list[bytes] | None:
        """The frames to write now, or None while the link is still busy."""
        if self._last is not None and self.bytes_per_s:
            size = sum(len(f) for f in self.pending or [])
            cap = max(self.bytes_per_s * BURST_S, size)
            self.tokens = min(self.tokens + (now - self._last) * self.bytes_per_s, cap)
        self._last = now
        if self.pending is None:
            return None
        size = sum(len(f) for f in self.pending)
        if self.bytes_per_s and self.tokens < size:
            return None
        frames, self.pending = self.pending, None
        self.tokens -= size if self.bytes_per_s else 0
        self.sent += 1
        self.bytes_sent += size
        return frames
