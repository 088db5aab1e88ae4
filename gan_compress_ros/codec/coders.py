"""The version-to-coder table: one entropy coder per payload kind.

A payload's first byte is its format version (``bitstream.py``); each version is one kind
of payload with one coder. ``Codec`` holds the intra coder its weights call for; a
``StreamDecoder`` adds the inter coder once temporal tables are loaded.
"""

from __future__ import annotations

from .bitstream import (
    CONTEXT_VERSION,
    FORMAT_VERSION,
    INTER_VERSIONS,
    INTRA_VERSIONS,
    KINDS,
)
from .context_coding import ContextModel
from .inter import InterCoder
from .intra import ContextIntraCoder, FixedRateCoder
from .latent import IntraCoder
from .tables import CdfTables

#: The kinds that decode alone, by version.
INTRA_CODERS: dict[int, type[FixedRateCoder] | type[ContextIntraCoder]] = {
    FORMAT_VERSION: FixedRateCoder,
    **dict.fromkeys(INTRA_VERSIONS, ContextIntraCoder),
}
#: Every kind, by version (``bitstream.KINDS`` names them).
CODERS: dict[int, type] = {**INTRA_CODERS, **dict.fromkeys(INTER_VERSIONS, InterCoder)}
assert set(CODERS) == set(KINDS)


def intra_coder(tables: CdfTables | ContextModel, latent_shape: tuple[int, int, int],
                model_id: str) -> IntraCoder:
    """The intra coder of a model's entropy tables: a context model writes version 4."""
    version = CONTEXT_VERSION if isinstance(tables, ContextModel) else FORMAT_VERSION
    return INTRA_CODERS[version](tables, latent_shape, model_id)  # type: ignore[arg-type]
