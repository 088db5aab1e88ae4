"""The pure-Python range coder writes and reads exactly constriction's bytes.

It is for Jetsons, where constriction has no wheel: same payloads, same symbols, and the same
failures on corrupt data.
"""

from __future__ import annotations

import subprocess
import sys

import constriction
import numpy as np
import pytest
from testkit.ros import without_torch

from gan_compress_ros.codec import Codec, rangecoder_py
from gan_compress_ros.codec.rangecoder import TableCoder
from gan_compress_ros.codec.tables import PRECISION, CdfTables, quantize_pmf

Categorical = constriction.stream.model.Categorical


def _random_pmfs(rng: np.random.Generator, channels: int) -> list[np.ndarray]:
    """Tables like the codec's: mostly small alphabets, some up to 600 symbols, skewed."""
    pmfs = []
    for _ in range(channels):
        n = int(rng.integers(2, 600)) if rng.random() < 0.3 else int(rng.integers(2, 40))
        pmfs.append(quantize_pmf(rng.random(n) ** rng.uniform(0.5, 8)))
    return pmfs


def _bundled_pmfs() -> list[np.ndarray]:
    """The bundled model's Gaussian tables (256 of them: a sample of 16)."""
    tables = Codec.load(backend="onnxruntime").tables.tables
    return [tables.pmf[c, :n] for c, n in enumerate(tables.lengths) if n > 1][::16]


def _decode_or_error(make_decoder, models, count):
    try:
        decoder = make_decoder()
        return [decoder.decode(m, count) for m in models]
    except Exception:  # noqa: BLE001 - both must fail, the type is theirs
        return None


