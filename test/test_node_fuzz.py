"""A running decoder_node fed fuzzed latent messages over a real topic keeps decoding.

Each hypothesis example publishes a batch of hostile messages (random bytes, truncations,
bit flips, empty data, wrong format strings) mixed with valid ones. The in-process codec with
the same weights says which of them must decode; the node must publish exactly those (bit
for bit), count every other one as an error, stay alive and decode the next valid frame.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sensor_msgs.msg import CompressedImage, Image
from testkit.ros import (
    DiagnosticsWatch,
    NodeUnderTest,
    reliable_input,
    spin_until,
    stamp_ns,
    start_node,
)

from gan_compress_ros.codec import BitstreamError, Codec
from gan_compress_ros.codec.bitstream import MESSAGE_FORMAT
from gan_compress_ros.nodes.decoder_node import STATUS_NAME

NS = "/fuzz"


class FuzzedDecoder(NodeUnderTest):
    """decoder_node in NS with a reliable input, a publisher into it and listeners."""

    def __init__(self, ros, weights) -> None:
        self.ros = ros
        self.proc = start_node("decoder_node", "-r", f"__ns:={NS}", "-p", f"weights:={weights}",
                               "-p", "diagnostics_period:=0.2",
                               *reliable_input(f"{NS}/image_raw/gan"))
        self.pub = ros.create_publisher(CompressedImage, f"{NS}/image_raw/gan", 100)
        self.decoded: dict[int, bytes] = {}
        self.sub = ros.create_subscription(
            Image, f"{NS}/image_decoded",
            lambda m: self.decoded.__setitem__(stamp_ns(m), bytes(m.data)), 100)
        self.diag = DiagnosticsWatch(ros)
        self.errors = 0  # bad messages sent so far
        self.served = 0  # good messages sent so far

    def send(self, data: bytes, fmt: str, stamp: int) -> None:
        """Publish one latent message."""
        msg = CompressedImage(format=fmt, data=data)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 10**9)
        self.pub.publish(msg)


@pytest.fixture(scope="module")
def valid(codec: Codec, val_frames: np.ndarray) -> list[bytes]:
    return codec.encode(val_frames)


@pytest.fixture(scope="module")
def node(ros, trained_weights, valid: list[bytes]):
    d = FuzzedDecoder(ros, trained_weights)

    def back() -> bool:
        d.send(valid[0], MESSAGE_FORMAT, 1)
        return spin_until(ros, lambda: 1 in d.decoded, 0.5)
    assert spin_until(ros, back, 60.0), "decoder did not come up"
    assert spin_until(ros, lambda: d.diag.value(STATUS_NAME, "frames") > 0, 10.0)
    spin_until(ros, lambda: False, 0.6)
    d.served = d.diag.value(STATUS_NAME, "frames")  # the warm-up frames
    yield d
    code, log = d.close()
    assert code == 0 and "Traceback" not in log, log


def _flip(payload: bytes, bits: list[int]) -> bytes:
    out = bytearray(payload)
    for b in bits:
        out[(b // 8) % len(out)] ^= 1 << (b % 8)
    return bytes(out)


_formats = st.one_of(
    st.just(MESSAGE_FORMAT), st.sampled_from(["", "jpeg", "png", "GAN_COMPRESS", "gan",
                                              "gan_compress; v=2"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            max_size=24))
_case = st.tuples(
    st.sampled_from(["valid", "random", "truncate", "flip", "empty"]),
    st.binary(max_size=500), st.integers(0, 10_000), st.lists(st.integers(0, 10_000),
                                                              min_size=1, max_size=6),
    _formats)


def _payload(kind: str, blob: bytes, cut: int, bits: list[int], valid: bytes) -> bytes:
    return {"valid": valid, "random": blob, "truncate": valid[:cut % len(valid)],
            "flip": _flip(valid, bits), "empty": b""}[kind]


@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(cases=st.lists(_case, min_size=15, max_size=30))
def test_decoder_node_survives_fuzzed_topic(node: FuzzedDecoder, codec: Codec,
                                            valid: list[bytes], cases: list) -> None:
    base = 10**12 * (2 + node.served + node.errors)  # unique stamps per example
    expected: dict[int, bytes] = {}
    for i, (kind, blob, cut, bits, fmt) in enumerate(cases):
        payload = _payload(kind, blob, cut, bits, valid[i % len(valid)])
        stamp = base + i
        try:
            ok = fmt.startswith(MESSAGE_FORMAT)
            image = codec.decode([payload])[0] if ok else None
        except BitstreamError:
            ok = False
        if ok:
            expected[stamp] = image.tobytes()
        node.errors += not ok
        node.send(payload, fmt, stamp)
    marker = base + len(cases)
    node.send(valid[0], MESSAGE_FORMAT, marker)
    node.served += len(expected) + 1
    assert spin_until(node.ros, lambda: marker in node.decoded, 30.0), "node stopped decoding"
    got = {s: d for s, d in node.decoded.items() if base <= s < marker}
    assert got == expected  # exactly the decodable ones, with the API's pixels
    assert node.diag.wait(STATUS_NAME, {"errors": node.errors, "frames": node.served}), \
        node.diag.latest.get(STATUS_NAME)
    assert node.proc.poll() is None
