"""AV1 all-intra through libaom (the system ffmpeg): the strongest classic anchor at 64x64.

PyAV's wheels carry SVT-AV1 but not libaom, whose all-intra mode (``-usage allintra``) codes
small frames in fewer bytes. So the frames of one setting go through one ``ffmpeg`` call as
an intra-only stream of raw OBUs (``-f obu``), in YUV 4:2:0, and come back through ffmpeg's
AV1 decoder. Bytes are counted as for the SVT-AV1 anchor (``classic_video.av1_split``): a
frame's own OBUs, its temporal delimiter dropped, the sequence header once per stream spread
over all frames. Every frame is checked to be a shown key frame, so each one decodes alone.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

import numpy as np

from .classic_video import av1_split, leb128

#: CRF settings swept (higher: fewer bytes); about 40 to 900 bytes per 64x64 frame.
AOM_CRF = [63, 58, 53, 48, 44, 40, 36, 32, 28, 24, 20, 16]
#: libaom's speed setting: 2 is slow and close to its best at this size.
CPU_USED = 2
_SIZE = 64
_OBU_TEMPORAL_DELIMITER, _OBU_SEQUENCE_HEADER = 2, 1
_OBU_FRAME_HEADER, _OBU_FRAME = 3, 6


@functools.lru_cache(maxsize=1)
def missing() -> str:
    """Why the libaom anchor cannot run here, or "" when ffmpeg has libaom and an AV1 decoder."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return "ffmpeg is not installed (apt-get install ffmpeg)"
    try:
        encoders = _run([ffmpeg, "-hide_banner", "-encoders"], b"").decode(errors="replace")
        decoders = _run([ffmpeg, "-hide_banner", "-decoders"], b"").decode(errors="replace")
    except RuntimeError as exc:
        return f"ffmpeg does not run: {exc}"
    if " libaom-av1 " not in encoders:
        return f"{ffmpeg} has no libaom-av1 encoder"
    if not any(f" {name} " in decoders for name in ("libdav1d", "libaom-av1", "av1")):
        return f"{ffmpeg} has no AV1 decoder"
    return ""


def _run(cmd: list[str], data: bytes) -> bytes:
    try:
        done = subprocess.run(cmd, input=data, capture_output=True, check=False)
    except OSError as exc:
        raise RuntimeError(f"{cmd[0]}: {exc}") from exc
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{' '.join(cmd[:3])}... exited {done.returncode}: {tail[0]}")
    return done.stdout


def _obus(stream: bytes) -> list[tuple[int, bytes]]:
    """(type, whole OBU) of each OBU in a low-overhead bitstream."""
    out, pos = [], 0
    while pos < len(stream):
        start, header = pos, stream[pos]
        pos += 2 if header & 0x04 else 1  # extension byte
        if not header & 0x02:
            raise ValueError("an OBU without a size field in a low-overhead bitstream")
        size, pos = leb128(stream, pos)
        pos += size
        if pos > len(stream):
            raise ValueError("truncated OBU")
        out.append(((header >> 3) & 0xF, stream[start:pos]))
    return out


def temporal_units(stream: bytes) -> list[bytes]:
    """An OBU stream split into temporal units (one per frame), each led by its delimiter."""
    units: list[bytes] = []
    for kind, obu in _obus(stream):
        if kind == _OBU_TEMPORAL_DELIMITER or not units:
            units.append(b"")
        units[-1] += obu
    return units


def _payload(obu: bytes) -> bytes:
    pos = 2 if obu[0] & 0x04 else 1
    _, pos = leb128(obu, pos)
    return obu[pos:]


def is_key_frame(unit: bytes, reduced_still_picture: bool = False) -> bool:
    """Whether a temporal unit holds one shown key frame (which decodes without any other)."""
    headers = [_payload(obu) for kind, obu in _obus(unit)
               if kind in (_OBU_FRAME_HEADER, _OBU_FRAME)]
    if len(headers) != 1:
        return False
    if reduced_still_picture:  # the header is implied: a shown key frame
        return True
    bits = headers[0][0]
    show_existing, frame_type, show_frame = bits >> 7, (bits >> 5) & 0x3, (bits >> 4) & 0x1
    return show_existing == 0 and frame_type == 0 and show_frame == 1


def _reduced_still_picture(unit: bytes) -> bool:
    for kind, obu in _obus(unit):
        if kind == _OBU_SEQUENCE_HEADER:
            return bool((_payload(obu)[0] >> 3) & 0x1)  # seq_profile(3) still_picture(1) rsph(1)
    raise ValueError("no sequence header before the first frame")


def encode(frames: np.ndarray, crf: int) -> bytes:
    """``frames`` (N,64,64,3) uint8 RGB as one all-intra libaom stream of raw OBUs."""
    return _run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "rawvideo",
                 "-pix_fmt", "rgb24", "-s", f"{_SIZE}x{_SIZE}", "-i", "-",
                 "-pix_fmt", "yuv420p", "-c:v", "libaom-av1", "-usage", "allintra",
                 "-cpu-used", str(CPU_USED), "-crf", str(crf), "-b:v", "0", "-threads", "1",
                 "-f", "obu", "-"], np.ascontiguousarray(frames, np.uint8).tobytes())


def decode(stream: bytes) -> np.ndarray:
    """An AV1 OBU stream back to (N,64,64,3) uint8 RGB through ffmpeg."""
    raw = _run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "obu", "-i", "-",
                "-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], stream)
    return np.frombuffer(raw, np.uint8).reshape(-1, _SIZE, _SIZE, 3).copy()


def aom_intra(frames: np.ndarray, crf: int) -> tuple[list[float], np.ndarray]:
    """Per-frame link bytes and reconstructions of libaom all-intra at ``crf``.

    Raises ``RuntimeError`` if ffmpeg fails, or a frame is not a key frame or does not come
    back.
    """
    stream = encode(frames, crf)
    units = temporal_units(stream)
    if len(units) != len(frames):
        raise RuntimeError(f"libaom gave {len(units)} frames for {len(frames)}")
    reduced = _reduced_still_picture(units[0])
    own, shared = [], []
    for i, unit in enumerate(units):
        if not is_key_frame(unit, reduced):
            raise RuntimeError(f"libaom frame {i} at crf {crf} is not a shown key frame")
        o, s = av1_split(unit)
        own.append(o)
        shared.append(s)
    recon = decode(stream)
    if len(recon) != len(frames):
        raise RuntimeError(f"ffmpeg decoded {len(recon)} frames of {len(frames)}")
    once = max(shared) / len(frames)  # the sequence header, sent once per stream
    return [o + once for o in own], recon
