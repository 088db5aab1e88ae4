"""Full stamps from 16 bits: the receiver's clock for a link's frames and tables.

A frame carries its stamp's milliseconds modulo 65536. The receiver keeps an anchor, the
newest stamp it accepted (from a table's reference or a frame) and when it arrived, and
predicts the stamp of a frame arriving now as the anchor plus the time passed (sender and
receiver clocks run at the same rate; only link delays differ). A frame gets the stamp with
its 16 bits nearest the prediction, and only within ``BEHIND_MS`` before to ``AHEAD_MS``
after it: 40 s of the 65.5 s the 16 bits span, so a stamp is never off by a wrap. Frames thus
keep their stamps after tables are lost, and periodic tables are needed only for receivers
that join late, which lets slow links send them rarely.

Without a key anyone can send a table, so one table cannot take over: once a frame has been
accepted under the current table, a table whose reference lies outside that range is set
aside (``tables_rejected``) and taken only when no frame has been accepted for
``RESYNC_S`` (the sender's clock jumped). A frame more than ``AHEAD_MS`` ahead is refused,
so a forged frame moves the anchor by at most that. With a key, tables are authenticated
and the newest one always applies.
"""

from __future__ import annotations

from .framing import MAX_STAMP_NS, Table

BEHIND_MS = 30_000
AHEAD_MS = 10_000
#: Seconds without an accepted frame after which an unkeyed receiver takes a new clock.
RESYNC_S = 10.0
_MS = 1_000_000
_WRAP = 1 << 16


class StampClock:
    """The current table and the anchor that turns 16-bit stamps into full ones."""

    def __init__(self, keyed: bool) -> None:
        self.keyed = keyed
        self.table: Table | None = None
        self.anchor_ms = 0
        self.anchor_t = 0.0
        #: A frame was accepted under the current anchor (unkeyed: the anchor is trusted).
        self.confirmed = False
        self.last_accept_t: float | None = None
        self.pending: Table | None = None
        self.rejected = 0

    def predict(self, now: float) -> int:
        """The stamp (ms) a frame sent just now would carry."""
        return self.anchor_ms + round((now - self.anchor_t) * 1000)

    def offer_table(self, table: Table, now: float) -> bool:
        """Take a table from the link; whether it now applies."""
        self._resync(now)
        ref = table.reference_ns // _MS
        if self.table is None or (self.keyed and ref >= self.table.reference_ns // _MS):
            return self._adopt(table, now)
        if self.keyed:
            return False  # an older (reordered or replayed) table changes nothing
        if not self.confirmed:  # nothing accepted under the current one: the newest wins
            return self._adopt(table, now, reset=True)
        predicted = self.predict(now)
        if not predicted - BEHIND_MS <= ref <= predicted + AHEAD_MS:
            self.rejected += 1
            self.pending = table
            return False
        if ref < self.table.reference_ns // _MS:
            return False
        return self._adopt(table, now)

    def resolve(self, stamp16: int, now: float) -> int | None:
        """The full stamp (ms) of a frame's 16 bits, or None when it cannot be told."""
        self._resync(now)
        if self.table is None:
            return None
        predicted = self.predict(now)
        stamp = predicted + (stamp16 - predicted + _WRAP // 2) % _WRAP - _WRAP // 2
        if not predicted - BEHIND_MS <= stamp <= predicted + AHEAD_MS:
            return None
        if not 0 <= stamp * _MS <= MAX_STAMP_NS:
            return None
        return stamp

    def accept(self, stamp_ms: int, now: float) -> None:
        """A frame with this stamp was accepted: the anchor follows the newest."""
        self.confirmed = True
        self.last_accept_t = now
        if stamp_ms >= self.anchor_ms:  # the newest again: stamps that stand still follow too
            self.anchor_ms, self.anchor_t = stamp_ms, now

    def _adopt(self, table: Table, now: float, reset: bool = False) -> bool:
        ref = table.reference_ns // _MS
        if self.table is None or reset or ref > self.anchor_ms:
            self.anchor_ms, self.anchor_t = ref, now
        if self.table is None or reset:
            self.confirmed = self.keyed
        self.table = table
        self.last_accept_t = now
        return True

    def _resync(self, now: float) -> None:
        """Unkeyed: after RESYNC_S with nothing accepted, follow the sender's clock again.

        The next table applies (or the one set aside), as after a jump of the sender's clock.
        """
        if self.keyed or self.last_accept_t is None or now - self.last_accept_t <= RESYNC_S:
            return
        self.confirmed = False
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self._adopt(pending, now, reset=True)
