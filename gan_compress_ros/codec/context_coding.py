"""The context entropy model at coding time: an integer network, shared by every backend.

The latent is coded in groups (channel slices, each split in a checkerboard of anchors and
the rest). For each group a small network predicts a mean and a scale per element from the
elements already decoded and the quality byte; the mean and scale pick one of the frozen
integer Gaussian tables, and the range coder codes the group with them.

Bit-exactness: with probabilities that come from a network, a one-ulp difference between
the encoder's and the decoder's arithmetic corrupts the rest of a payload. So the network
runs here, in integer arithmetic (Balle et al. 2019, "Integer networks for data
compression"), never on the backend: integer weights, integer activations, rounding by
powers of two, clipped ReLU. The integers are carried in float64 arrays, which NumPy
multiplies with BLAS; every product and partial sum is an integer below 2**53, so every
summation order gives the exact same result on any CPU, thread count or BLAS. The float
transforms (torch or ONNX Runtime) only produce the latent and the picture; they never
touch a probability.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .rangecoder import TableCoder
from .tables import CdfTables

#: Fraction bits of activations (and of the network's inputs).
ACT_BITS = 8
#: Fraction bits of weights.
WEIGHT_BITS = 14
#: Activations are clipped to [0, ACT_CLIP] (a clipped ReLU keeps every integer bounded).
ACT_CLIP = 64.0
#: Latent values are clipped to +-LATENT_CLIP before coding.
LATENT_CLIP = 255
#: Means are rounded to 1/MEAN_STEPS; each fraction has its own tables.
MEAN_STEPS = 4
#: Scales (standard deviations) of the tables: log-spaced from SCALE_MIN to SCALE_MAX.
SCALE_MIN = 0.11
SCALE_MAX = 64.0
SCALE_LEVELS = 64
#: Quality is carried as one byte: q = byte / 255.
QUALITY_LEVELS = 256
#: Bounds on stored integers that keep every sum exact in float64 (below 2**53): inputs
#: and activations stay below 2**16, so a product stays below 2**40 and 1,100 of them plus
#: a bias below 2**51.
WEIGHT_BOUND = 1 << 24
BIAS_BOUND = 1 << 31


def schedule(latent_shape: tuple[int, int, int], slices: int,
             checkerboard: bool) -> list[np.ndarray]:
    """Flat element indices (C-major over C, H, W) of each coding group, in coding order."""
    c, h, w = latent_shape
    if slices < 1 or c % slices:
        raise ValueError(f"{c} latent channels do not split into {slices} slices")
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    anchor = ((rows + cols) % 2 == 0).reshape(-1)
    per = c // slices
    groups = []
    for s in range(slices):
        chans = np.arange(s * per, (s + 1) * per)
        flat = (chans[:, None] * h * w + np.arange(h * w)[None, :])
        if checkerboard:
            groups.append(flat[:, anchor].reshape(-1))
            groups.append(flat[:, ~anchor].reshape(-1))
        else:
            groups.append(flat.reshape(-1))
    return groups


def contexts(groups: list[np.ndarray]) -> list[np.ndarray]:
    """Element indices each group's network reads: every element of the groups before it."""
    out, seen = [], np.zeros(0, dtype=np.int64)
    for g in groups:
        out.append(seen.copy())
        seen = np.concatenate([seen, g])
    return out


def scale_grid() -> np.ndarray:
    """The tables' scales (float64, log-spaced)."""
    return np.exp(np.linspace(np.log(SCALE_MIN), np.log(SCALE_MAX), SCALE_LEVELS))


@dataclass(frozen=True)
class IntLayer:
    """One integer layer: ``W @ x + b`` with W in 2**-WEIGHT_BITS units (float64 holding ints)."""

    weight: np.ndarray  # (out, in)
    bias: np.ndarray  # (out,), in 2**-(WEIGHT_BITS + ACT_BITS) units


