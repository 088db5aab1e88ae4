"""gan-compress-bag: rewrite a rosbag's image topic as latent messages, and back.

``compress IN OUT --topic T``: every sensor_msgs/Image or CompressedImage on ``T`` becomes a
latent CompressedImage on ``T/gan`` (header and timestamps kept), and the camera's
CameraInfo (``camera_info`` beside ``T``) becomes one fitted to the 64x64 frame on
``T/gan/camera_info``, written when it changes. ``decompress IN OUT --topic T/gan``: latents
become 64x64 rgb8 Images on ``T/decoded`` and their CameraInfo ``T/decoded/camera_info``.
``--keep`` also keeps the input topic and its CameraInfo. Without ``--topic`` the bag's
only image (compress) or latent (decompress) topic is taken. rosbag2 input (metadata
versions 4 to 9; ``.mcap``, ``.db3`` or the bag folder; split or zstd-compressed) is
written in the same storage format and compression with every other topic copied
unchanged (type, definition, QoS, every message); a ROS 1 ``.bag`` becomes an mcap
rosbag2 with every topic whose type ROS 2 knows (camera_info, tf, ...) converted, the
others named and left out. The output appears only when complete: a failure or Ctrl-C
leaves nothing. Both modes print sizes before and after.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..bagio import BagError, BagReader, BagWriter, open_bag, size_of
from ..codec import BitstreamError, ByteCapError, Codec
from ..codec.bitstream import MESSAGE_FORMAT
from ..codec.errors import WeightsError
from ..image import (
    RESIZE_MODES,
    camera_info_key,
    camera_info_of,
    compressed_to_rgb,
    fit,
    fit_camera_info_msg,
    image_msg_to_rgb,
    info_beside,
)
from ..training.sources import IMAGE_TYPES

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
LATENT_FORMAT = MESSAGE_FORMAT
Convert = Callable[[BagReader, bytes, str, Any, Any], Any]


class NothingWritten(Exception):
    """No frame could be converted: the output is dropped, not reported as done."""


def _rgb(reader: BagReader, raw: bytes, msgtype: str) -> np.ndarray:
    """RGB of a bag's Image (through the image module: row padding, NV12...) or JPEG/PNG."""
    msg = reader.deserialize(raw, msgtype)
    if msgtype.endswith("CompressedImage"):
        return compressed_to_rgb(msg.data)
    return image_msg_to_rgb(msg)


def _header(store: Any, msg: Any) -> Any:
    header = msg.header
    return store.types["std_msgs/msg/Header"](
        stamp=store.types["builtin_interfaces/msg/Time"](sec=header.stamp.sec,
                                                         nanosec=header.stamp.nanosec),
        frame_id=header.frame_id)


def _rewrite(bag: BagReader, dst: Path, topic: str, out_topic: str, out_type: str,
             keep: bool, convert: Convert, info: tuple[str, str, str | None]
             ) -> tuple[int, int]:
    """Copy ``bag`` to ``dst`` with ``topic`` converted by ``convert`` onto ``out_topic``.

    ``info``: (camera_info topic in, camera_info topic out, resize mode or None for a copy
    that is already fitted); the output's is written when its content changes.
    """
    info_in, info_out, info_mode = info
    source = bag.topic(topic)
    if source is None:
        raise ValueError(f"{bag.path}: no topic {topic!r}; topics: "
                         f"{sorted({t.name for t in bag.topics})}")
    info_topic = bag.topic(info_in)
    if info_topic is not None and info_topic.msgtype != CAMERA_INFO:
        info_topic = None
    done = errors = 0
    with BagWriter(dst, "mcap" if bag.ros1 else bag.storage, bag.compression) as writer:
        store = writer.store
        out_conn = writer.add_topic(out_topic, out_type, source.qos)
        info_conn = writer.add_topic(info_out, CAMERA_INFO, info_topic.qos) \
            if info_topic else None
        copies = {}
        replaced = {topic, info_in} if info_topic is not None else {topic}
        for t in bag.topics:
            if t.name in replaced and not keep:
                continue
            if not bag.ros1:
                copies[t] = writer.copy_topic(t)
            elif bag.knows(t.msgtype):
                copies[t] = writer.add_topic(t.name, t.msgtype)
        skipped = sorted({f"{t.name} ({t.msgtype})" for t in bag.topics
                          if t not in copies and t.name not in replaced})
        if skipped:
            print(f"ROS 1 input: topics of types ROS 2 does not know, not carried over: "
                  f"{', '.join(skipped)}", file=sys.stderr)
        last_info = None
        total = sum(t.count for t in bag.topics) or None
        for t, stamp, raw in tqdm(bag.messages(), total=total, desc="messages",
                                  disable=None, mininterval=1.0):
            if t.name == topic:
                msg = bag.deserialize(raw, t.msgtype)
                try:
                    out = convert(bag, raw, t.msgtype, _header(store, msg), store)
                except (ValueError, BitstreamError) as exc:
                    errors += 1
                    print(f"skipped message at {stamp}: {exc}", file=sys.stderr)
                else:
                    writer.write(out_conn, stamp, writer.serialize(out, out_type))
                    done += 1
            elif info_conn is not None and t.name == info_in and t.msgtype == CAMERA_INFO:
                fitted = _fitted_info(bag, raw, info_mode, writer)
                if fitted is not None and camera_info_key(fitted) != last_info:
                    writer.write(info_conn, stamp, writer.serialize(fitted, CAMERA_INFO))
                    last_info = camera_info_key(fitted)
            if t in copies:
                try:
                    data = raw if not bag.ros1 else bag.to_ros2(raw, t.msgtype)
                except (AttributeError, TypeError, ValueError) as exc:  # a ROS 1 type
                    errors += 1  # whose fields differ from its ROS 2 namesake
                    print(f"skipped {t.name} message at {stamp}: {exc}", file=sys.stderr)
                    continue
                writer.write(copies[t], stamp, data)
        if done == 0:
            raise NothingWritten(f"none of the {errors} messages on {topic} could be "
                                 "converted; nothing written")
    return done, errors


