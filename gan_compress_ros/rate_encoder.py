"""The rate-controlled encoder: frames and their arrival times in, what to publish out.

No ROS: the encoder node converts a message, calls ``RateEncoder.encode`` and publishes.
It applies, per frame, the frame-rate limit, the quality, the key interval (temporal mode,
``codec/temporal.py``; 1: every frame intra, exactly ``Codec.encode``), the byte cap and
the bit budget (``rate_control.BitBudget``): the cap and the budget's allowance merge into
one ``max_bytes``; a frame that cannot fit is skipped with the reason, counted for the
budget where the budget was the tighter bound and reported as an error where the fixed
cap was, or where no window of the budget can ever hold the frame. What was published is
recorded with ``published`` (a frame whose publishing failed does not spend the budget).
Frames are thinned below quality 0 (``codec/below_zero.py``) for the fixed cap only, or
where the budget's window cannot hold quality 0 at all: a smaller allowance skips the
frame, and the budget waits for a whole one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from .codec import ByteCapError, Codec, WeightsError
from .codec.below_zero import smallest_payload
from .codec.latent import CodedFrame
from .codec.temporal import StreamEncoder
from .rate_control import BitBudget

#: Frames the mean quality and the key/inter shares are taken over.
RECENT_FRAMES = 300
#: Why ``encode`` skipped a frame.
SKIP_RATE = "rate"  # max_rate_hz: too soon after the last frame sent
SKIP_BUDGET = "budget"  # the bit budget has no room for it now (a drop, not an error)
SKIP_CAP = "cap"  # over max_bytes even at quality 0 (bad input for this cap)
SKIP_WINDOW = "window"  # more than a whole window of the budget holds (a setting to fix)


@dataclass(frozen=True)
class Encoded:
    """One frame's outcome: a coded frame to publish, or why it was skipped."""

    coded: CodedFrame | None
    skipped: str = ""  # SKIP_* where ``coded`` is None
    message: str = ""  # the skip's reason in words
    overhead: int = 0  # message bytes beside the payload the budget counts
    arrived: float = 0.0  # the frame's time (``max_rate_hz`` counts from it)

    @property
    def payload(self) -> bytes:
        """The payload to publish (empty for a skipped frame)."""
        return b"" if self.coded is None else self.coded.payload