@dataclass(frozen=True)
class ContextModel:
    """Everything the coder needs, all integers: networks, scale bounds, tables, gains."""

    latent_shape: tuple[int, int, int]
    slices: int
    checkerboard: bool
    networks: list[list[IntLayer]]  # per group
    scale_bounds: np.ndarray  # (SCALE_LEVELS - 1,) thresholds on the scale output
    tables: CdfTables  # SCALE_LEVELS * MEAN_STEPS tables: index scale * MEAN_STEPS + fraction
    gain_enc: np.ndarray  # (QUALITY_LEVELS, C) float32: latent gain per quality byte
    gain_dec: np.ndarray  # (QUALITY_LEVELS, C) float32: inverse gain per quality byte
    # derived from the shape in __post_init__
    groups: list[np.ndarray] = field(init=False, repr=False, compare=False)
    context_index: list[np.ndarray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        groups = schedule(self.latent_shape, self.slices, self.checkerboard)
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "context_index", contexts(groups))

    def validate(self) -> None:
        """Raise ValueError unless every array has the shape and range the coder relies on."""
        groups = self.groups
        if len(self.networks) != len(groups):
            raise ValueError(f"{len(self.networks)} context networks for {len(groups)} groups")
        for g, (net, ctx) in enumerate(zip(self.networks, self.context_index, strict=True)):
            width = len(ctx) + 1
            for i, layer in enumerate(net):
                if layer.weight.ndim != 2 or layer.weight.shape[1] != width:
                    raise ValueError(f"context network {g} layer {i} has shape "
                                     f"{layer.weight.shape}, expected (*, {width})")
                if layer.bias.shape != (layer.weight.shape[0],):
                    raise ValueError(f"context network {g} layer {i} bias has the wrong shape")
                for arr, bound in ((layer.weight, WEIGHT_BOUND), (layer.bias, BIAS_BOUND)):
                    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)) or \
                            np.abs(arr).max(initial=0) >= bound:
                        raise ValueError(f"context network {g} layer {i} holds values that are "
                                         f"not integers below {bound}")
                width = layer.weight.shape[0]
            if width != 2 * len(groups[g]):
                raise ValueError(f"context network {g} predicts {width} values, the group has "
                                 f"{len(groups[g])} elements")
        if self.scale_bounds.shape != (SCALE_LEVELS - 1,) or \
                np.any(np.diff(self.scale_bounds) <= 0):
            raise ValueError("scale bounds must be increasing, one fewer than the scales")
        self.tables.validate(SCALE_LEVELS * MEAN_STEPS)
        c = self.latent_shape[0]
        for name in ("gain_enc", "gain_dec"):
            arr = getattr(self, name)
            if arr.shape != (QUALITY_LEVELS, c) or not np.all(np.isfinite(arr)) or \
                    np.any(arr <= 0):
                raise ValueError(f"{name} must be positive, of shape ({QUALITY_LEVELS}, {c})")

    def _prepared(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray,
                                      list[tuple[np.ndarray, np.ndarray]]]]:
        """Per group: first layer split into context and quality parts, the rest transposed.

        The context inputs are integers times 2**ACT_BITS; folding that factor into the
        first layer's integer weights (and the quality byte into its bias) gives the same
        integers with fewer operations.
        """
        cached = self.__dict__.get("_prep")
        if cached is None:
            cached = []
            for net in self.networks:
                first = net[0]
                w_ctx = np.ascontiguousarray(first.weight[:, :-1].T * float(1 << ACT_BITS))
                rest = [(np.ascontiguousarray(layer.weight.T), layer.bias) for layer in net[1:]]
                cached.append((w_ctx, first.weight[:, -1].copy(), first.bias, rest))
            object.__setattr__(self, "_prep", cached)
        return cached

    def _params(self, g: int, flat: np.ndarray, qbytes: np.ndarray) -> tuple[np.ndarray,
                                                                          np.ndarray]:
        """Integer mean (in 1/MEAN_STEPS) and scale index of group ``g``'s elements."""
        w_ctx, w_q, b1, rest = self._prepared()[g]
        ctx = flat[:, self.context_index[g]]
        acc = qbytes.astype(np.float64)[:, None] * w_q + b1
        if ctx.shape[1]:
            acc = acc + ctx @ w_ctx
        half = float(1 << (WEIGHT_BITS - 1))
        inv = 1.0 / (1 << WEIGHT_BITS)
        top = ACT_CLIP * (1 << ACT_BITS)
        for w_t, bias in rest:
            x = np.clip(np.floor((acc + half) * inv), 0.0, top)
            acc = x @ w_t + bias
        n = len(self.groups[g])
        shift = WEIGHT_BITS + ACT_BITS - int(np.log2(MEAN_STEPS))
        mean = np.floor((acc[:, :n] + float(1 << (shift - 1))) * (1.0 / (1 << shift)))
        scale = np.searchsorted(self.scale_bounds, acc[:, n:], side="right")
        return mean.astype(np.int64), scale

    def plan(self, flat: np.ndarray, qbytes: np.ndarray, g: int) -> tuple[np.ndarray,
                                                                      np.ndarray]:
        """Integer base value and table index per element of group ``g`` (N, E)."""
        mean, scale = self._params(g, flat, qbytes)
        base = np.floor_divide(mean, MEAN_STEPS)
        table = scale * MEAN_STEPS + (mean - base * MEAN_STEPS)
        return base, table

    def mode(self, qbyte: int) -> np.ndarray:
        """The latent (1, C, H, W) that takes each element's most probable value in turn.

        The cheapest latent to code there is, near enough: each element costs its table's
        largest probability. A latent of zeros costs more wherever the network predicts a
        value away from zero (42 bytes against 13 with model 3dcf). Computed
        once per quality byte: the byte cap may fall back to it on every frame.
        """
        cache = self.__dict__.setdefault("_modes", {})
        if qbyte not in cache:
            cache[qbyte] = self._mode(qbyte)
        return cache[qbyte].copy()

    def _mode(self, qbyte: int) -> np.ndarray:
        tables = self.tables
        top = tables.lows.astype(np.int64) + np.argmax(tables.pmf, axis=1)
        flat = np.zeros((1, int(np.prod(self.latent_shape))), dtype=np.float64)
        qbytes = np.array([qbyte], dtype=np.int64)
        for g, idx in enumerate(self.groups):
            base, table = self.plan(flat, qbytes, g)
            flat[:, idx] = base + top[table]
        return flat.reshape(1, *self.latent_shape).astype(np.int64)