def _fitted_info(bag: BagReader, raw: bytes, mode: str | None, writer: BagWriter) -> Any:
    """A CameraInfo fitted as ``fit`` fits the frame (``mode`` None: as it is)."""
    msg = bag.deserialize(raw, CAMERA_INFO) if not bag.ros1 else \
        writer.store.deserialize_cdr(bag.to_ros2(raw, CAMERA_INFO), CAMERA_INFO)
    if mode is not None:
        try:
            fit_camera_info_msg(msg, mode)
        except ValueError as exc:
            print(f"camera_info not fitted: {exc}", file=sys.stderr)
            return None
    return msg


def _frames(codec: Codec, resize_mode: str, quality: float | None = None,
            max_bytes: int | None = None, key_interval: int = 1, effort: int = 0) -> Convert:
    stream = codec.stream_encoder(key_interval) if key_interval > 1 else None

    def convert(reader, raw, msgtype, header, store) -> object:
        if msgtype not in IMAGE_TYPES:
            raise ValueError(f"{msgtype} is not an image type")
        rgb = _rgb(reader, raw, msgtype)
        frame = fit(rgb, resize_mode, fast=True)  # as the encoder node fits camera frames
        if stream is not None:  # bags are in time order: temporal mode's best case
            payload = stream.encode(frame, quality=quality, max_bytes=max_bytes)
        else:
            payload = codec.encode(frame, quality=quality, max_bytes=max_bytes,
                                   effort=effort)[0]
        return store.types[COMPRESSED](header=header, format=LATENT_FORMAT,
                                       data=np.frombuffer(payload, np.uint8))
    return convert


def _decoder(codec: Codec) -> Convert:
    stream = codec.stream_decoder()  # key and inter frames alike

    def convert(reader, raw, msgtype, header, store) -> object:
        msg = reader.deserialize(raw, msgtype)
        if not str(msg.format).startswith(LATENT_FORMAT):
            raise ValueError(f"format {msg.format!r} is not {LATENT_FORMAT}")
        rgb = stream.decode(bytes(msg.data))
        if rgb is None:
            raise ValueError("an inter frame whose key frame is not in the bag before it")
        return store.types[IMAGE](header=header, height=64, width=64, encoding="rgb8",
                                  is_bigendian=0, step=64 * 3, data=rgb.reshape(-1))
    return convert


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="gan-compress-bag", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["compress", "decompress"])
    p.add_argument("input", type=Path)
    p.add_argument("output", type=Path, help="output rosbag2 folder (must not exist)")
    p.add_argument("--topic", help="image topic (compress) or latent topic (decompress); "
                   "default: the bag's only one")
    p.add_argument("--weights", default="", help="weights file or bundled name")
    p.add_argument("--resize-mode", default="crop", choices=list(RESIZE_MODES))
    p.add_argument("--keep", action="store_true", help="keep the input topic as well")
    p.add_argument("--quality", type=float, help="compress: quality 0..1 of a variable-rate "
                   "model (default: the weights' or preset's); with --max-bytes the highest "
                   "quality tried")
    p.add_argument("--max-bytes", type=int, help="compress: every payload at most this many "
                   "bytes, at the best quality that fits; frames that cannot fit are skipped "
                   "and counted")
    p.add_argument("--key-interval", type=int, default=1, help="compress: temporal mode, a "
                   "key frame every this many frames and inter frames between (1: every "
                   "frame intra)")
    p.add_argument("--effort", type=int, default=0, help="compress: 0..9, how long the "
                   "encoder searches for cheaper latents (0: one pass; 9: about a second a "
                   "frame; needs PyTorch); intra frames only (--key-interval 1)")
    return p.parse_args(argv)


