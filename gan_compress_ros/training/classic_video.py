"""AV1 and HEVC as raw packets: the strongest classic anchors at 64x64 (PyAV).

Each frame is coded as a key frame (intra only, so every frame decodes alone, like ours),
with SVT-AV1 or x265 through PyAV, in YUV 4:2:0. A link that carries these codecs needs the
frame's own data only: the bytes counted per frame are the packet without what is the same
for every frame of a stream (AV1: temporal delimiter and sequence header OBUs; HEVC: VPS,
SPS, PPS, access unit delimiters and SEI, and Annex B start codes), plus the stream's
parameter sets once, spread over all frames. No container (AVIF, MP4) is counted.
"""

from __future__ import annotations

import fractions
from collections.abc import Callable
from typing import Any

import numpy as np

#: Quality settings swept (CRF: higher, fewer bytes).
AV1_CRF = [63, 60, 56, 52, 48, 44, 40, 36, 32, 28, 24]
HEVC_CRF = [51, 48, 45, 42, 39, 36, 33, 30, 27, 24, 21]
_SIZE = 64
# AV1 OBU types: the sequence header (sent once per stream); temporal delimiters and
# padding (not needed to decode a frame).
_AV1_ONCE, _AV1_DROP = {1}, {2, 15}
# HEVC NAL unit types: VPS, SPS, PPS (sent once); AUD and SEI (not needed to decode).
_HEVC_ONCE, _HEVC_DROP = {32, 33, 34}, {35, 39, 40}


def available() -> bool:
    """Whether PyAV with the SVT-AV1 and x265 encoders is installed."""
    try:
        import av
    except ImportError:
        return False
    try:
        for name in ("libsvtav1", "libx265"):
            av.codec.Codec(name, "w")
        for name in ("libdav1d", "hevc"):
            av.codec.Codec(name, "r")
    except Exception:  # noqa: BLE001 - PyAV raises its own types for missing codecs
        return False
    return True


def leb128(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of the unsigned LEB128 number at ``pos`` (AV1 OBU sizes)."""
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def av1_split(packet: bytes) -> tuple[int, int]:
    """(frame bytes, once-per-stream bytes) of an AV1 low-overhead bitstream packet."""
    pos, own, shared = 0, 0, 0
    while pos < len(packet):
        start = pos
        header = packet[pos]
        kind = (header >> 3) & 0xF
        pos += 2 if header & 0x04 else 1  # extension byte
        if not header & 0x02:  # no size field: the OBU runs to the end
            size, pos = len(packet) - pos, pos
        else:
            size, pos = leb128(packet, pos)
        pos += size
        if kind in _AV1_ONCE:
            shared += pos - start
        elif kind not in _AV1_DROP:
            own += pos - start
    return own, shared


def hevc_split(packet: bytes) -> tuple[int, int]:
    """(frame bytes, once-per-stream bytes) of an Annex B HEVC packet, no start codes."""
    data = bytes(packet)
    starts = []
    i = 0
    while True:
        i = data.find(b"\x00\x00\x01", i)
        if i < 0:
            break
        starts.append(i + 3)
        i += 3
    own, shared = 0, 0
    for k, s in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
        if k + 1 < len(starts) and data[end - 1] == 0:  # 4-byte start code of the next
            end -= 1
        kind = (data[s] >> 1) & 0x3F
        if kind in _HEVC_ONCE:
            shared += end - s
        elif kind not in _HEVC_DROP:
            own += end - s
    return own, shared


def _roundtrip(encoder: str, decoder: str, options: dict[str, str],
               split: Callable[[bytes], tuple[int, int]],
               frames: np.ndarray, gop: int = 1) -> tuple[list[float], np.ndarray]:
    import av

    enc: Any = av.codec.CodecContext.create(encoder, "w")  # a video context: PyAV's stubs
    # type create() as the base class
    enc.width = enc.height = _SIZE
    enc.pix_fmt = "yuv420p"
    enc.time_base = fractions.Fraction(1, 10)
    enc.gop_size = gop
    enc.options = options
    enc.open()
    packets = []
    for i, frame in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        vf = vf.reformat(format="yuv420p")
        vf.pts = i
        packets += enc.encode(vf)
    packets += enc.encode(None)
    if len(packets) != len(frames):
        raise RuntimeError(f"{encoder} gave {len(packets)} packets for {len(frames)} frames")
    dec: Any = av.codec.CodecContext.create(decoder, "r")
    recon = []
    own, shared = [], []
    for p in packets:
        data = bytes(p)
        o, s = split(data)
        own.append(o)
        shared.append(s)
        for out in dec.decode(av.Packet(data)):
            recon.append(out.to_ndarray(format="rgb24"))
    for out in dec.decode(None):
        recon.append(out.to_ndarray(format="rgb24"))
    if len(recon) != len(frames):
        raise RuntimeError(f"{decoder} gave {len(recon)} frames for {len(frames)} packets")
    once = max(shared) / len(frames)  # the parameter sets, sent once per stream
    return [o + once for o in own], np.stack(recon)


def av1_intra(frames: np.ndarray, crf: int) -> tuple[list[float], np.ndarray]:
    """Per-frame link bytes and reconstructions of SVT-AV1, every frame a key frame."""
    return _roundtrip("libsvtav1", "libdav1d", {"crf": str(crf), "preset": "4",
                                           "svtav1-params": "keyint=1"}, av1_split, frames)


def hevc_intra(frames: np.ndarray, crf: int) -> tuple[list[float], np.ndarray]:
    """Per-frame link bytes and reconstructions of x265, every frame an IDR frame."""
    return _roundtrip("libx265", "hevc", {"crf": str(crf),
                                          "x265-params": "keyint=1:log-level=0"},
                      hevc_split, frames)


def hevc_low_delay(frames: np.ndarray, crf: int, gop: int = 30) -> tuple[list[float],
                                                                          np.ndarray]:
    """x265 as a video codec: an IDR frame every ``gop``, P frames between, no B frames.

    Low delay, what a live link would use. Every P frame needs every frame since its IDR
    frame: one lost packet breaks the rest of the GOP.
    """
    params = f"keyint={gop}:min-keyint={gop}:bframes=0:scenecut=0:log-level=0"
    return _roundtrip("libx265", "hevc", {"crf": str(crf), "x265-params": params},
                      hevc_split, frames, gop)
