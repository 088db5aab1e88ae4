"""Exception types of the codec: payloads, weights files, byte caps."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class BitstreamError(ValueError):
    """A payload cannot be decoded: truncated, corrupt, another format version or model."""


class WeightsError(ValueError):
    """A weights file is missing, unreadable, tampered or does not match its preset."""


class ByteCapError(ValueError):
    """A frame does not fit a byte cap even at the lowest quality; ``smallest`` is its size."""

    def __init__(self, message: str, frame: int, smallest: int) -> None:
        super().__init__(message)
        self.frame = frame
        self.smallest = smallest
        #: ``Codec.encode`` of a batch: every frame's payload, None where none fits.
        self.payloads: list[bytes | None] = []


@contextlib.contextmanager
def corrupt_body(kind: str = "") -> Iterator[None]:
    """Report a range-coded body that does not decode as one ``BitstreamError``.

    The range coder (constriction or the Python one) reports corrupt data as various
    exceptions; this is the one place that turns them into the codec's error.
    """
    try:
        yield
    except BitstreamError:
        raise
    except Exception as exc:
        what = f"{kind} payload" if kind else "payload"
        raise BitstreamError(f"corrupt {what}: its range-coded body does not decode "
                             f"({exc})") from None