def _fail(message: object) -> int:
    print(f"gan-compress-bag: {message}", file=sys.stderr)
    return 2


def _cap_check(codec: Codec, args: argparse.Namespace) -> None:
    """ValueError for options these weights cannot take, or a cap no frame can meet."""
    try:
        codec.check_effort(args.effort)
    except ValueError as exc:
        raise ValueError(f"--effort {args.effort}: {exc}") from None
    try:
        codec.stream_encoder(args.key_interval).encode(
            np.zeros((64, 64, 3), np.uint8), quality=args.quality,
            max_bytes=args.max_bytes or None)
    except ByteCapError as exc:  # the model's most probable latent is the cheapest there is
        raise ValueError(f"--max-bytes {args.max_bytes} is below the smallest payload "
                         f"these weights make ({exc.smallest} bytes)") from None
    except ValueError as exc:  # named by the flags the user typed
        given = [f"{flag} {value}" for flag, value in (
            ("--quality", args.quality), ("--max-bytes", args.max_bytes),
            ("--key-interval", args.key_interval if args.key_interval > 1 else None))
            if value is not None]
        raise ValueError(f"{', '.join(given) or args.weights or 'weights'}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    if args.output.exists():
        return _fail(f"{args.output} exists; choose a new output")
    if args.max_bytes is not None and args.max_bytes <= 0:
        return _fail(f"--max-bytes {args.max_bytes}: give a positive number of bytes")
    if args.key_interval < 1:
        return _fail(f"--key-interval {args.key_interval}: give 1 or more")
    try:
        with open_bag(args.input) as bag:
            return _run(args, bag)
    except BagError as exc:
        return _fail(exc)
    except KeyboardInterrupt:
        print(f"gan-compress-bag: interrupted; {args.output} not written", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, bag: BagReader) -> int:
    try:
        topic = args.topic or _only_topic(bag, args.mode)
        source = bag.topic(topic)
        if source is not None and not source.count:
            raise ValueError(f"{args.input}: no messages on {topic}")
        codec = Codec.load(args.weights or None)
        if args.mode == "compress":
            _cap_check(codec, args)
    except (ValueError, WeightsError) as exc:  # options these weights cannot take
        return _fail(exc)
    if args.mode == "compress":
        out_topic, out_type = f"{topic.rstrip('/')}/gan", COMPRESSED
        convert = _frames(codec, args.resize_mode, args.quality, args.max_bytes or None,
                          args.key_interval, args.effort)
        info = (camera_info_of(topic), info_beside(out_topic), args.resize_mode)
    else:
        base = topic[:-4] if topic.endswith("/gan") else topic
        out_topic, out_type, convert = f"{base}/decoded", IMAGE, _decoder(codec)
        info = (info_beside(topic), info_beside(out_topic), None)
    try:
        done, errors = _rewrite(bag, args.output, topic, out_topic, out_type, args.keep,
                                convert, info)
    except NothingWritten as exc:
        print(f"gan-compress-bag: {exc}", file=sys.stderr)
        return 1
    except (ValueError, KeyError, BagError) as exc:
        return _fail(exc)
    before, after = size_of(args.input), size_of(args.output)
    print(f"{args.mode}: {done} messages on {topic} -> {out_topic} ({errors} skipped); "
          f"{args.input}: {before} bytes -> {args.output}: {after} bytes "
          f"({after / max(before, 1):.3f}x)")
    return 0


def _only_topic(bag: BagReader, mode: str) -> str:
    """The bag's one image topic (compress) or latent topic (decompress); ValueError if not one."""
    if mode == "compress":
        found = sorted({t.name for t in bag.topics if t.msgtype in IMAGE_TYPES
                        and not t.name.endswith("/gan")})
        kind = "image"
    else:
        found = sorted({t.name for t in bag.topics if t.msgtype == COMPRESSED
                        and t.name.endswith("/gan")})
        kind = "latent (*/gan)"
    if len(found) != 1:
        raise ValueError(f"{bag.path}: {len(found)} {kind} topics "
                         f"({', '.join(found) or 'none'}); choose one with --topic")
    return found[0]


def iter_topic(path: Path, topic: str) -> Iterator[tuple[int, Any]]:
    """(timestamp, message) pairs of ``topic`` in a bag (for tests and inspection)."""
    with open_bag(path) as bag:
        for t, stamp, raw in bag.messages([topic]):
            yield stamp, bag.deserialize(raw, t.msgtype)


if __name__ == "__main__":
    sys.exit(main())
