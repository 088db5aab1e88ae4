"""Frozen integer tables, the range coder over them, and the header overhead."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gan_compress_ros.codec import Codec
from gan_compress_ros.codec.bitstream import header_bytes
from gan_compress_ros.codec.nn.entropy import FactorizedPrior
from gan_compress_ros.codec.rangecoder import TableCoder
from gan_compress_ros.codec.tables import PRECISION, CdfTables, quantize_pmf


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=300))
def test_quantize_pmf_is_a_full_distribution(mass: list[float]) -> None:
    pmf = quantize_pmf(np.array(mass))
    assert pmf.dtype == np.int32 and (pmf >= 1).all() and pmf.sum() == 1 << PRECISION


def test_freeze_gives_valid_tables_that_cover_the_prior() -> None:
    torch.manual_seed(0)
    prior = FactorizedPrior(8)
    tables = prior.freeze()
    tables.validate(8)
    assert (tables.lows <= 0).all() and (tables.highs >= 0).all()


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), channels=st.integers(1, 12), count=st.integers(1, 40))
def test_range_coder_round_trip(seed: int, channels: int, count: int) -> None:
    rng = np.random.default_rng(seed)
    pmfs = [quantize_pmf(rng.random(rng.integers(1, 30)) ** 4) for _ in range(channels)]
    tables = CdfTables.from_pmfs(rng.integers(-10, 10, channels), pmfs)
    tables.validate(channels)
    coder = TableCoder(tables)
    symbols = np.stack([rng.integers(0, len(p), count) for p in pmfs]).astype(np.int32)
    assert np.array_equal(coder.decode(coder.encode(symbols), count), symbols)


def test_overhead_beyond_coded_symbols_is_at_most_8_bytes(codec: Codec,
                                                          val_frames: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    frames = np.concatenate([val_frames, rng.integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)])
    symbols = codec.latent_symbols(frames)
    payloads = codec.encode(frames)
    t = codec.tables
    for sym, payload in zip(symbols, payloads, strict=True):
        probs = np.stack([t.pmf[c, sym[c]] for c in range(len(sym))]) / float(1 << PRECISION)
        ideal_bytes = -np.log2(probs).sum() / 8
        assert len(payload) - ideal_bytes <= 8.0
        assert len(payload) >= header_bytes(payload[0])


@pytest.mark.parametrize("bad", [
    CdfTables(np.zeros(2, np.int32), np.array([2, 0], np.int32), np.ones((2, 2), np.int32)),
    CdfTables(np.zeros(2, np.int32), np.array([2, 2], np.int32), np.ones((2, 2), np.int32)),
    CdfTables(np.zeros(3, np.int32), np.array([2, 2, 2], np.int32), np.ones((2, 2), np.int32)),
])
def test_invalid_tables_are_rejected(bad: CdfTables) -> None:
    with pytest.raises(ValueError):
        bad.validate(2)
