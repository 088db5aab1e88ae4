"""Range coding of latent symbols with ``constriction`` over frozen integer tables.

The probabilities handed to constriction are the stored integers divided by 2**PRECISION,
which is exact in float64, so every process builds the same quantized models from them.
"""

from __future__ import annotations

import constriction
import numpy as np

from .entropy import PRECISION, CdfTables

_Categorical = constriction.stream.model.Categorical
_RangeEncoder = constriction.stream.queue.RangeEncoder
_RangeDecoder = constriction.stream.queue.RangeDecoder


class TableCoder:
    """Codes a (C, K) array of per-channel symbols into bytes and back."""

    def __init__(self, tables: CdfTables) -> None:
        self.tables = tables
        self._models = []
        for c, length in enumerate(tables.lengths):
            if length == 1:  # a constant channel carries no information: not coded
                self._models.append(None)
                continue
            probs = tables.pmf[c, :length].astype(np.float64) / float(1 << PRECISION)
            self._models.append(_Categorical(probs, perfect=False))

    def encode(self, symbols: np.ndarray) -> bytes:
        """Range-code ``symbols`` (C, K), each within its channel's alphabet."""
        encoder = _RangeEncoder()
        for model, row in zip(self._models, symbols, strict=True):
            if model is not None:
                encoder.encode(np.ascontiguousarray(row, dtype=np.int32), model)
        words = encoder.get_compressed()
        # Trailing zero bytes are implied: the decoder pads with zeros to a whole word.
        return words.astype(">u4").tobytes().rstrip(b"\0")

    def decode(self, body: bytes, count: int) -> np.ndarray:
        """Inverse of ``encode`` for ``count`` symbols per channel; may raise on corrupt data."""
        padded = bytes(body) + b"\0" * (-len(body) % 4)
        words = np.frombuffer(padded, dtype=">u4").astype(np.uint32)
        decoder = _RangeDecoder(words)
        out = np.zeros((len(self._models), count), dtype=np.int32)
        for c, model in enumerate(self._models):
            if model is not None:
                out[c] = decoder.decode(model, count)
        return out
