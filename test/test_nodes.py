"""Encoder and decoder nodes as separate processes over real DDS on localhost."""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage, Image
from testkit.ros import (
    image_msg,
    reliable_input,
    spin_until,
    stamp_ns,
    start_node,
    stop_node,
    wait_exit,
)

from gan_compress_ros.codec import Codec
from gan_compress_ros.codec.bitstream import quality_of
from gan_compress_ros.nodes.convert import fit


class Pipeline:
    """Encoder + decoder processes in namespace /robot1, camera remapped to /usb_cam/image.

    The latents follow the remapped input to /usb_cam/image/gan; the decoder is remapped
    to read them there, as the launch file does.
    """

    def __init__(self, ros, weights: Path) -> None:
        self.ros = ros
        common = ["-r", "__ns:=/robot1", "-p", f"weights:={weights}",
                  "-p", "diagnostics_period:=1.0"]
        self.encoder = start_node("encoder_node", *common, "-r", "image_raw:=/usb_cam/image",
                                  *reliable_input("/usb_cam/image"))
        self.decoder = start_node("decoder_node", *common,
                                  "-r", "image_raw/gan:=/usb_cam/image/gan",
                                  *reliable_input("/usb_cam/image/gan"))
        self.pub = ros.create_publisher(Image, "/usb_cam/image", 50)
        self.latent_pub = ros.create_publisher(CompressedImage, "/usb_cam/image/gan", 50)
        self.decoded: list[Image] = []
        self.diagnostics: list[DiagnosticArray] = []
        self.subs = [ros.create_subscription(Image, "/robot1/image_decoded",
                                             self.decoded.append, 50),
                     ros.create_subscription(DiagnosticArray, "/diagnostics",
                                             self.diagnostics.append, 50)]

    def wait_ready(self, frame: np.ndarray) -> None:
        """Publish a warm-up frame until one comes back decoded (discovery done)."""
        def back() -> bool:
            self.pub.publish(image_msg(frame, 1))
            return spin_until(self.ros, lambda: bool(self.decoded), 0.5)
        assert spin_until(self.ros, back, 60.0), "pipeline did not come up"
        spin_until(self.ros, lambda: False, 0.5)
        self.decoded.clear()

    def close(self) -> list[tuple[int, str]]:
        """Remove the test's endpoints and stop both nodes."""
        for sub in self.subs:
            self.ros.destroy_subscription(sub)
        self.ros.destroy_publisher(self.pub)
        self.ros.destroy_publisher(self.latent_pub)
        return [stop_node(self.encoder), stop_node(self.decoder)]


@pytest.fixture(scope="module")
def pipeline(ros, trained_weights: Path, photos: list[np.ndarray]):
    p = Pipeline(ros, trained_weights)
    p.wait_ready(photos[0])
    yield p
    p.close()


def test_frames_arrive_decoded_with_same_stamps(pipeline: Pipeline, codec: Codec,
                                                photos: list[np.ndarray]) -> None:
    sent = {}
    for i, photo in enumerate(photos):
        stamp = 1_000_000_000 * (100 + i) + 12345
        sent[stamp] = photo
        pipeline.pub.publish(image_msg(photo, stamp, frame_id="cam_optical"))
        time.sleep(0.05)
    assert spin_until(pipeline.ros, lambda: len(pipeline.decoded) >= len(sent), 30.0)
    assert [stamp_ns(m) for m in pipeline.decoded] == sorted(sent)
    for msg in pipeline.decoded:
        assert msg.header.frame_id == "cam_optical"
        assert (msg.width, msg.height, msg.encoding) == (64, 64, "rgb8")
        got = np.frombuffer(bytes(msg.data), np.uint8).reshape(64, 64, 3)
        expected = codec.decode(codec.encode(fit(sent[stamp_ns(msg)], "crop")))[0]
        assert np.array_equal(got, expected)  # the same pixels as the API, bit for bit


