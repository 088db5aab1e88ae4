"""``gan-compress-bench stages``: where the encoder node's time goes per camera frame.

Each stage the node runs for one frame, timed alone in this process (median of repeats) at
640x480, 1280x720 and 1920x1080: rclpy's deserialisation of the Image (what the take path
does for a subscription), the conversion to an RGB array (a zero-copy view for rgb8), the
fit into 64x64 (the exact area resize and the node's two-step path), the codec's encode, and
the latent message's serialisation. DDS transport is not in it: the pipeline benchmark
measures the whole path between processes.
"""

from __future__ import annotations

import argparse
from functools import partial

SIZES = ((640, 480), (1280, 720), (1920, 1080))


def rows(repeats: int = 50) -> list[dict]:
    """One dict of stage -> median ms per frame size."""
    import cv2
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import CompressedImage, Image

    from ..codec import Codec
    from ..image import fit, read_rgb
    from ..nodes.convert import LATENT_FORMAT, image_to_rgb, rgb_to_image
    from ..training.data import find_images
    from .common import SAMPLE_CLIP, median_ms

    codec = Codec.load(threads=1)
    photo = read_rgb(find_images([SAMPLE_CLIP])[0])
    out = []
    for w, h in SIZES:
        msg = rgb_to_image(cv2.resize(photo, (w, h), interpolation=cv2.INTER_CUBIC))
        raw = serialize_message(msg)
        taken = deserialize_message(raw, Image)
        rgb = image_to_rgb(taken)
        frame = fit(rgb, "crop", fast=True)
        payload = codec.encode(frame)[0]
        latent = CompressedImage(header=taken.header, format=LATENT_FORMAT, data=payload)
        stages = {
            "deserialise Image": median_ms(partial(deserialize_message, raw, Image), repeats),
            "to RGB": median_ms(partial(image_to_rgb, taken), repeats),
            "fit, exact": median_ms(partial(fit, rgb, "crop"), repeats),
            "fit, two-step (node)": median_ms(partial(fit, rgb, "crop", fast=True), repeats),
            "encode (onnxruntime, 1 thread)": median_ms(partial(codec.encode, frame),
                                                         repeats),
            "serialise latent": median_ms(partial(serialize_message, latent), repeats),
        }
        node = sum(v for k, v in stages.items() if k != "fit, exact")
        out.append({"size": f"{w}x{h}", "bytes": len(raw), **stages, "node total": node})
    return out


def markdown(table: list[dict], command: str, machine: str) -> str:
    """The docs section."""
    keys = [k for k in table[0] if k not in ("size", "bytes")]
    lines = [f"Measured {machine} by `{command}` (ms per frame, median; each stage alone, "
             "in one process; the node runs every stage but the exact fit).", "",
             "| stage | " + " | ".join(r["size"] for r in table) + " |",
             "| --- |" + " ---: |" * len(table),
             "| message bytes | " + " | ".join(f"{r['bytes']:,}" for r in table) + " |"]
    lines += [f"| {k} | " + " | ".join(f"{r[k]:.2f}" for r in table) + " |" for k in keys]
    return "\n".join(lines)


def arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-compress-bench stages``."""
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--out", help="markdown file whose 'stages' section is rewritten")


def run(args: argparse.Namespace) -> int:
    """``gan-compress-bench stages [--repeats N] [--out FILE]``."""
    from .report import machine_line, update_section

    text = markdown(rows(args.repeats), args.command_line, machine_line())
    print(text)
    if args.out:
        update_section(args.out, "stages", text)
    return 0
