"""gan-compress-bag: rewrite a rosbag's image topic as latent messages, and back.

``compress IN OUT --topic T``: every sensor_msgs/Image or CompressedImage on ``T`` becomes a
latent CompressedImage on ``T/gan`` (header and timestamps kept); ``--keep`` also keeps ``T``.
``decompress IN OUT --topic T/gan``: latents become 64x64 rgb8 Images on ``T/decoded``.
Without ``--topic`` the bag's only image (compress) or latent (decompress) topic is taken.
rosbag2 input (``.mcap``, ``.db3`` or the bag folder) is written in the same storage format
with every other topic copied unchanged; a ROS 1 ``.bag`` becomes an mcap rosbag2 with every
topic whose type ROS 2 knows (camera_info, tf, ...) converted, the others named and left
out. Both print sizes before and after.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..codec import BitstreamError, ByteCapError, Codec
from ..codec.bitstream import MESSAGE_FORMAT
from ..codec.errors import WeightsError
from ..extras import need
from ..image import RESIZE_MODES, compressed_to_rgb, fit, image_msg_to_rgb
from ..training.sources import IMAGE_TYPES

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
LATENT_FORMAT = MESSAGE_FORMAT
# rosbags reads and writes the bags: the `bags` extra, with a clear error where it is missing
_highlevel, _rosbag2 = need("rosbags.highlevel"), need("rosbags.rosbag2")
AnyReader, StoragePlugin, Writer = _highlevel.AnyReader, _rosbag2.StoragePlugin, _rosbag2.Writer
Stores, get_typestore = need("rosbags.typesys").Stores, need("rosbags.typesys").get_typestore
#: What rosbags raises for a file that is not a bag, or a damaged one.
ReaderErrors: tuple[type[Exception], ...] = (
    _highlevel.AnyReaderError, need("rosbags.rosbag1").ReaderError, _rosbag2.ReaderError)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*")) if path.is_dir() else \
        path.stat().st_size


def _storage(path: Path) -> Any:
    files = [path] if path.is_file() else list(path.iterdir())
    return StoragePlugin.SQLITE3 if any(p.suffix == ".db3" for p in files) else \
        StoragePlugin.MCAP


def _rgb(reader: Any, raw: bytes, msgtype: str) -> np.ndarray:
    """RGB of a bag's Image (through the image module: row padding, NV12...) or JPEG/PNG."""
    msg = reader.deserialize(raw, msgtype)
    if msgtype.endswith("CompressedImage"):
        return compressed_to_rgb(msg.data)
    return image_msg_to_rgb(msg)


def _header(store, msg) -> object:
    header = msg.header
    return store.types["std_msgs/msg/Header"](
        stamp=store.types["builtin_interfaces/msg/Time"](sec=header.stamp.sec,
                                                         nanosec=header.stamp.nanosec),
        frame_id=header.frame_id)


def _rewrite(src: Path, dst: Path, topic: str, out_topic: str, out_type: str, keep: bool,
             convert) -> tuple[int, int]:
    """Copy ``src`` to ``dst`` with ``topic`` converted by ``convert`` onto ``out_topic``."""
    store = get_typestore(Stores.ROS2_HUMBLE)
    done = errors = 0
    with AnyReader([src]) as reader:
        ros2 = not src.suffix == ".bag"
        sources = [c for c in reader.connections if c.topic == topic]
        if not sources:
            raise ValueError(f"{src}: no topic {topic!r}; topics: "
                             f"{sorted({c.topic for c in reader.connections})}")
        with Writer(dst, version=9, storage_plugin=_storage(src) if ros2 else
                    StoragePlugin.MCAP) as writer:
            out_conn = writer.add_connection(out_topic, out_type, typestore=store)
            copies = {}
            for conn in reader.connections:
                if conn.topic == topic and not keep:
                    continue
                if ros2:
                    copies[conn.id] = writer.add_connection(
                        conn.topic, conn.msgtype, msgdef=conn.msgdef.data, rihs01=conn.digest,
                        serialization_format=conn.ext.serialization_format,
                        offered_qos_profiles=conn.ext.offered_qos_profiles)
                elif _convertible(conn, store):
                    copies[conn.id] = writer.add_connection(conn.topic, conn.msgtype,
                                                            typestore=store)
            skipped = sorted({f"{c.topic} ({c.msgtype})" for c in reader.connections
                              if c.id not in copies and c.topic != topic})
            if skipped:
                print(f"ROS 1 input: topics of types ROS 2 does not know, not carried over: "
                      f"{', '.join(skipped)}", file=sys.stderr)
            for conn, stamp, raw in tqdm(reader.messages(), total=reader.message_count,
                                         desc="messages", disable=None, mininterval=1.0):
                if conn.topic == topic:
                    msg = reader.deserialize(raw, conn.msgtype)
                    try:
                        out = convert(reader, raw, conn.msgtype, _header(store, msg), store)
                    except (ValueError, BitstreamError) as exc:
                        errors += 1
                        print(f"skipped message at {stamp}: {exc}", file=sys.stderr)
                        continue
                    writer.write(out_conn, stamp, store.serialize_cdr(out, out_type))
                    done += 1
                if conn.id in copies:
                    try:
                        data = raw if ros2 else store.serialize_cdr(
                            _to_ros2(reader, raw, conn.msgtype, store), conn.msgtype)
                    except (AttributeError, TypeError, ValueError) as exc:  # a ROS 1 type
                        errors += 1  # whose fields differ from its ROS 2 namesake
                        print(f"skipped {conn.topic} message at {stamp}: {exc}",
                              file=sys.stderr)
                        continue
                    writer.write(copies[conn.id], stamp, data)
    return done, errors


