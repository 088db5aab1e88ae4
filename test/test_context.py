"""The context entropy model: integer network, variable rate, bitstream, weights, export."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from testkit.files import DATA

from gan_compress_ros.codec import BitstreamError, Codec, WeightsError
from gan_compress_ros.codec import context_coding as cc
from gan_compress_ros.codec.bitstream import CONTEXT_VERSION, HEADER_BYTES
from gan_compress_ros.codec.nn.backend_torch import TorchTransforms
from gan_compress_ros.codec.nn.weights import load_weights
from gan_compress_ros.training.trainer import TrainConfig, Trainer

SMALL2 = {"channels": 48, "latent_channels": 32, "slices": 4, "checkerboard": 1,
          "context_hidden": 32, "rate_levels": 4}


@pytest.fixture(scope="session")
def context_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small variable-rate context codec trained briefly on test/data/train."""
    out = tmp_path_factory.mktemp("train2")
    config = TrainConfig(data=[str(DATA / "train")], val=[str(DATA / "val")], out=str(out),
                         preset="compact2", preset_overrides=SMALL2, lmbda=20.0,
                         lmbda_q0=1500.0, steps=300, batch=8, lr=2e-3, seed=0, threads=0,
                         checkpoint_every=10_000, command="pytest fixture")
    Trainer(config).train()
    return out / "weights.safetensors"


@pytest.fixture(scope="module")
def codec2(context_weights: Path) -> Codec:
    return Codec.load(str(context_weights), backend="torch")


def test_schedule_codes_every_element_once() -> None:
    for slices, board in ((1, True), (4, False), (4, True), (8, True)):
        groups = cc.schedule((64, 4, 4), slices, board)
        flat = np.concatenate(groups)
        assert sorted(flat.tolist()) == list(range(64 * 16))
        ctx = cc.contexts(groups)
        assert len(ctx[0]) == 0
        for g in range(1, len(groups)):  # a group reads exactly what was coded before it
            assert sorted(ctx[g].tolist()) == sorted(np.concatenate(groups[:g]).tolist())


def test_roundtrip_over_the_quality_range(codec2: Codec, val_frames: np.ndarray) -> None:
    sizes = []
    for q in (0.0, 0.5, 1.0):
        payloads = codec2.encode(val_frames, quality=q)
        assert all(p[0] == CONTEXT_VERSION and p[HEADER_BYTES] == round(q * 255)
                   for p in payloads)
        recon = codec2.decode(payloads)  # no quality given: the payload says it
        assert recon.shape == val_frames.shape and recon.dtype == np.uint8
        sizes.append(np.mean([len(p) for p in payloads]))
    assert sizes[0] < sizes[1] < sizes[2]


def test_decoded_latent_is_what_the_encoder_coded(codec2: Codec, val_frames: np.ndarray
                                                  ) -> None:
    ctx = codec2.coder.context
    for q in (0.0, 0.7):
        qbyte = codec2.quality_byte(q)
        latent = codec2.latent(val_frames, q)
        _, expected = ctx.symbols(latent, np.full(len(latent), qbyte))
        bodies = [p[HEADER_BYTES + 1:] for p in codec2.encode(val_frames, quality=q)]
        got = ctx.decode(bodies, np.full(len(bodies), qbyte))
        np.testing.assert_array_equal(got, expected)
        # clamping into a table's range is rare: the coded latent is the rounded one
        assert np.mean(expected != latent) < 0.01