def test_bad_frames_and_payloads_are_survived(pipeline: Pipeline,
                                              photos: list[np.ndarray]) -> None:
    pipeline.decoded.clear()
    rgb = photos[1]
    bad = [image_msg(rgb, 1, encoding="32FC1"), image_msg(rgb, 2, encoding="nonsense"),
           image_msg(np.zeros((0, 0, 3), np.uint8), 3), image_msg(rgb[:, :, 0], 4, "rgb8")]
    short = image_msg(rgb, 5)
    short.data = bytes(short.data)[:100]
    step = image_msg(rgb, 6)
    step.step = 7
    for msg in [*bad, short, step]:
        pipeline.pub.publish(msg)
    rng = np.random.default_rng(0)
    for i, data in enumerate([b"", b"\x01", rng.bytes(50), rng.bytes(400)]):
        latent = CompressedImage(format="gan_compress", data=data)
        latent.header.stamp.sec = 10 + i
        pipeline.latent_pub.publish(latent)
    pipeline.latent_pub.publish(CompressedImage(format="jpeg", data=b"\xff\xd8"))
    good = image_msg(rgb, 999_000_000_000, frame_id="after")
    pipeline.pub.publish(good)
    assert spin_until(pipeline.ros, lambda: any(m.header.frame_id == "after"
                                                for m in pipeline.decoded), 30.0)
    assert all(m.header.frame_id == "after" for m in pipeline.decoded)

    def errors_reported() -> bool:
        values = {(s.name, kv.key): kv.value for d in pipeline.diagnostics for s in d.status
                  for kv in s.values}
        return (int(values.get(("gan_compress encoder", "errors"), 0)) >= 6
                and int(values.get(("gan_compress decoder", "errors"), 0)) >= 5)
    assert spin_until(pipeline.ros, errors_reported, 10.0)
    assert pipeline.encoder.poll() is None and pipeline.decoder.poll() is None


def test_sensor_data_publisher_reaches_encoder(ros, trained_weights: Path,
                                               photos: list[np.ndarray]) -> None:
    """A camera publishing best-effort (as camera drivers do) is heard by the encoder."""
    enc = start_node("encoder_node", "-r", "__ns:=/be", "-p", f"weights:={trained_weights}")
    pub = ros.create_publisher(Image, "/be/image_raw", qos_profile_sensor_data)
    got: list[CompressedImage] = []
    sub = ros.create_subscription(CompressedImage, "/be/image_raw/gan", got.append, 10)

    def back() -> bool:
        pub.publish(image_msg(photos[0], 5))
        return spin_until(ros, lambda: bool(got), 0.5)
    try:
        assert spin_until(ros, back, 60.0)
        assert got[0].format == "gan_compress" and len(got[0].data) < 12288 / 10
    finally:
        ros.destroy_subscription(sub)
        ros.destroy_publisher(pub)
        code, log = stop_node(enc)
    assert code == 0 and "Traceback" not in log


def test_double_sigint_exits_cleanly(trained_weights: Path) -> None:
    proc = start_node("decoder_node", "-p", f"weights:={trained_weights}")
    assert proc.wait_for("codec ", 120.0), proc.log
    assert proc.poll() is None
    proc.send_signal(2)
    proc.send_signal(2)
    code, log = stop_node(proc)
    assert code == 0 and "Traceback" not in log, log


@pytest.mark.parametrize("executable", ["encoder_node", "decoder_node"])
def test_missing_weights_exit_nonzero_naming_the_file(tmp_path: Path, executable: str) -> None:
    missing = tmp_path / "nowhere.safetensors"
    proc = start_node(executable, "-p", f"weights:={missing}")
    code, log = wait_exit(proc)
    assert code == 1 and "nowhere.safetensors" in log and "not found" in log, log
    assert "Traceback" not in log


