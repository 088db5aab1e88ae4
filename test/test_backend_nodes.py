"""The nodes on the onnxruntime backend, in processes where torch cannot be imported.

As on a Jetson without PyTorch (and without constriction, which has no aarch64 wheel); they
talk over real DDS, with a torch decoder on the same latent topic.
"""

from __future__ import annotations

import subprocess
import sys
import time
from importlib.metadata import requires
from pathlib import Path

import numpy as np
from sensor_msgs.msg import CompressedImage, Image
from testkit.ros import (
    image_msg,
    reliable_input,
    spin_until,
    stamp_ns,
    start_node,
    stop_node,
    without_torch,
)

from gan_compress_ros.codec import Codec
from gan_compress_ros.nodes.convert import fit

NS = "/jetson"


def test_core_and_onnx_backend_import_without_torch() -> None:
    script = ("import sys, numpy as np\n"
              "from gan_compress_ros.codec import Codec\n"
              "codec = Codec.load()\n"
              "out = codec.decode(codec.encode(np.zeros((2, 64, 64, 3), np.uint8)))\n"
              "print(codec.backend, out.shape, 'torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], env=without_torch(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["onnxruntime", "(2,", "64,", "64,", "3)", "False"]
    blocked = subprocess.run([sys.executable, "-c", "import torch"], env=without_torch(),
                             capture_output=True, text=True, timeout=60)
    assert blocked.returncode != 0  # the blocker works, so the first run proves something


def test_torch_is_only_an_extra_of_the_package() -> None:
    """``pip install gan_compress_ros`` (no extras) does not pull torch."""
    needs = requires("gan_compress_ros") or []
    torch_lines = [r for r in needs if r.startswith("torch")]
    assert torch_lines and all("extra ==" in r for r in torch_lines)
    assert any(r.startswith("onnxruntime") and "extra ==" in r for r in needs)


def test_onnx_nodes_without_torch_interoperate_with_a_torch_decoder(
        ros, photos: list[np.ndarray]) -> None:
    common = ["-r", f"__ns:={NS}", "-p", "backend:=onnxruntime"]
    jetson = without_torch("constriction")  # neither has a wheel for a Jetson's aarch64
    encoder = start_node("encoder_node", *common, *reliable_input(f"{NS}/image_raw"),
                         env=jetson)
    decoder = start_node("decoder_node", *common, *reliable_input(f"{NS}/image_raw/gan"),
                         env=jetson)
    reference = start_node("decoder_node", "-r", f"__ns:={NS}", "-r", "__node:=decoder_torch",
                           "-p", "backend:=torch", "-r", "image_decoded:=image_decoded_torch",
                           *reliable_input(f"{NS}/image_raw/gan"))
    latents: list[CompressedImage] = []
    by_onnx: list[Image] = []
    by_torch: list[Image] = []
    pub = ros.create_publisher(Image, f"{NS}/image_raw", 50)
    subs = [ros.create_subscription(CompressedImage, f"{NS}/image_raw/gan", latents.append, 50),
            ros.create_subscription(Image, f"{NS}/image_decoded", by_onnx.append, 50),
            ros.create_subscription(Image, f"{NS}/image_decoded_torch", by_torch.append, 50)]
    try:
        def up() -> bool:
            pub.publish(image_msg(photos[0], 1))
            return spin_until(ros, lambda: bool(by_onnx) and bool(by_torch), 0.5)
        assert spin_until(ros, up, 90.0), encoder.log + decoder.log + reference.log
        spin_until(ros, lambda: False, 0.5)
        for bucket in (latents, by_onnx, by_torch):
            bucket.clear()
        sent = {}
        for i, photo in enumerate(photos):
            stamp = 1_000_000_000 * (500 + i)
            sent[stamp] = fit(photo, "crop")
            pub.publish(image_msg(photo, stamp))
            time.sleep(0.05)
        assert spin_until(ros, lambda: len(by_onnx) >= len(sent) and len(by_torch) >= len(sent),
                          30.0)
    finally:
        for sub in subs:
            ros.destroy_subscription(sub)
        ros.destroy_publisher(pub)
        results = [stop_node(n) for n in (encoder, decoder, reference)]
    for _, log in results[:2]:
        assert "on onnxruntime" in log and "range coder python" in log
    assert "on torch" in results[2][1]
    onnx = Codec.load(backend="onnxruntime", threads=1)
    # The node's thread count: torch's float sums depend on it, and a pixel near a rounding
    # boundary may round the other way (model 184a showed it, c436 did not).
    import torch

    threads = torch.get_num_threads()
    torch_codec = Codec.load(backend="torch", threads=1)

    def pixels(msg: Image) -> np.ndarray:
        return np.frombuffer(bytes(msg.data), np.uint8).reshape(64, 64, 3)
    payload = {stamp_ns(m): bytes(m.data) for m in latents}
    assert sorted(payload) == sorted(sent)
    for stamp, frame in sent.items():  # the node's payload is the API's, byte for byte
        # (here with constriction: the Python range coder wrote the same bytes)
        assert payload[stamp] == onnx.encode(frame)[0]
    for msg in by_onnx:
        assert np.array_equal(pixels(msg), onnx.decode(payload[stamp_ns(msg)])[0])
    for msg in by_torch:  # torch decodes what the torch-less encoder sent
        assert np.array_equal(pixels(msg), torch_codec.decode(payload[stamp_ns(msg)])[0])
    torch.set_num_threads(threads)
    assert {stamp_ns(m) for m in by_onnx} == {stamp_ns(m) for m in by_torch} == set(sent)


def test_bench_and_export_tools_without_torch(tmp_path: Path) -> None:
    """The codec benchmark runs on onnxruntime alone; the exporter says what it needs."""
    bench = subprocess.run([sys.executable, "-m", "gan_compress_ros.tools.bench", "codec",
                            "--backends", "onnxruntime", "--threads", "1", "--repeats", "3"],
                           env=without_torch(), capture_output=True, text=True, timeout=300)
    assert bench.returncode == 0, bench.stderr
    assert "| 1 | onnxruntime fp32 |" in bench.stdout and "torch" not in bench.stdout
    export = subprocess.run([sys.executable, "-m", "gan_compress_ros.tools.export", "mid",
                             "--out", str(tmp_path / "x")], env=without_torch(),
                            capture_output=True, text=True, timeout=120)
    assert export.returncode == 1 and "[export] extra" in export.stderr
    assert not (tmp_path / "x").exists()