def _to_ros2(reader: Any, raw: bytes, msgtype: str, store) -> object:
    """A ROS 1 message rebuilt as its ROS 2 form (headers lose ``seq``)."""
    return _ros2_form(reader.deserialize(raw, msgtype), msgtype, store)


def _ros2_form(msg: Any, msgtype: str, store: Any) -> Any:
    """``msg`` (ROS 1, deserialized) with the fields of ROS 2's ``msgtype``, recursively."""
    fields = {}
    for name in store.types[msgtype].__dataclass_fields__:
        # ROS 2 lower-cased ROS 1's upper-case fields (CameraInfo's D, K, R, P)
        value = getattr(msg, name) if hasattr(msg, name) else getattr(msg, name.upper())
        sub = getattr(value, "__msgtype__", None)
        if sub is not None:
            value = _ros2_form(value, sub, store)
        elif isinstance(value, list) and value and hasattr(value[0], "__msgtype__"):
            value = [_ros2_form(v, v.__msgtype__, store) for v in value]
        fields[name] = value
    return store.types[msgtype](**fields)


def _convertible(conn: Any, store: Any) -> bool:
    """Whether a ROS 1 connection's type exists in ROS 2 with a compatible form."""
    return conn.msgtype in store.types


def _frames(codec: Codec, resize_mode: str, quality: float | None = None,
            max_bytes: int | None = None, key_interval: int = 1) -> object:
    stream = codec.stream_encoder(key_interval) if key_interval > 1 else None

    def convert(reader, raw, msgtype, header, store) -> object:
        if msgtype not in IMAGE_TYPES:
            raise ValueError(f"{msgtype} is not an image type")
        rgb = _rgb(reader, raw, msgtype)
        frame = fit(rgb, resize_mode, fast=True)  # as the encoder node fits camera frames
        if stream is not None:  # bags are in time order: temporal mode's best case
            payload = stream.encode(frame, quality=quality, max_bytes=max_bytes)
        else:
            payload = codec.encode(frame, quality=quality, max_bytes=max_bytes)[0]
        return store.types[COMPRESSED](header=header, format=LATENT_FORMAT,
                                       data=np.frombuffer(payload, np.uint8))
    return convert


def _decoder(codec: Codec) -> object:
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
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    if args.output.exists():
        print(f"gan-compress-bag: {args.output} exists; choose a new output", file=sys.stderr)
        return 2
    if not args.input.exists():
        print(f"gan-compress-bag: {args.input} not found", file=sys.stderr)
        return 2
    try:
        codec = Codec.load(args.weights or None)
    except WeightsError as exc:
        print(f"gan-compress-bag: {exc}", file=sys.stderr)
        return 2
    try:
        args.topic = args.topic or _only_topic(args.input, args.mode)
    except ValueError as exc:
        print(f"gan-compress-bag: {exc}", file=sys.stderr)
        return 2
    if args.mode == "compress":
        out_topic, out_type = f"{args.topic.rstrip('/')}/gan", COMPRESSED
        try:
            codec.stream_encoder(args.key_interval).encode(
                np.zeros((64, 64, 3), np.uint8), quality=args.quality,
                max_bytes=args.max_bytes or None)
        except ByteCapError:
            pass  # a blank frame over the cap says nothing about the options
        except (ValueError, WeightsError) as exc:  # options these weights cannot take
            print(f"gan-compress-bag: {exc}", file=sys.stderr)
            return 2
        convert = _frames(codec, args.resize_mode, args.quality, args.max_bytes or None,
                          args.key_interval)
    else:
        base = args.topic[:-4] if args.topic.endswith("/gan") else args.topic
        out_topic, out_type, convert = f"{base}/decoded", IMAGE, _decoder(codec)
    try:
        done, errors = _rewrite(args.input, args.output, args.topic, out_topic, out_type,
                                args.keep, convert)
    except (ValueError, KeyError, *ReaderErrors) as exc:  # type: ignore[misc]
        shutil.rmtree(args.output, ignore_errors=True)
        print(f"gan-compress-bag: {exc}", file=sys.stderr)
        return 2
    before, after = _size(args.input), _size(args.output)
    print(f"{args.mode}: {done} messages on {args.topic} -> {out_topic} ({errors} skipped); "
          f"{args.input}: {before} bytes -> {args.output}: {after} bytes "
          f"({after / max(before, 1):.3f}x)")
    return 0


def _only_topic(path: Path, mode: str) -> str:
    """The bag's one image topic (compress) or latent topic (decompress); ValueError if not one."""
    try:
        with AnyReader([path]) as reader:
            conns = [(c.topic, c.msgtype) for c in reader.connections]  # gone once closed
    except ReaderErrors as exc:
        raise ValueError(f"{path}: not a readable rosbag ({exc})") from None
    if mode == "compress":
        found = sorted({topic for topic, msgtype in conns if msgtype in IMAGE_TYPES
                        and not topic.endswith("/gan")})
        kind = "image"
    else:
        found = sorted({topic for topic, msgtype in conns if msgtype == COMPRESSED
                        and topic.endswith("/gan")})
        kind = "latent (*/gan)"
    if len(found) != 1:
        raise ValueError(f"{path}: {len(found)} {kind} topics ({', '.join(found) or 'none'}); "
                         "choose one with --topic")
    return found[0]


def iter_topic(path: Path, topic: str) -> Iterator[tuple[int, object]]:
    """(timestamp, message) pairs of ``topic`` in a bag (for tests and inspection)."""
    with AnyReader([path]) as reader:
        conns = [c for c in reader.connections if c.topic == topic]
        if not conns:  # an empty selection would mean "every topic" to rosbags
            return
        for conn, stamp, raw in reader.messages(connections=conns):
            yield stamp, reader.deserialize(raw, conn.msgtype)


if __name__ == "__main__":
    sys.exit(main())