_BLAS: list = []


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """One BLAS thread for the context network's small products.

    Measured here: with two BLAS threads and torch's own pool (or any other busy process)
    on the cores, a batch of 32 frames spent 16 ms per group waiting for threads; one thread
    does it in well under a millisecond. Exactness never depends on it.
    """
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController())
        except ImportError:  # optional: only slower without it
            _BLAS.append(None)
    if _BLAS[0] is None:
        yield
        return
    with _BLAS[0].limit(limits=1, user_api="blas"):
        yield


class ContextCoder:
    """Range codes whole latents with a ``ContextModel``: batched planning, per-frame coding."""

    def __init__(self, model: ContextModel, coder: TableCoder) -> None:
        self.model = model
        self.coder = coder
        self._lows = model.tables.lows.astype(np.int64)
        self._highs = model.tables.highs.astype(np.int64)
        self._size = int(np.prod(model.latent_shape))

    def symbols(self, latent: np.ndarray, qbytes: np.ndarray) -> tuple[list[tuple[np.ndarray,
                                                                                np.ndarray]],
                                                                     np.ndarray]:
        """Per group ``(tables, symbols)`` (N, E) of integer latents (N, C, H, W).

        Values beyond a table's range are clamped into it, as the decoder will see them;
        returns the latent the decoder reconstructs too.
        """
        flat = np.clip(latent.reshape(len(latent), -1).astype(np.float64), -LATENT_CLIP,
                       LATENT_CLIP)
        planned = []
        with _one_blas_thread():  # once per call: entering it costs about 12 us
            for g, idx in enumerate(self.model.groups):
                base, table = self.model.plan(flat, qbytes, g)
                rel = np.clip(flat[:, idx] - base, self._lows[table], self._highs[table])
                flat[:, idx] = base + rel
                planned.append((table, (rel - self._lows[table]).astype(np.int32)))
        return planned, flat.reshape(latent.shape).astype(np.int64)

    def code(self, latent: np.ndarray, qbytes: np.ndarray) -> tuple[list[bytes], np.ndarray,
                                                                   np.ndarray]:
        """Bodies of integer latents (N, C, H, W) at quality bytes (N,), and more.

        Also the latents the decoder rebuilds (clamped) and the table each element was
        coded with (N, C*H*W).
        """
        planned, rebuilt = self.symbols(latent, qbytes)
        tables = np.zeros((len(latent), self._size), dtype=np.int64)
        bodies = []
        for n in range(len(latent)):
            rows: list[tuple[int, np.ndarray]] = []
            for idx, (table, sym) in zip(self.model.groups, planned, strict=True):
                rows.extend(rows_by_table(table[n], sym[n]))
                tables[n, idx] = table[n]
            bodies.append(self.coder.encode_rows(rows))
        return bodies, rebuilt, tables

    def encode(self, latent: np.ndarray, qbytes: np.ndarray) -> list[bytes]:
        """Range-coded bodies of integer latents (N, C, H, W) at quality bytes (N,)."""
        return self.code(latent, qbytes)[0]

    def read(self, bodies: list[bytes], qbytes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integer latents (N, C, H, W) of ``bodies`` and the table of each element.

        Tables (N, C*H*W); the context network runs once. Raises on data that does not
        decode.
        """
        shape = self.model.latent_shape
        flat = np.zeros((len(bodies), self._size), dtype=np.float64)
        tables = np.zeros((len(bodies), self._size), dtype=np.int64)
        decoders = [self.coder.decoder(b) for b in bodies]
        with _one_blas_thread():  # once per call, as in symbols
            for g, idx in enumerate(self.model.groups):
                base, table = self.model.plan(flat, qbytes, g)
                tables[:, idx] = table
                for n, decoder in enumerate(decoders):
                    order, starts, runs = runs_by_table(table[n])
                    sym = np.zeros(len(idx), dtype=np.int64)
                    for t, lo, hi in zip(runs, starts[:-1], starts[1:], strict=True):
                        sym[order[lo:hi]] = self.coder.decode_row(decoder, t, hi - lo)
                    flat[n, idx] = base[n] + sym + self._lows[table[n]]
        return flat.reshape(len(bodies), *shape).astype(np.int64), tables

    def decode(self, bodies: list[bytes], qbytes: np.ndarray) -> np.ndarray:
        """Integer latents (N, C, H, W) of ``bodies``; raises on data that does not decode."""
        return self.read(bodies, qbytes)[0]


def runs_by_table(table: np.ndarray) -> tuple[np.ndarray, list[int], list[int]]:
    """Elements ordered by table (stable), where each table's run starts, and the tables."""
    order = np.argsort(table, kind="stable")
    ordered = table[order]
    cuts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    starts = [0, *cuts.tolist(), len(table)]
    return order, starts, ordered[starts[:-1]].tolist()


def rows_by_table(table: np.ndarray, symbols: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """One row per distinct table (ascending), its symbols in element order."""
    order, starts, tables = runs_by_table(table)
    ordered = symbols[order]
    return [(t, ordered[lo:hi]) for t, lo, hi in zip(tables, starts[:-1], starts[1:],
                                                      strict=True)]


def to_arrays(model: ContextModel) -> dict[str, np.ndarray]:
    """The arrays a weights file or export stores for ``model`` (integers as int32)."""
    out: dict[str, np.ndarray] = {}
    for g, net in enumerate(model.networks):
        for i, layer in enumerate(net):
            out[f"context.g{g}.l{i}.weight"] = layer.weight.astype(np.int32)
            out[f"context.g{g}.l{i}.bias"] = layer.bias.astype(np.int32)
    out["context.scale_bounds"] = model.scale_bounds.astype(np.int32)
    out["context.offsets"] = model.tables.offsets.astype(np.int32)
    out["context.lengths"] = model.tables.lengths.astype(np.int32)
    out["context.pmf"] = model.tables.pmf.astype(np.int32)
    out["context.gain_enc"] = model.gain_enc.astype(np.float32)
    out["context.gain_dec"] = model.gain_dec.astype(np.float32)
    return out


def from_arrays(arrays: dict[str, np.ndarray], latent_shape: tuple[int, int, int],
                slices: int, checkerboard: bool) -> ContextModel:
    """Inverse of ``to_arrays``, validated; ValueError or KeyError for anything amiss."""
    groups = len(schedule(latent_shape, slices, checkerboard))
    networks = []
    for g in range(groups):
        layers, i = [], 0
        while f"context.g{g}.l{i}.weight" in arrays:
            layers.append(IntLayer(np.asarray(arrays[f"context.g{g}.l{i}.weight"], np.float64),
                                   np.asarray(arrays[f"context.g{g}.l{i}.bias"], np.float64)))
            i += 1
        if not layers:
            raise ValueError(f"context network {g} is missing")
        networks.append(layers)
    for name in ("scale_bounds", "offsets", "lengths", "pmf"):
        if np.asarray(arrays[f"context.{name}"]).dtype != np.int32:
            raise ValueError(f"context.{name} must be int32")
    tables = CdfTables(np.asarray(arrays["context.offsets"]),
                       np.asarray(arrays["context.lengths"]),
                       np.asarray(arrays["context.pmf"]))
    if tables.pmf.ndim != 2:
        raise ValueError("context.pmf must be 2-D")
    model = ContextModel(tuple(latent_shape), slices, checkerboard, networks,  # type: ignore[arg-type]
                         np.asarray(arrays["context.scale_bounds"], np.float64), tables,
                         np.asarray(arrays["context.gain_enc"], np.float32),
                         np.asarray(arrays["context.gain_dec"], np.float32))
    model.validate()
    return model