@pytest.mark.parametrize("seed", range(6))
def test_same_words_and_symbols_as_constriction(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for trial in range(150):
        pmfs = _bundled_pmfs() if trial == 0 else _random_pmfs(rng, int(rng.integers(1, 20)))
        count = int(rng.integers(1, 40))
        models = [Categorical(p.astype(np.float64) / (1 << PRECISION), perfect=False)
                  for p in pmfs]
        cdfs = [rangecoder_py.quantized_cdf(p) for p in pmfs]
        symbols = [(rng.integers(0, len(p), count) if rng.random() < 0.5  # any symbol
                    else rng.choice(len(p), count, p=p / p.sum())).astype(np.int32)
                   for p in pmfs]
        reference = constriction.stream.queue.RangeEncoder()
        ours = rangecoder_py.RangeEncoder()
        for model, cdf, row in zip(models, cdfs, symbols, strict=True):
            reference.encode(row, model)
            ours.encode(row, cdf)
        words = reference.get_compressed()
        assert np.array_equal(ours.get_compressed(), words)
        assert ours.pos() == reference.pos()
        flipped = words.copy()
        if len(flipped):
            flipped[rng.integers(len(flipped))] ^= np.uint32(1 << int(rng.integers(32)))
        garbage = rng.integers(0, 2 ** 32, int(rng.integers(0, 6)), dtype=np.uint64)
        for data in (words, flipped, garbage.astype(np.uint32)):
            want = _decode_or_error(lambda d=data: constriction.stream.queue.RangeDecoder(d),
                                    models, count)
            got = _decode_or_error(lambda d=data: rangecoder_py.RangeDecoder(d), cdfs, count)
            assert (want is None) == (got is None)
            if want is not None:
                assert all(np.array_equal(a, b) for a, b in zip(want, got, strict=True))


def test_codec_payloads_are_identical_with_either_coder(codec: Codec,
                                                        val_frames: np.ndarray) -> None:
    from gan_compress_ros.codec.context_coding import ContextCoder

    symbols = codec.latent_symbols(val_frames)  # the fixed-rate codec of the session
    fast, slow = TableCoder(codec.tables, "constriction"), TableCoder(codec.tables, "python")
    for row in symbols:
        body = fast.encode(row)
        assert slow.encode(row) == body
        assert np.array_equal(slow.decode(body, row.shape[1]), row)
    with pytest.raises(ValueError, match="unknown range coder"):
        TableCoder(codec.tables, "zstd")
    bundled = Codec.load(backend="onnxruntime")  # the context model's grouped rows
    model = bundled.tables
    fast2 = ContextCoder(model, TableCoder(model.tables, "constriction"))
    slow2 = ContextCoder(model, TableCoder(model.tables, "python"))
    for q in (0.0, 0.5, 1.0):
        latent = bundled.latent(val_frames, q)
        qbytes = np.full(len(latent), bundled.quality_byte(q))
        bodies = fast2.encode(latent, qbytes)
        assert slow2.encode(latent, qbytes) == bodies
        np.testing.assert_array_equal(slow2.decode(bodies, qbytes),
                                      fast2.decode(bodies, qbytes))


def test_codec_runs_without_torch_and_constriction() -> None:
    """The Jetson case: neither torch nor constriction is installed.

    The payloads must equal the ones this process makes with constriction.
    """
    script = ("import sys, numpy as np\n"
              "from gan_compress_ros.codec import Codec\n"
              "codec = Codec.load()\n"
              "frames = np.random.default_rng(3).integers(0, 256, (4, 64, 64, 3), np.uint8)\n"
              "payloads = codec.encode(frames)\n"
              "assert codec.decode(payloads).shape == (4, 64, 64, 3)\n"
              "print(codec.describe())\n"
              "print(' '.join(p.hex() for p in payloads))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=without_torch("constriction"), timeout=120)
    assert done.returncode == 0, done.stderr
    described, payloads = done.stdout.strip().splitlines()
    assert "on onnxruntime" in described and "range coder python" in described
    frames = np.random.default_rng(3).integers(0, 256, (4, 64, 64, 3), np.uint8)
    here = Codec.load(backend="onnxruntime")
    assert here.describe().endswith("range coder constriction")
    assert payloads.split() == [p.hex() for p in here.encode(frames)]


def test_symbols_outside_the_alphabet_are_refused_like_constriction() -> None:
    pmf = np.array([1, 2, (1 << PRECISION) - 3])
    model = Categorical(pmf / (1 << PRECISION), perfect=False)
    cdf = rangecoder_py.quantized_cdf(pmf)
    for bad in (-4, -1, 3, 7):
        reference, ours = constriction.stream.queue.RangeEncoder(), rangecoder_py.RangeEncoder()
        symbols = np.array([1] * 20 + [bad], dtype=np.int32)
        with pytest.raises(KeyError):
            reference.encode(symbols, model)
        with pytest.raises(ValueError, match="outside the model's alphabet"):
            ours.encode(symbols, cdf)
        after = np.array([2, 1], dtype=np.int32)  # both keep what came before the bad one
        reference.encode(after, model)
        ours.encode(after, cdf)
        assert np.array_equal(ours.get_compressed(), reference.get_compressed())


def _decodes_to(coder: TableCoder, body: bytes, symbols: np.ndarray) -> bool:
    try:
        return np.array_equal(coder.decode(body, symbols.shape[1]), symbols)
    except Exception:  # noqa: BLE001 - any failure means it does not decode
        return False


@pytest.mark.parametrize("implementation", ["constriction", "python"])
def test_bodies_are_the_shortest_byte_strings_that_decode(implementation: str) -> None:
    """shortest_body: every body decodes, one byte fewer does not, never over the sealed words."""
    rng = np.random.default_rng(7)
    saved = []
    for _ in range(300):
        pmfs = _random_pmfs(rng, int(rng.integers(1, 6)))
        tables = CdfTables.from_pmfs(np.zeros(len(pmfs), np.int32), pmfs)
        coder = TableCoder(tables, implementation)
        count = int(rng.integers(0, 30))
        symbols = np.stack([rng.choice(len(p), count, p=p / p.sum())
                            for p in pmfs]).astype(np.int32)
        body = coder.encode(symbols)
        sealed = coder._encoder()
        for c, row in enumerate(symbols):
            if coder._models[c] is not None:
                sealed.encode(row, coder._models[c])
        full = np.asarray(sealed.get_compressed()).astype(">u4").tobytes().rstrip(b"\0")
        assert _decodes_to(coder, body, symbols)
        assert len(body) <= len(full)
        saved.append(len(full) - len(body))
        if body:  # the shortest: rounding up one byte earlier leaves the final interval
            value = int.from_bytes(body[:-1], "big") + 1
            if value < 1 << (8 * (len(body) - 1)):
                shorter = value.to_bytes(len(body) - 1, "big")
                assert not _decodes_to(coder, shorter, symbols)
            assert not _decodes_to(coder, body[:-1], symbols)
    assert np.mean(saved) > 1.0  # the sealing word's bytes mostly go


@pytest.mark.parametrize(("words", "position", "lower", "span", "start", "want"), [
    # nothing encoded: the whole initial interval, which holds zero
    ([], 0, 0, (1 << 64) - 1, 0, b""),
    # a span of 2**40: five of the state's eight bytes go, the seventh rounded up
    ([0x12345679, 0x9ABCDEF1], 1, 0x9ABCDEF0_00000001, 1 << 40,
     0x12345679_9ABCDEF0_00000001, b"\x12\x34\x56\x79\x9a\xbc\xdf"),
    # the interval straddles a carry into the word held back before the state (0x12345678):
    # the seal carried it, and that carried word alone lies inside
    ([0x12345679, 0], 1, (1 << 64) - (1 << 31), 1 << 33,
     0x12345678_FFFFFFFF_80000000, b"\x12\x34\x56\x79"),
])
def test_shortest_body_of_hand_built_states(words: list[int], position: int, lower: int,
                                            span: int, start: int, want: bytes) -> None:
    """``start``: the final interval's lower end as a number over the whole stream."""
    from gan_compress_ros.codec.rangecoder import shortest_body

    body = shortest_body(np.asarray(words, dtype=np.uint32), position, lower, span)
    assert body == want
    value = int.from_bytes(body.ljust(4 * (position + 2), b"\0"), "big")
    assert start <= value < start + span
