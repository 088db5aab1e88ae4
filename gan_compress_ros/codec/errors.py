"""Exception types of the codec: one for payloads, one for weights files."""


class BitstreamError(ValueError):
    """A payload cannot be decoded: truncated, corrupt, another format version or model."""


class WeightsError(ValueError):
    """A weights file is missing, unreadable, tampered or does not match its preset."""
