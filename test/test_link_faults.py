"""A faulty link between the nodes: a relay drops, reorders and duplicates latent messages.

encoder_node -> relay (this test's node) -> decoder_node, all over real DDS. Every frame that
arrives decodes alone to the API's pixels whatever came before it; the decoder's counters
show duplicates and late frames, and the encoder's count against the decoder's shows the loss.
"""

from __future__ import annotations

import numpy as np
from sensor_msgs.msg import CompressedImage, Image
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
from gan_compress_ros.nodes.convert import fit
from gan_compress_ros.nodes.decoder_node import STATUS_NAME as DECODER
from gan_compress_ros.nodes.encoder_node import STATUS_NAME as ENCODER

NS = "/link"
FRAMES = 30


def faulty_order(n: int) -> list[int]:
    """Indices as a bad link delivers them: every 5th lost, pairs swapped, every 7th twice."""
    kept = [i for i in range(n) if i % 5 != 4]
    for j in range(0, len(kept) - 1, 6):  # swap one adjacent pair in every six
        kept[j], kept[j + 1] = kept[j + 1], kept[j]
    out = []
    for i in kept:
        out.append(i)
        if i % 7 == 3:
            out.append(i)
    return out


def expected_counts(stamps: list[int]) -> tuple[int, int]:
    """(duplicates, out of order) of a delivery order, counted the plain way."""
    seen: set[int] = set()
    newest, dup, late = -1, 0, 0
    for s in stamps:
        if s in seen:
            dup += 1
        elif s < newest:
            late += 1
        seen.add(s)
        newest = max(newest, s)
    return dup, late


def test_drop_reorder_duplicate(ros, trained_weights, codec: Codec, val_frames) -> None:
    common = ["-r", f"__ns:={NS}", "-p", f"weights:={trained_weights}",
              "-p", "diagnostics_period:=0.2"]
    enc = start_node("encoder_node", *common, *reliable_input(f"{NS}/image_raw"))
    dec = start_node("decoder_node", *common, "-r", f"{NS}/image_raw/gan:={NS}/link_out",
                     *reliable_input(f"{NS}/link_out"))
    cam = ros.create_publisher(Image, f"{NS}/image_raw", 50)
    relay_out = ros.create_publisher(CompressedImage, f"{NS}/link_out", 100)
    latents: dict[int, CompressedImage] = {}
    decoded: list[Image] = []
    subs = [ros.create_subscription(CompressedImage, f"{NS}/image_raw/gan",
                                    lambda m: latents.__setitem__(stamp_ns(m), m), 100),
            ros.create_subscription(Image, f"{NS}/image_decoded", decoded.append, 100)]
    diag = DiagnosticsWatch(ros)
    try:
        def up() -> bool:  # discovery on both hops, with a frame the counts leave out
            cam.publish(image_msg(val_frames[0], 1))
            if 1 in latents:
                relay_out.publish(latents[1])
            return spin_until(ros, lambda: bool(decoded), 0.5)
        assert spin_until(ros, up, 60.0), "pipeline did not come up"
        assert spin_until(ros, lambda: diag.value(DECODER, "frames") > 0
                          and diag.value(ENCODER, "frames") > 0, 10.0)
        spin_until(ros, lambda: False, 0.6)
        enc0, dec0 = diag.value(ENCODER, "frames"), diag.value(DECODER, "frames")
        dup0, late0 = diag.value(DECODER, "duplicates"), diag.value(DECODER, "out_of_order")
        decoded.clear()

        stamps = [10**12 + 10**9 * i for i in range(FRAMES)]
        frames = {s: val_frames[i % len(val_frames)] for i, s in enumerate(stamps)}
        for s in stamps:
            cam.publish(image_msg(frames[s], s, frame_id="cam"))
        assert spin_until(ros, lambda: all(s in latents for s in stamps), 30.0)

        order = [stamps[i] for i in faulty_order(FRAMES)]
        for s in order:
            relay_out.publish(latents[s])
        assert spin_until(ros, lambda: len(decoded) >= len(order), 30.0)
        spin_until(ros, lambda: False, 0.5)

        assert [stamp_ns(m) for m in decoded] == order  # each delivered frame, in link order
        for msg in decoded:
            s = stamp_ns(msg)
            got = np.frombuffer(bytes(msg.data), np.uint8).reshape(64, 64, 3)
            alone = codec.decode([bytes(latents[s].data)])[0]
            assert np.array_equal(got, alone)  # no state from the frames around it
            assert np.array_equal(alone, codec.decode(codec.encode(fit(frames[s], "crop")))[0])
        dup, late = expected_counts(order)
        assert dup > 0 and late > 0
        assert diag.wait(DECODER, {"frames": dec0 + len(order), "duplicates": dup0 + dup,
                                   "out_of_order": late0 + late, "errors": 0}), \
            diag.latest.get(DECODER)
        assert diag.wait(ENCODER, {"frames": enc0 + FRAMES})
        # the counters tell the loss: encoded frames less distinct decoded ones
        sent = diag.value(ENCODER, "frames") - enc0
        distinct = (diag.value(DECODER, "frames") - dec0) - (diag.value(DECODER, "duplicates")
                                                              - dup0)
        assert sent - distinct == FRAMES // 5
    finally:
        for sub in subs:
            ros.destroy_subscription(sub)
        diag.close()
        ros.destroy_publisher(cam)
        ros.destroy_publisher(relay_out)
        results = [stop_node(enc), stop_node(dec)]
    for code, log in results:
        assert code == 0 and "Traceback" not in log, log