class RateEncoder:
    """Quality, key interval, frame rate, byte cap and bit budget over one codec.

    ``quality`` None: the model's default; ``max_bytes`` 0: no cap; ``max_bitrate`` 0: no
    budget (bit/s over sliding ``window_s`` windows); ``max_rate_hz`` 0: every frame.
    A fixed-rate model refuses the first three (ValueError naming the setting).
    """

    def __init__(self, codec: Codec, quality: float | None = None, max_bytes: int = 0,
                 max_bitrate: int = 0, window_s: float = 1.0, key_interval: int = 1,
                 max_rate_hz: float = 0.0) -> None:
        self.check(codec, quality, max_bytes, max_bitrate)
        self.codec = codec
        self.quality = quality
        self.max_bytes = max_bytes
        self.max_rate_hz = max_rate_hz
        self.window_s = window_s
        self.max_bitrate = 0
        self.budget: BitBudget | None = None
        self.set_bitrate(max_bitrate)
        self.key_interval = key_interval
        self.stream = self._stream_for(codec, key_interval)
        #: Encoder search effort (``Codec.encode``): 0 single pass .. 9.
        self.effort = 0
        self._last = -np.inf
        self._smallest: int | None = None  # ``_smallest_payload``, once asked
        self._qualities: deque[int] = deque(maxlen=RECENT_FRAMES)
        self._kinds: deque[tuple[bool, int]] = deque(maxlen=RECENT_FRAMES)  # (inter, bytes)

    @staticmethod
    def check(codec: Codec, quality: float | None, max_bytes: int, max_bitrate: int) -> None:
        """ValueError where a fixed-rate model is asked for a quality, cap or budget."""
        if codec.variable_rate:
            return
        for name, value, off in (("quality", quality, None),
                                 ("max_bytes_per_frame", max_bytes, 0),
                                 ("max_bitrate", max_bitrate, 0)):
            if value != off:
                raise ValueError(f"bad parameter {name}={value}: the weights {codec.path} are "
                                 f"a fixed-rate model; leave {name} at "
                                 f"{-1 if off is None else off:g}")

    @staticmethod
    def _stream_for(codec: Codec, key_interval: int) -> StreamEncoder:
        """The stream encoder of ``key_interval`` (1: intra only, no tables needed)."""
        return codec.stream_encoder(key_interval)

    # -- settings, each checked before it takes effect -------------------------------------

    def set_quality(self, quality: float | None) -> None:
        """The quality of the next frames (None: the model's default)."""
        self.check(self.codec, quality, self.max_bytes, self.max_bitrate)
        self.quality = quality

    def set_cap(self, max_bytes: int) -> None:
        """The byte cap per payload (0: none)."""
        self.check(self.codec, self.quality, max_bytes, self.max_bitrate)
        self.max_bytes = max_bytes

    def set_bitrate(self, max_bitrate: int) -> None:
        """The bit budget (0: none); a change keeps what the window already holds."""
        self.check(self.codec, self.quality, self.max_bytes, max_bitrate)
        if max_bitrate and max_bitrate * self.window_s < 8:
            raise ValueError(f"bad parameter max_bitrate={max_bitrate}: not one byte per "
                             f"{self.window_s:g} s window")
        if not max_bitrate:
            self.budget = None
        elif self.budget is None:
            self.budget = BitBudget(max_bitrate, self.window_s)
        else:
            self.budget.set_rate(max_bitrate)
        self.max_bitrate = max_bitrate

    def set_window(self, window_s: float) -> None:
        """The budget's window; a new window starts from an empty history."""
        self.window_s = window_s
        if self.budget is not None:
            self.budget = BitBudget(self.max_bitrate, window_s)

    def set_key_interval(self, key_interval: int) -> None:
        """Temporal mode's key interval (1: every frame intra); starts with a key frame."""
        try:
            self.stream = self._stream_for(self.codec, key_interval)
        except WeightsError as exc:
            raise ValueError(str(exc)) from None
        self.key_interval = key_interval

    def set_effort(self, effort: int) -> None:
        """The encoder's search effort; ValueError where these weights cannot search."""
        self.effort = self.codec.check_effort(effort)

    def set_codec(self, codec: Codec) -> None:
        """Other weights, checked against the settings before they take over."""
        self.check(codec, self.quality, self.max_bytes, self.max_bitrate)
        codec.check_effort(self.effort)
        try:
            stream = self._stream_for(codec, self.key_interval)
        except WeightsError as exc:
            raise ValueError(f"{exc} (or set key_interval 1)") from None
        self.codec, self.stream = codec, stream
        self._smallest = None

    # -- per frame -----------------------------------------------------------------------

    def _smallest_payload(self) -> int:
        """The smallest payload these weights can send (the most probable latent's bytes)."""
        if self._smallest is None:
            self._smallest = smallest_payload(self.codec)
        return self._smallest

    def due(self, now: float) -> bool:
        """Whether a frame arriving at ``now`` passes ``max_rate_hz`` (else: drop it unread)."""
        return not self.max_rate_hz or now - self._last >= 1.0 / self.max_rate_hz

    def encode(self, frame: np.ndarray, now: float, overhead: int = 0) -> Encoded:
        """Encode one uint8 RGB frame (64, 64, 3) arriving at ``now`` (seconds, monotonic).

        ``overhead``: message bytes beside the payload that the budget counts. Returns the
        coded frame, or why it was skipped; ``published`` records what went out.
        """
        if not self.due(now):
            return Encoded(None, SKIP_RATE, f"over max_rate_hz {self.max_rate_hz:g}", 0, now)
        quality, cap, budget = self.quality, self.max_bytes or None, self.budget
        budget_sets_cap = False  # whether the budget's allowance, not max_bytes, is the cap
        below_zero = True
        if budget is not None:
            allowed = budget.allowance(now, overhead, 1.0 / self.max_rate_hz
                                       if self.max_rate_hz else 0.0)
            budget_sets_cap = cap is None or allowed < cap
            cap = allowed if cap is None else min(cap, allowed)
            if budget.lowest_only:  # the share is below quality 0's size
                quality = 0.0
            below_zero = not budget_sets_cap or budget.below_zero
            if budget.limit - overhead < self._smallest_payload():
                # no window will ever hold a frame: a setting to fix, not a drop
                return Encoded(None, SKIP_WINDOW, f"max_bitrate {self.max_bitrate} bit/s holds "
                               f"{int(budget.limit)} bytes per {self.window_s:g} s window; the "
                               f"smallest frame needs {self._smallest_payload()} bytes and "
                               f"{overhead} of overhead: raise max_bitrate or max_bitrate_window "
                               "(or lower max_bitrate_overhead)",
                               overhead, now)
        try:
            if cap is not None and cap < 1:
                raise ByteCapError("no bytes left in the budget", 0, 0)
            coded = self.stream.encode_frame(frame, quality=quality, max_bytes=cap,
                                             effort=self.effort, below_zero=below_zero)
        except ByteCapError as exc:
            # exc.smallest: the cheapest latent's size where frames may go below quality 0,
            # else quality 0's (a frame over max_bytes there would still be thinned to it)
            over_max_bytes = bool(self.max_bytes) and exc.smallest > self.max_bytes \
                and below_zero
            if budget is not None and budget_sets_cap and not over_max_bytes:
                # skipped for the budget, not an error (a frame max_bytes could never hold is)
                smallest = min(exc.smallest, self.max_bytes or exc.smallest)
                budget.skipped(smallest + overhead if smallest else 0)
                return Encoded(None, SKIP_BUDGET, str(exc), overhead, now)
            return Encoded(None, SKIP_CAP, str(exc), overhead, now)
        return Encoded(coded, overhead=overhead, arrived=now)

    def published(self, encoded: Encoded, now: float) -> None:
        """Record a frame that went out at ``now``: the budget spends it, figures count it."""
        coded = encoded.coded
        if coded is None:
            return
        if self.key_interval > 1:
            self._kinds.append((coded.kind == "inter", len(coded)))
        if self.budget is not None:
            # only a single-pass intra frame tells the budget quality 0's size, which is
            # what ``code_to_cap`` checks; a searched or inter frame is smaller
            below_floor = coded.below_zero or coded.kind == "inter" or \
                (self.effort > 0 and coded.qbyte == 0)
            self.budget.sent(now, encoded.overhead + len(coded), at_lowest=coded.qbyte == 0,
                             below_floor=below_floor)
        self._last = encoded.arrived
        if self.codec.variable_rate:  # an inter frame has its key's quality
            self._qualities.append(coded.qbyte)

    def figures(self, now: float) -> dict[str, float]:
        """Rate-control figures for /diagnostics and the summary line."""
        figures: dict[str, float] = {}
        if self._qualities:
            figures["mean_quality"] = sum(self._qualities) / len(self._qualities) / 255
        if self.key_interval > 1 and self._kinds:
            inter_bytes = sum(n for inter, n in self._kinds if inter)
            figures["inter_frame_share"] = sum(i for i, _ in self._kinds) / len(self._kinds)
            figures["key_byte_share"] = 1 - inter_bytes / max(1, sum(n for _, n in self._kinds))
        if self.budget is not None:
            figures["budget_bps"] = float(self.max_bitrate)
            figures["achieved_bps"] = self.budget.window_bits_per_s(now)
            figures["skipped_for_budget"] = self.budget.frames_skipped
        return figures