def test_integer_network_is_exact() -> None:
    """The float64 BLAS path equals exact integer arithmetic (Python ints) on hard inputs."""
    rng = np.random.default_rng(0)
    shape = (8, 4, 4)
    groups = cc.schedule(shape, 2, True)
    ctx = cc.contexts(groups)
    nets = []
    for g, c in zip(groups, ctx, strict=True):
        dims = [len(c) + 1, 16, 16, 2 * len(g)]
        nets.append([cc.IntLayer(rng.integers(-cc.WEIGHT_BOUND + 1, cc.WEIGHT_BOUND,
                                              (dims[i + 1], dims[i])).astype(np.float64),
                                 rng.integers(-cc.BIAS_BOUND + 1, cc.BIAS_BOUND,
                                              dims[i + 1]).astype(np.float64))
                     for i in range(3)])
    from gan_compress_ros.codec.nn.context_model import gaussian_tables

    model = cc.ContextModel(shape, 2, True, nets,
                            np.arange(cc.SCALE_LEVELS - 1, dtype=np.float64) * 1e6,
                            gaussian_tables(), np.ones((256, 8), np.float32),
                            np.ones((256, 8), np.float32))
    model.validate()
    flat = rng.integers(-cc.LATENT_CLIP, cc.LATENT_CLIP + 1, (5, 128)).astype(np.float64)
    qbytes = np.array([0, 1, 128, 254, 255])
    for g in range(len(groups)):
        mean, scale = model._params(g, flat, qbytes)
        # reference: Python integers, no rounding anywhere
        x = [[int(v) * (1 << cc.ACT_BITS) for v in row[ctx[g]]] + [int(q)]
             for row, q in zip(flat, qbytes, strict=True)]
        layers = nets[g]
        for layer in layers[:-1]:
            w = layer.weight.astype(np.int64).astype(object)
            b = layer.bias.astype(np.int64).astype(object)
            acc = [list(np.dot(w, np.array(r, dtype=object)) + b) for r in x]
            x = [[min(max((a + (1 << (cc.WEIGHT_BITS - 1))) >> cc.WEIGHT_BITS, 0),
                      int(cc.ACT_CLIP) << cc.ACT_BITS) for a in row] for row in acc]
        w = layers[-1].weight.astype(np.int64).astype(object)
        b = layers[-1].bias.astype(np.int64).astype(object)
        acc = [list(np.dot(w, np.array(r, dtype=object)) + b) for r in x]
        n = len(groups[g])
        shift = cc.WEIGHT_BITS + cc.ACT_BITS - 2
        want_mean = [[(a + (1 << (shift - 1))) >> shift for a in row[:n]] for row in acc]
        np.testing.assert_array_equal(mean, np.array(want_mean, dtype=np.int64))
        want_scale = [[int(np.searchsorted(model.scale_bounds, float(a), side="right"))
                       if abs(a) < 2 ** 53 else -1 for a in row[n:]] for row in acc]
        np.testing.assert_array_equal(scale, np.array(want_scale))


def test_entropy_coding_ignores_the_float_transforms(context_weights: Path,
                                                     codec2: Codec,
                                                     val_frames: np.ndarray) -> None:
    """Perturbed transforms and other thread counts: same integers, same bits."""
    loaded = load_weights(context_weights)
    model = copy.deepcopy(loaded.model)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith(("encoder.", "decoder.")):
                p.add_(torch.randn_like(p) * 1e-3)
    other = Codec(TorchTransforms(model, threads=2), loaded.tables, loaded.model_id)
    payloads = codec2.encode(val_frames, quality=0.4)
    q = np.full(len(payloads), codec2.quality_byte(0.4))
    bodies = [p[HEADER_BYTES + 1:] for p in payloads]
    np.testing.assert_array_equal(codec2.coder.context.decode(bodies, q),
                                  other.coder.context.decode(bodies, q))
    latent = codec2.latent(val_frames, 0.4)
    assert codec2.coder.context.encode(latent, q) == other.coder.context.encode(latent, q)
    assert other.decode(payloads).shape == val_frames.shape
    torch.set_num_threads(1)
    one = codec2.coder.context.decode(bodies, q)
    torch.set_num_threads(2)
    np.testing.assert_array_equal(one, codec2.coder.context.decode(bodies, q))


def test_corrupt_payloads_raise_or_decode(codec2: Codec, val_frames: np.ndarray) -> None:
    payload = codec2.encode(val_frames[0], quality=0.6)[0]
    for cut in range(len(payload)):
        try:
            out = codec2.decode(payload[:cut])
        except BitstreamError:
            continue
        assert out.shape == (1, 64, 64, 3)
    rng = np.random.default_rng(1)
    for _ in range(300):
        data = bytearray(payload)
        data[rng.integers(len(data))] ^= 1 << rng.integers(8)
        try:
            codec2.decode(bytes(data))
        except BitstreamError:
            pass


