"""Authenticated link frames: a shared 32-byte key, a 6-byte tag on every frame, no replays.

The model is MAVLink 2 message signing: a truncated keyed hash on every frame and a stamp
that only increases. Here the stamp is the frame's own (the camera's ROS time, which goes on
increasing across sender restarts), restored to the millisecond and covered by the tag with
the frame_id and payload: a frame from another key, a bit-flipped frame, a frame replayed
from another minute (its 16 stamp bits then stand for another stamp) and a frame relabelled
by a foreign table all fail the tag. The receiver's ``ReplayWindow`` refuses a stamp it has
accepted before, or one older than its newest by more than the reorder window.

The key authenticates; it does not encrypt: anyone on the link still sees the pictures.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from collections import deque
from pathlib import Path

from .framing import KIND_LATENT, TAG_BYTES

KEY_BYTES = 32
_PERSON = b"gclink1"
#: Milliseconds a datagram may arrive behind the newest accepted one (reordering).
REORDER_MS = 5000
#: Stamps remembered inside the window (more are forgotten oldest first, raising the floor).
MAX_REMEMBERED = 4096


def keygen(path: str | Path) -> Path:
    """Write a new random key to ``path`` (mode 0600); ValueError if it exists."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ValueError(f"{path} exists: choose a new path (a key is never overwritten)") \
            from None
    except OSError as exc:
        raise ValueError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(os.urandom(KEY_BYTES))
    os.chmod(path, 0o600)  # whatever the umask
    return path


def load_key(path: str | Path) -> bytes:
    """The key in ``path``; ValueError naming the file and what is wrong."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read link key {path}: {exc.strerror}") from None
    if len(data) != KEY_BYTES:
        raise ValueError(f"link key {path} holds {len(data)} bytes, not {KEY_BYTES}: write "
                         "one with gan-compress-link keygen PATH")
    return data


def key_is_private(path: str | Path) -> bool:
    """Whether only the owner may read the key file."""
    return not os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO)


def tag(key: bytes, header: bytes, kind: int, stamp_ms: int, frame_id: str,
        payload: bytes) -> bytes:
    """The frame's tag: keyed BLAKE2s over header, full stamp, frame_id and payload."""
    h = hashlib.blake2s(key=key, digest_size=TAG_BYTES, person=_PERSON)
    h.update(header)
    if kind == KIND_LATENT:
        h.update(stamp_ms.to_bytes(8, "little"))
        h.update(frame_id.encode()[:255])
        h.update(b"\0")
    h.update(payload)
    return h.digest()


def verify(key: bytes, header: bytes, kind: int, stamp_ms: int, frame_id: str,
           payload: bytes, got: bytes) -> bool:
    """Whether ``got`` is the frame's tag (compared in constant time)."""
    return hmac.compare_digest(tag(key, header, kind, stamp_ms, frame_id, payload), got)


class ReplayWindow:
    """Accepts each (stamp, frame_id) once, and nothing older than newest - ``window_ms``.

    ``strict`` False (a link without a key, where anyone can forge a newer stamp): nothing is
    refused, as before keys existed (a repeated stamp, e.g. a camera that leaves stamps at
    0, still goes through), and one forged frame cannot push a window past the real ones.
    """

    def __init__(self, window_ms: int = REORDER_MS, strict: bool = True) -> None:
        self.window_ms = window_ms
        self.strict = strict
        self.newest: int | None = None
        self.floor = -1
        self._seen: set[tuple[int, str]] = set()
        self._order: deque[tuple[int, str]] = deque()

    def fresh(self, stamp_ms: int, frame_id: str) -> bool:
        """Whether the frame is new (it is not recorded; call ``accept``)."""
        if not self.strict:
            return True
        if stamp_ms <= self.floor:
            return False
        if self.newest is not None and stamp_ms < self.newest - self.window_ms:
            return False
        return (stamp_ms, frame_id) not in self._seen

    def accept(self, stamp_ms: int, frame_id: str) -> None:
        """Record an accepted frame."""
        if not self.strict:
            return
        self._seen.add((stamp_ms, frame_id))
        self._order.append((stamp_ms, frame_id))
        self.newest = stamp_ms if self.newest is None else max(self.newest, stamp_ms)
        low = self.newest - self.window_ms if self.strict else -1
        while self._order and (self._order[0][0] < low or len(self._order) > MAX_REMEMBERED):
            old = self._order.popleft()
            self._seen.discard(old)
            if self.strict and old[0] >= low:  # forgotten for room: nothing below may come
                self.floor = max(self.floor, old[0])
