"""Exception types of the codec: payloads, weights files, byte caps."""


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
