"""Rosbags as users have them: read any of them, write rosbag2 beside them atomically.

rosbags does the file formats. This module covers where its high-level reader and writer
stop on bags that rosbag2 itself wrote: topics without a type hash (every bag before Iron),
types with no definition in the bag (sqlite3 before Iron), service-event definitions its
parser rejects, and QoS in ``metadata.yaml`` that differs from the storage file's (its
reader then yields no messages). Read: rosbag2 metadata versions 4 to 9, sqlite3 and
mcap, a bag folder or a bare ``.db3``/``.mcap`` file, split bags, zstd-compressed bags
(file or message mode); ROS 1 ``.bag`` files through rosbags' AnyReader. Write: rosbag2
version 9 in the input's storage and compression, through a temporary name beside the
destination that is renamed at the end, so that a failure or Ctrl-C leaves nothing.
Never imports rclpy.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .extras import need

_rosbag2 = need("rosbags.rosbag2")
_highlevel = need("rosbags.highlevel")
_typesys = need("rosbags.typesys")
#: What rosbags raises for a file that is not a bag, or a damaged one.
ReaderErrors: tuple[type[Exception], ...] = (
    _highlevel.AnyReaderError, need("rosbags.rosbag1").ReaderError, _rosbag2.ReaderError,
    _rosbag2.WriterError)
BAG_SUFFIXES = {".bag", ".mcap", ".db3"}


class BagError(ValueError):
    """Not a bag, or one this module cannot read; the message says which and why."""


def typestore() -> Any:
    """The ROS 2 type store used to (de)serialize the camera messages (stable since Humble)."""
    return _typesys.get_typestore(_typesys.Stores.ROS2_HUMBLE)


def is_bag(path: Path) -> bool:
    """Whether ``path`` looks like a bag: a rosbag2 folder or a bag file by its suffix."""
    return (path.is_dir() and (path / "metadata.yaml").is_file()) or \
        (path.is_file() and path.suffix.lower() in BAG_SUFFIXES)


@dataclass(frozen=True)
class Topic:
    """One topic of a bag, with what a copy needs to keep it unchanged."""

    name: str
    msgtype: str
    msgdef: str = ""
    digest: str = ""  # RIHS01 type hash; "" in bags recorded before Iron
    serialization_format: str = "cdr"
    qos: list[Any] = field(default_factory=list, compare=False)
    count: int = 0


class BagReader:
    """An open bag: its topics, its messages in time order per file, and deserialization."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.ros1 = self.path.suffix.lower() == ".bag"
        self.store = typestore()
        self._reader: Any = None
        self.storage = "mcap"  # rosbag2 storage plugin of the input
        self.compression: tuple[str, str] | None = None  # (mode, format) of a compressed bag
        self.topics: list[Topic] = []

    def open(self) -> BagReader:
        """Open the bag; BagError (one line) for anything that is not a readable bag."""
        if not self.path.exists():
            raise BagError(f"{self.path}: not found")
        if self.path.is_dir() and not (self.path / "metadata.yaml").is_file():
            what = "an empty folder" if not any(self.path.iterdir()) else \
                "a folder without metadata.yaml"
            raise BagError(f"{self.path}: not a rosbag2 bag ({what})")
        try:
            if self.ros1:
                self._reader = _highlevel.AnyReader([self.path])
                self._reader.open()
                self.topics = [Topic(c.topic, c.msgtype, count=c.msgcount)
                               for c in self._reader.connections]
                self._ros1_conns = {c.id: t for c, t in
                                    zip(self._reader.connections, self.topics, strict=True)}
                return self
            self._reader = _rosbag2.Reader(self.path)
            self._reader.open()
        except ReaderErrors as exc:
            raise BagError(f"{self.path}: not a readable rosbag ({exc})") from None
        except (OSError, KeyError, ValueError, AssertionError) as exc:
            raise BagError(f"{self.path}: not a readable rosbag ({exc or type(exc).__name__})"
                           ) from None
        reader = self._reader
        self.storage = "sqlite3" if self._files()[0].suffix == ".db3" else "mcap"
        if reader.compression_mode:
            self.compression = (reader.compression_mode, reader.compression_format or "zstd")
        for c in reader.connections:
            if any(t.name == c.topic and t.msgtype == c.msgtype for t in self.topics):
                continue  # one topic written by several connections
            self.topics.append(Topic(
                c.topic, c.msgtype, c.msgdef.data, c.digest or "",
                getattr(c.ext, "serialization_format", "cdr"),
                list(getattr(c.ext, "offered_qos_profiles", [])),
                sum(x.msgcount for x in reader.connections
                    if x.topic == c.topic and x.msgtype == c.msgtype)))
        return self

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        storages = getattr(self._reader.storage, "storages", [])
        return [Path(s.path) for s in storages] or sorted(
            p for p in self.path.iterdir() if p.suffix in (".db3", ".mcap"))

    def close(self) -> None:
        """Close the files."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __enter__(self) -> BagReader:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def topic(self, name: str) -> Topic | None:
        """The topic called ``name`` (the first, if types differ), or None."""
        return next((t for t in self.topics if t.name == name), None)

    def messages(self, topics: Collection[str] | None = None) -> Iterator[tuple[Topic, int,
                                                                               bytes]]:
        """(topic, timestamp ns, serialized bytes) of ``topics`` (None: all), file by file.

        A damaged storage file raises BagError (one line), whichever library found it.
        """
        damaged: tuple[type[BaseException], ...] = (*ReaderErrors, OSError, EOFError)
        try:
            yield from self._messages(topics)
        except damaged as exc:
            raise BagError(f"{self.path}: damaged bag ({exc})") from None

    def _messages(self, topics: Collection[str] | None) -> Iterator[tuple[Topic, int, bytes]]:
        if self.ros1:
            conns = [c for c in self._reader.connections
                     if topics is None or c.topic in topics]
            if conns:  # an empty selection would mean "every topic" to rosbags
                for c, stamp, raw in self._reader.messages(connections=conns):
                    yield self._ros1_conns[c.id], stamp, raw
            return
        storage = self._reader.storage
        storages = getattr(storage, "storages", None) or [storage]
        by_key = {(t.name, t.msgtype): t for t in self.topics}
        unzip = need("backports.zstd").decompress if self.compression and \
            self.compression[0] == "message" else None
        for part in storages:
            # matched by name and type, not QoS: rosbag2 plays a bag whose metadata.yaml
            # QoS differs from its storage file's, so this reads it too
            wanted = {c.id: by_key.get((c.topic, c.msgtype), Topic(c.topic, c.msgtype))
                      for c in part.connections if topics is None or c.topic in topics}
            if not wanted:
                continue
            conns = [c for c in part.connections if c.id in wanted]
            for c, stamp, raw in part.messages(conns):
                yield wanted[c.id], stamp, unzip(raw) if unzip else raw

    def deserialize(self, raw: bytes, msgtype: str) -> Any:
        """A message object (rosbags dataclass) from its serialized bytes."""
        if self.ros1:
            return self._reader.deserialize(raw, msgtype)
        return self.store.deserialize_cdr(raw, msgtype)

    def to_ros2(self, raw: bytes, msgtype: str) -> bytes:
        """A ROS 1 message re-serialized as its ROS 2 namesake (headers lose ``seq``)."""
        msg = _ros2_form(self._reader.deserialize(raw, msgtype), msgtype, self.store)
        return bytes(self.store.serialize_cdr(msg, msgtype))

    def knows(self, msgtype: str) -> bool:
        """Whether ROS 2 has ``msgtype`` (what a ROS 1 topic needs to be carried over)."""
        return msgtype in self.store.types


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


def open_bag(path: Path | str) -> BagReader:
    """A BagReader for ``path``, to use in a ``with`` statement."""
    return BagReader(Path(path))


class _NoHash(str):
    """An empty type hash that passes rosbags' ``assert rihs01``.

    Bags before Iron have none, rosbag2 reads ``""`` in every version, and it is stored
    as ``""``.
    """

    __slots__ = ()

    def __bool__(self) -> bool:
        return True


class BagWriter:
    """A rosbag2 (version 9) written under a temporary name and renamed when it closes."""

    def __init__(self, dst: Path, storage: str = "mcap",
                 compression: tuple[str, str] | None = None) -> None:
        self.dst = Path(dst)
        # a folder of its own beside the destination: the bag inside already has the
        # destination's name, which rosbags also gives its storage file
        self.tmp = self.dst.with_name(f".{self.dst.name}.partial-{os.getpid()}")
        plugin = _rosbag2.StoragePlugin.SQLITE3 if storage == "sqlite3" else \
            _rosbag2.StoragePlugin.MCAP
        self.store = typestore()
        self._writer = _rosbag2.Writer(self.tmp / self.dst.name, version=9,
                                       storage_plugin=plugin)
        if compression:
            mode = {"file": _rosbag2.CompressionMode.FILE,
                    "message": _rosbag2.CompressionMode.MESSAGE}[compression[0]]
            self._writer.set_compression(mode, _rosbag2.CompressionFormat.ZSTD)

    def __enter__(self) -> BagWriter:
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        try:
            self._writer.open()
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            self._writer.__exit__(exc_type, *rest)  # closes, or aborts on an exception
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        try:
            os.rename(self.tmp / self.dst.name, self.dst)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def copy_topic(self, topic: Topic, name: str | None = None) -> Any:
        """A connection that keeps ``topic``'s type, definition, hash, format and QoS."""
        msgdef = topic.msgdef
        if not msgdef and topic.msgtype in self.store.types:  # sqlite3 before Iron: none
            msgdef = self.store.generate_msgdef(topic.msgtype, ros_version=2)[0]
        conn = self._writer.add_connection(
            name or topic.name, topic.msgtype, msgdef=msgdef,
            rihs01=topic.digest or _NoHash(""),
            serialization_format=topic.serialization_format,
            offered_qos_profiles=topic.qos)
        if not topic.digest:  # the storage stored ""; keep the metadata plain too
            conns = self._writer.connections
            conns[conns.index(conn)] = conn = conn._replace(digest="")
        return conn

    def add_topic(self, name: str, msgtype: str, qos: list[Any] | None = None) -> Any:
        """A connection for a new topic of a ROS 2 type (definition and hash generated)."""
        return self._writer.add_connection(name, msgtype, typestore=self.store,
                                           offered_qos_profiles=qos or [])

    def write(self, conn: Any, stamp: int, raw: bytes | memoryview) -> None:
        """Append one serialized message."""
        self._writer.write(conn, stamp, raw)

    def serialize(self, msg: Any, msgtype: str) -> bytes:
        """CDR bytes of a message built with :attr:`store`."""
        return bytes(self.store.serialize_cdr(msg, msgtype))


def size_of(path: Path) -> int:
    """Bytes of a bag file or folder."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() \
        else path.stat().st_size
