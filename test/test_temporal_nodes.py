"""Temporal mode over real topics: a relay drops, repeats and reorders; a decoder joins late.

encoder_node (key_interval 10) -> relay (this test's node) -> two decoder_nodes over DDS,
one from the start and one started after the stream is under way. What each shows is
exactly what a StreamDecoder fed the same messages in the same order shows: every key frame
that arrived, every inter frame whose key frame arrived before it, nothing else; the rest are
counted as waiting for their key frame.
"""

from __future__ import annotations

import numpy as np
from sensor_msgs.msg import CompressedImage, Image
from testkit.files import SAMPLE, read_photos
from testkit.ros import (
    DiagnosticsWatch,
    image_msg,
    reliable_input,
    spin_until,
    stamp_ns,
    start_node,
    stop_node,
)

from gan_compress_ros.codec import Codec
from gan_compress_ros.codec.bitstream import CONTEXT_VERSION, INTER_VERSION
from gan_compress_ros.nodes.encoder_node import STATUS_NAME as ENCODER

NS = "/temporal"
KEY_INTERVAL = 10
FRAMES = 40


def lossy_order(n: int, seed: int = 3) -> list[int]:
    """10% lost at random, one adjacent pair in eight swapped, every 9th repeated."""
    rng = np.random.default_rng(seed)
    kept = [i for i in range(n) if rng.random() >= 0.1]
    for j in range(3, len(kept) - 1, 8):
        kept[j], kept[j + 1] = kept[j + 1], kept[j]
    out = []
    for i in kept:
        out.append(i)
        if i % 9 == 4:
            out.append(i)
    return out


def test_lossy_relay_and_late_joiner(ros) -> None:
    clip = read_photos(SAMPLE)[:FRAMES]
    common = ["-r", f"__ns:={NS}", "-p", "diagnostics_period:=0.2"]
    enc = start_node("encoder_node", *common, "-p", f"key_interval:={KEY_INTERVAL}",
                     *reliable_input(f"{NS}/image_raw"))
    dec_args = [*common, "-r", f"{NS}/image_raw/gan:={NS}/link_out",
                *reliable_input(f"{NS}/link_out")]
    dec = start_node("decoder_node", *dec_args, "-r", "__node:=decoder")
    late = None
    cam = ros.create_publisher(Image, f"{NS}/image_raw", 50)
    relay_out = ros.create_publisher(CompressedImage, f"{NS}/link_out", 100)
    latents: dict[int, CompressedImage] = {}
    shown: dict[str, list[Image]] = {"decoder": [], "late": []}
    subs = [ros.create_subscription(CompressedImage, f"{NS}/image_raw/gan",
                                    lambda m: latents.__setitem__(stamp_ns(m), m), 100),
            ros.create_subscription(Image, f"{NS}/image_decoded", shown["decoder"].append, 100),
            ros.create_subscription(Image, f"{NS}/late/image_decoded", shown["late"].append,
                                    100)]
    diag = DiagnosticsWatch(ros)
    try:
        def up() -> bool:  # discovery, with a frame the test leaves out
            cam.publish(image_msg(clip[0], 1))
            return spin_until(ros, lambda: 1 in latents, 0.5)
        assert spin_until(ros, up, 60.0), "encoder did not come up"
        stamps = [10**12 + 10**8 * i for i in range(FRAMES)]
        for s, frame in zip(stamps, clip, strict=True):  # in order, one at a time
            cam.publish(image_msg(frame, s, frame_id="cam"))
            spin_until(ros, lambda s=s: s in latents, 10.0)
        assert all(s in latents for s in stamps), "the encoder skipped frames"
        kinds = [latents[s].data[0] for s in stamps]
        assert kinds.count(INTER_VERSION) >= FRAMES * 0.7
        at = [i for i, k in enumerate(kinds) if k == CONTEXT_VERSION]
        assert len(at) >= 3 and all(b - a <= KEY_INTERVAL for a, b in zip(at, at[1:],
                                                                          strict=False))

        keys = [s for s in stamps if latents[s].data[0] == CONTEXT_VERSION]
        # random loss, and surely one key frame lost (its inter frames must wait)
        order = [stamps[i] for i in lossy_order(FRAMES) if stamps[i] != keys[1]]
        half = len(order) // 2
        # the first decoder up (no warm-up frame: it would change the decoder's state)
        assert spin_until(ros, lambda: relay_out.get_subscription_count() > 0, 30.0)
        spin_until(ros, lambda: False, 1.0)
        for s in order[:half]:
            relay_out.publish(latents[s])
            spin_until(ros, lambda: False, 0.02)
        late = start_node("decoder_node", *dec_args, "-r", "__node:=late",
                          "-r", f"{NS}/image_decoded:={NS}/late/image_decoded")
        assert spin_until(ros, lambda: relay_out.get_subscription_count() > 1, 60.0)
        spin_until(ros, lambda: False, 1.0)
        for s in order[half:]:
            relay_out.publish(latents[s])
            spin_until(ros, lambda: False, 0.02)
        codec = Codec.load()
        for name, delivered in (("decoder", order), ("late", order[half:])):
            reference = codec.stream_decoder()
            expect = []
            for s in delivered:
                frame = reference.decode(bytes(latents[s].data))
                if frame is not None:
                    expect.append((s, frame))
            assert reference.waiting > 0  # the loss and the late start cost frames
            assert spin_until(ros, lambda n=name, e=expect: len(shown[n]) >= len(e), 30.0), \
                (name, len(shown[name]), len(expect))
            spin_until(ros, lambda: False, 0.5)
            got = shown[name]
            assert [stamp_ns(m) for m in got] == [s for s, _ in expect], name
            for msg, (_, frame) in zip(got, expect, strict=True):
                assert np.array_equal(np.frombuffer(bytes(msg.data), np.uint8)
                                      .reshape(64, 64, 3), frame)
            # the rest were counted as waiting for their key frame, and none as errors
            assert diag.wait_node(f"{NS}/{name}", {"waiting_for_key": reference.waiting,
                                                   "errors": 0}), diag.by_node.get(f"{NS}/{name}")
            # and nothing was shown that could not be: each inter frame's key came first
            arrived: set[int] = set()
            for s in delivered:
                if latents[s].data[0] == CONTEXT_VERSION:
                    arrived.add(s)
                elif s in {t for t, _ in expect}:
                    key = max(t for t in (1, *stamps) if t < s and latents[t].data[0] ==
                              CONTEXT_VERSION)
                    assert key in arrived, (name, s)
        assert diag.value(ENCODER, "frames") >= FRAMES
    finally:
        for sub in subs:
            ros.destroy_subscription(sub)
        diag.close()
        ros.destroy_publisher(cam)
        ros.destroy_publisher(relay_out)
        results = [stop_node(enc), stop_node(dec)] + ([stop_node(late)] if late else [])
    for code, log in results:
        assert code == 0 and "Traceback" not in log, log