def test_fixed_rate_payloads_and_settings_are_refused(codec: Codec, codec2: Codec,
                                                      val_frames: np.ndarray) -> None:
    v1 = codec.encode(val_frames[0])[0]
    with pytest.raises(BitstreamError, match="version 1"):
        codec2.decode(v1)
    with pytest.raises(BitstreamError, match="version 4"):
        codec.decode(codec2.encode(val_frames[0])[0])
    with pytest.raises(ValueError, match="fixed rate"):
        codec.encode(val_frames[0], quality=0.5)
    for bad in (-0.1, 1.5, float("nan"), "high", True):
        with pytest.raises(ValueError, match="quality"):
            codec2.encode(val_frames[0], quality=bad)


def test_tampered_integer_network_is_refused(context_weights: Path, tmp_path: Path) -> None:
    with safe_open(str(context_weights), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = f.metadata()
    tensors["context.g1.l0.weight"][0, 0] += 1
    bad = tmp_path / "bad.safetensors"
    save_file(tensors, str(bad), metadata=meta)
    with pytest.raises(WeightsError, match="altered"):
        Codec.load(str(bad))
    tensors["context.g1.l0.weight"][0, 0] = cc.WEIGHT_BOUND + 5
    meta2 = json.loads(meta["gan_compress_ros"])
    save_file(tensors, str(bad), metadata={"gan_compress_ros": json.dumps(meta2)})
    with pytest.raises(WeightsError):
        Codec.load(str(bad))


def test_onnx_export_codes_the_same_payloads(context_weights: Path, codec2: Codec,
                                             val_frames: np.ndarray, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from gan_compress_ros.codec.nn.export import export

    export(context_weights, tmp_path / "exp")
    onnx_codec = Codec.load(str(tmp_path / "exp"))
    assert onnx_codec.backend == "onnxruntime" and onnx_codec.variable_rate
    for q in (0.0, 1.0):
        a = codec2.encode(val_frames, quality=q)
        b = onnx_codec.encode(val_frames, quality=q)
        qb = np.full(len(a), codec2.quality_byte(q))
        for payloads in (a, b):  # each decodes on the other backend to the same integers
            bodies = [p[HEADER_BYTES + 1:] for p in payloads]
            np.testing.assert_array_equal(codec2.coder.context.decode(bodies, qb),
                                          onnx_codec.coder.context.decode(bodies, qb))
        diff = np.abs(codec2.decode(b).astype(int) - onnx_codec.decode(b).astype(int))
        assert diff.max() <= 2
    (tmp_path / "exp" / "entropy.safetensors").write_bytes(b"junk")
    with pytest.raises(WeightsError, match="entropy.safetensors"):
        Codec.load(str(tmp_path / "exp"))


def test_byte_cap_holds_on_every_frame(val_frames: np.ndarray) -> None:
    """``max_bytes``: no payload over the cap, near it where the content allows, decodable."""
    from gan_compress_ros.codec import ByteCapError

    codec = Codec.load()
    rng = np.random.default_rng(3)
    frames = np.concatenate([val_frames, rng.integers(0, 256, (4, 64, 64, 3), np.uint8),
                             np.zeros((2, 64, 64, 3), np.uint8)])
    for cap in (100, 222, 340):
        payloads = codec.encode(frames, max_bytes=cap)
        sizes = [len(p) for p in payloads]
        assert max(sizes) <= cap
        assert np.mean(sizes[:len(val_frames)]) > 0.85 * cap  # photos fill the cap
        assert codec.decode(payloads).shape == frames.shape
        # each payload is the highest quality that fits: one step up would not
        for frame, payload in zip(frames[:3], payloads[:3], strict=True):
            q = payload[HEADER_BYTES]
            if q < 255:
                assert len(codec.encode(frame, quality=(q + 1) / 255)[0]) > cap or \
                    len(codec.encode(frame, quality=1.0)[0]) <= cap
    capped = codec.encode(val_frames[:2], quality=0.2, max_bytes=10_000)  # quality: ceiling
    assert capped == codec.encode(val_frames[:2], quality=0.2)
    with pytest.raises(ByteCapError, match="at least .* bytes even at quality 0") as exc:
        codec.encode(val_frames[:1], max_bytes=8)  # under a header and one coder word
    assert exc.value.frame == 0 and exc.value.smallest > 8
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="max_bytes"):
            codec.encode(val_frames[:1], max_bytes=bad)


def test_byte_cap_needs_a_variable_rate_model(codec: Codec, val_frames: np.ndarray) -> None:
    with pytest.raises(ValueError, match="variable-rate"):
        codec.encode(val_frames[:1], max_bytes=300)
