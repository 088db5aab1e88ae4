"""The nodes' summary lines: only what the node measures, and temporal quality explained."""

from __future__ import annotations

from gan_compress_ros.nodes.stats import NodeStats


def test_encoder_line_has_no_receiving_side_fields() -> None:
    encoder = NodeStats("gan_compress encoder")
    for _ in range(3):
        encoder.served(100, 5.0)
    line = encoder.summary()
    assert "duplicates" not in line and "out of order" not in line, line
    decoder = NodeStats("gan_compress decoder")
    for stamp in (1, 2, 2, 1):
        decoder.served(100, 5.0)
        decoder.order.observe(stamp)
    assert "duplicates 2, out of order 0" in decoder.summary()


def test_temporal_mean_quality_says_it_is_the_key_frames() -> None:
    stats = NodeStats("gan_compress encoder")
    stats.served(100, 5.0)
    stats.extra = lambda: {"mean_quality": 0.68}
    assert stats.summary().endswith("mean quality 0.68")
    stats.extra = lambda: {"mean_quality": 0.68, "inter_frame_share": 0.9,
                           "key_byte_share": 0.5}
    assert "mean quality 0.68 (temporal mode: the key frames', which are coded above the " \
        "requested quality" in stats.summary()