class _Touch:
    """Unpickling this creates a file: proof that code from a weights file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _unknown_preset(src: Path, dst: Path) -> None:
    from safetensors import safe_open
    from safetensors.torch import save_file

    from gan_compress_ros.codec.nn.weights import METADATA_KEY
    with safe_open(str(src), framework="pt") as f:
        meta = json.loads(f.metadata()[METADATA_KEY])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    meta["preset"] = "huge"
    save_file(tensors, str(dst), metadata={METADATA_KEY: json.dumps(meta)})


@pytest.mark.parametrize("kind, cause", [("zeros", "broken.safetensors"),
                                         ("pickle", "broken.safetensors"),
                                         ("preset", "unknown preset 'huge'")])
def test_broken_weights_exit_nonzero(tmp_path: Path, trained_weights: Path, kind: str,
                                     cause: str) -> None:
    broken, marker = tmp_path / "broken.safetensors", tmp_path / "code_ran"
    if kind == "zeros":
        broken.write_bytes(b"\x00" * 64)
    elif kind == "pickle":
        broken.write_bytes(pickle.dumps({"weights": _Touch(marker)}))
    else:
        _unknown_preset(trained_weights, broken)
    code, log = wait_exit(start_node("encoder_node", "-p", f"weights:={broken}"))
    assert code == 1 and "broken.safetensors" in log and cause in log, log
    assert "Traceback" not in log and not marker.exists()


def test_bad_parameter_exits_nonzero(trained_weights: Path) -> None:
    proc = start_node("encoder_node", "-p", f"weights:={trained_weights}",
                      "-p", "resize_mode:=zoom")
    code, log = wait_exit(proc)
    assert code == 1 and "resize_mode" in log, log


def test_encoder_quality_parameter(ros, photos: list[np.ndarray], trained_weights: Path
                                   ) -> None:
    """``quality`` reaches the payload's quality byte; bad values stop the node at start."""
    proc = start_node("encoder_node", "-r", "__ns:=/qtest", "-p", "quality:=0.2")
    got: list[bytes] = []
    sub = ros.create_subscription(CompressedImage, "/qtest/image_raw/gan",
                                  lambda m: got.append(bytes(m.data)), 10)
    pub = ros.create_publisher(Image, "/qtest/image_raw", qos_profile_sensor_data)
    try:
        assert spin_until(ros, lambda: (pub.publish(image_msg(photos[0], 7)), bool(got))[1],
                          60.0), proc.lines[-20:]
        assert quality_of(got[0]) == round(0.2 * 255)
        assert Codec.load().decode(got[0]).shape == (1, 64, 64, 3)
    finally:
        ros.destroy_subscription(sub)
        ros.destroy_publisher(pub)
        stop_node(proc)
    for args, reason in ((["-p", "quality:=1.5"], "quality=1.5"),
                         (["-p", f"weights:={trained_weights}", "-p", "quality:=0.5"],
                          "fixed-rate")):
        code, log = wait_exit(start_node("encoder_node", *args))
        assert code == 1 and reason in log, log


def test_encoder_byte_cap_parameter(ros, photos: list[np.ndarray], trained_weights: Path
                                    ) -> None:
    """``max_bytes_per_frame``: payloads within the cap; frames that cannot fit are counted."""
    from testkit.ros import DiagnosticsWatch

    proc = start_node("encoder_node", "-r", "__ns:=/captest", "-p", "max_bytes_per_frame:=150",
                      "-p", "diagnostics_period:=0.5")
    got: list[bytes] = []
    sub = ros.create_subscription(CompressedImage, "/captest/image_raw/gan",
                                  lambda m: got.append(bytes(m.data)), 10)
    pub = ros.create_publisher(Image, "/captest/image_raw", qos_profile_sensor_data)
    try:
        for i, photo in enumerate(photos):
            msg, before = image_msg(photo, 100 + i), len(got)
            assert spin_until(ros, lambda m=msg, b=before: (pub.publish(m), len(got) > b)[1],
                              60.0)
        assert got and all(len(p) <= 150 for p in got)
        assert np.mean([len(p) for p in got]) > 0.85 * 150
    finally:
        ros.destroy_subscription(sub)
        ros.destroy_publisher(pub)
        stop_node(proc)
    # 12 B: under the bundled model's smallest payload (its most probable latent, 13 B)
    proc = start_node("encoder_node", "-r", "__ns:=/captest2", "-p", "max_bytes_per_frame:=12",
                      "-p", "diagnostics_period:=0.5")
    watch = DiagnosticsWatch(ros)
    pub = ros.create_publisher(Image, "/captest2/image_raw", qos_profile_sensor_data)
    try:
        def counted() -> bool:
            pub.publish(image_msg(photos[0], 7))
            status = watch.latest.get("gan_compress encoder", {})
            return "frame over max_bytes_per_frame" in str(status)
        assert spin_until(ros, counted, 60.0), watch.latest
    finally:
        ros.destroy_publisher(pub)
        watch.close()
        code, log = stop_node(proc)
    assert "needs at least" in log
    code, log = wait_exit(start_node("encoder_node", "-p", f"weights:={trained_weights}",
                                     "-p", "max_bytes_per_frame:=200"))
    assert code == 1 and "fixed-rate" in log, log
