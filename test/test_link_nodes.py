"""The link bridge end to end, as processes over real DDS, serial (pty pair) and UDP.

encoder -> link_send -> a damaged, rate-limited byte stream -> link_receive -> decoder; with
a key, forged, replayed and bit-flipped frames from another process on this machine (UDP to
127.0.0.1, bytes injected into the pty line) are refused; the sender keeps the encoder's
budget. No traffic leaves the machine.
"""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
from rcl_interfaces.msg import SetParametersResult
from sensor_msgs.msg import CompressedImage, Image
from testkit.files import SAMPLE, read_photos
from testkit.ros import (
    DiagnosticsWatch,
    image_msg,
    spin_until,
    start_node,
    stop_node,
    wait_exit,
)

from gan_compress_ros.codec import Codec
from gan_compress_ros.image import fit
from gan_compress_ros.link.auth import load_key
from gan_compress_ros.link.framing import (
    KIND_LATENT,
    Framer,
    Table,
    pack_header,
    parse_header,
)
from gan_compress_ros.link.simulate import SerialRelay, UdpRelay
from gan_compress_ros.nodes.convert import stamp_ns

pytest.importorskip("serial", reason="pyserial (the link extra)")


def _run_pipeline(ros, send_args: list[str], receive_args: list[str], seconds: float,
                  ns: str) -> tuple[list[int], list[Image], dict, list[str]]:
    """Stream the demo clip at 10 fps through encoder, link and decoder; what came out."""
    frames = read_photos(SAMPLE)
    robot, base = f"/{ns}_robot", f"/{ns}_base"
    procs = [start_node("encoder_node", "-r", f"__ns:={robot}"),
             start_node("link_send", "-r", f"__ns:={robot}", *send_args,
                        "-p", f"encoder:={robot}/encoder", "-p", "diagnostics_period:=1.0"),
             start_node("link_receive", "-r", f"__ns:={base}", *receive_args,
                        "-p", "diagnostics_period:=1.0"),
             start_node("decoder_node", "-r", f"__ns:={base}", "-p", "diagnostics_period:=1.0")]
    decoded: list[Image] = []
    sub = ros.create_subscription(Image, f"{base}/image_decoded", decoded.append, 50)
    pub = ros.create_publisher(Image, f"{robot}/image_raw", 10)
    watch = DiagnosticsWatch(ros)
    sent: list[int] = []
    try:
        assert spin_until(ros, lambda: pub.get_subscription_count() > 0, 60.0)
        spin_until(ros, lambda: False, 3.0)  # the sender hands its budget to the encoder
        start = time.monotonic()
        i = 0
        while time.monotonic() - start < seconds:
            stamp = 1_800_000_000 * 10**9 + i * 100_000_000 + 123_456  # sub-ms part dropped
            pub.publish(image_msg(frames[i % len(frames)], stamp, frame_id="cam_front"))
            sent.append(stamp)
            i += 1
            spin_until(ros, lambda: False, max(0.0, start + i * 0.1 - time.monotonic()))
        spin_until(ros, lambda: False, 4.0)
        stats = {name: dict(values) for name, values in watch.latest.items()}
    finally:
        watch.close()
        ros.destroy_subscription(sub)
        ros.destroy_publisher(pub)
        logs = []
        for proc in procs:
            code, log = stop_node(proc)
            logs.append(log)
            assert code == 0, log
    return sent, decoded, stats, logs


def test_serial_link_at_9600_baud_with_bit_errors(ros) -> None:
    relay = SerialRelay(9600, 1e-4)
    try:
        sent, decoded, stats, logs = _run_pipeline(
            ros, ["-p", f"serial_port:={relay.sender_port}", "-p", "baud:=9600"],
            ["-p", f"serial_port:={relay.receiver_port}", "-p", "baud:=9600"], 12.0, "ser")
    finally:
        relay.close()
    stamps = {s - s % 1_000_000 for s in sent}
    got = [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in decoded]
    assert got and set(got) <= stamps  # stamps restored (to the millisecond)
    assert all(m.header.frame_id == "cam_front" for m in decoded)
    assert len(got) / 12.0 >= 3.0, len(got)  # 9600 baud carries several frames a second
    receiver = stats["gan_compress link_receive"]
    decoder = stats["gan_compress decoder"]
    assert int(decoder["errors"]) == 0  # nothing damaged was published
    assert relay.flipped == 0 or float(receiver["crc_errors"]) + float(
        receiver["skipped_bytes"]) > 0
    assert "max_bitrate 7680 bit/s with 8 bytes of framing per frame (the encoder accepted)" \
        in logs[1]


def test_udp_link_with_loss_and_reordering(ros) -> None:
    relay = UdpRelay(0.1)
    try:
        sent, decoded, stats, logs = _run_pipeline(
            ros, ["-p", f"udp:=127.0.0.1:{relay.in_port}", "-p", "rate_bytes_per_s:=4000"],
            ["-p", f"udp:=127.0.0.1:{relay.out_port}"], 10.0, "udp")
    finally:
        relay.close()
    stamps = {s - s % 1_000_000 for s in sent}
    got = [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in decoded]
    assert set(got) <= stamps
    assert relay.dropped > 0
    assert len(got) >= 0.6 * len(sent), (len(got), len(sent))  # ~10% lost, the rest arrive
    assert int(stats["gan_compress decoder"]["errors"]) == 0
    assert np.all(np.diff(sorted(got)) > 0)  # each frame once
    receiver = stats["gan_compress link_receive"]
    # every byte that crossed the link belonged to a frame: nothing else (no DDS) is on it
    assert float(receiver["skipped_bytes"]) == 0 and float(receiver["crc_errors"]) == 0


# -- authenticated frames, forgery, replay, garbage --------------------------------------

KEYGEN = [sys.executable, "-m", "gan_compress_ros.tools.link", "keygen"]


def _link_pair(robot: str, base_ns: str, send: str, receive: str,
               key: Path | None = None) -> list:
    """A link_send in ``robot`` and a link_receive in ``base_ns``, keyed when ``key`` is given.

    ``send`` and ``receive`` are their endpoint parameters (``udp:=...``, ``serial_port:=...``).
    """
    keyed = ["-p", f"key_file:={key}"] if key else []
    return [start_node("link_send", "-r", f"__ns:={robot}", "-p", send, *keyed),
            start_node("link_receive", "-r", f"__ns:={base_ns}", "-p", receive, *keyed,
                       "-p", "diagnostics_period:=0.5")]


def _keygen(path: Path) -> Path:
    out = subprocess.run([*KEYGEN, str(path)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.stat().st_size == 32
    return path


def _free_port() -> int:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


class _Recorder:
    """Datagrams from link_send to link_receive through the test, each one recorded."""

    def __init__(self, to_port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port, self.to = self.sock.getsockname()[1], ("127.0.0.1", to_port)
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.datagrams: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                continue
            self.datagrams.append(data)
            self.out.sendto(data, self.to)

    def send(self, data: bytes) -> None:
        """A datagram from the test (another sender on the same machine)."""
        self.out.sendto(data, self.to)

    def close(self) -> None:
        """Stop forwarding."""
        self.stop.set()
        self.thread.join(2)
        self.sock.close()
        self.out.close()


class _Base:
    """The test's ends: latents into link_send, latents and /diagnostics out of link_receive."""

    def __init__(self, ros, robot: str, base: str) -> None:
        from diagnostic_msgs.msg import DiagnosticArray

        self.ros = ros
        self.got: list[CompressedImage] = []
        self.levels: dict[str, list[int]] = {}
        self.values: dict[str, dict[str, str]] = {}
        self.pub = ros.create_publisher(CompressedImage, f"{robot}/image_raw/gan", 10)
        self.subs = [ros.create_subscription(CompressedImage, f"{base}/image_raw/gan",
                                             self.got.append, 100),
                     ros.create_subscription(DiagnosticArray, "/diagnostics", self._diag, 50)]
        crops = np.stack([fit(f) for f in read_photos(SAMPLE)[:10]])
        self.payloads = [bytes(p) for p in Codec.load().encode(crops)]

    def _diag(self, msg) -> None:
        for s in msg.status:
            self.levels.setdefault(s.hardware_id, []).append(int.from_bytes(s.level, "little")
                                                             if isinstance(s.level, bytes)
                                                             else int(s.level))
            self.values[s.hardware_id] = {kv.key: kv.value for kv in s.values}

    def send(self, i: int, frame_id: str = "cam_front") -> int:
        """Publish latent ``i``; its stamp (whole milliseconds)."""
        stamp = 1_800_000_000 * 10**9 + i * 100_000_000
        msg = CompressedImage(format="gan_compress", data=self.payloads[i % len(self.payloads)])
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 10**9)
        msg.header.frame_id = frame_id
        self.pub.publish(msg)
        return stamp

    def stamps(self) -> list[int]:
        """Stamps of what came out, in order."""
        return [stamp_ns(m) for m in self.got]

    def close(self) -> None:
        """Remove the endpoints."""
        for sub in self.subs:
            self.ros.destroy_subscription(sub)
        self.ros.destroy_publisher(self.pub)


def _stream(ros, base: _Base, first: int, count: int, period: float = 0.1) -> list[int]:
    sent = []
    for i in range(first, first + count):
        sent.append(base.send(i))
        spin_until(ros, lambda: False, period)
    return sent


def _up(ros, base: _Base) -> int:
    """Send until the link carries a frame (discovery); the next free index."""
    i = 0
    while not base.got:
        assert i < 300, "nothing came across the link"
        base.send(i)
        spin_until(ros, lambda: bool(base.got), 0.2)
        i += 1
    return i


def _shut(procs: list, *probes) -> list[tuple[int, str]]:
    """Close this process's probes and relays, then stop the nodes: (exit code, log) each."""
    for probe in probes:
        probe.close()
    return [stop_node(p) for p in procs]


def _clean(logs: list[tuple[int, str]]) -> list[str]:
    """The logs, once every node has exited cleanly."""
    for code, log in logs:
        assert code == 0 and "Traceback" not in log, log
    return [log for _, log in logs]


def test_keyed_udp_refuses_foreign_replayed_and_flipped_datagrams(ros, tmp_path) -> None:
    key, other = _keygen(tmp_path / "link.key"), _keygen(tmp_path / "other.key")
    listen = _free_port()
    recorder = _Recorder(listen)
    robot, base_ns = "/kudp_robot", "/kudp_base"
    procs = _link_pair(robot, base_ns, f"udp:=127.0.0.1:{recorder.port}",
                       f"udp:=127.0.0.1:{listen}", key)
    base = _Base(ros, robot, base_ns)
    try:
        first = _up(ros, base)
        spin_until(ros, lambda: False, 1.0)  # the warm-up's last frames arrive first
        base.got.clear()
        sent = _stream(ros, base, first, 20)
        assert spin_until(ros, lambda: len(base.got) >= 20, 10.0)
        assert base.stamps() == sent  # intact, with their stamps, in order
        assert all(m.header.frame_id == "cam_front" for m in base.got)
        assert [bytes(m.data) for m in base.got] == [base.payloads[i % 10]
                                                     for i in range(first, first + 20)]
        sizes = {len(d) - len(p) for d in recorder.datagrams[-20:] for p in base.payloads
                 if len(d) - len(p) in range(0, 17)}
        assert 12 in sizes  # 12 bytes of framing and tag per frame, at most 16
        assert procs[1].poll() is None and procs[0].poll() is None

        rng = np.random.default_rng(0)
        captured = list(recorder.datagrams)
        foreign = Framer(key=load_key(other))
        forged_plain = Framer()
        n_before = len(base.got)
        replays = 0
        for j in range(40):  # another key, no key, replays, bit flips
            stamp = 1_800_000_000 * 10**9 + (first + 20 + j) * 100_000_000
            for frame in foreign.frames(base.payloads[0], stamp, "cam_front"):
                recorder.send(frame)
            for frame in forged_plain.frames(base.payloads[1], stamp, "cam_front"):
                recorder.send(frame)
            old = captured[int(rng.integers(len(captured)))]
            replays += parse_header(old).kind == KIND_LATENT  # tables are let through
            for _ in range(25):
                recorder.send(old)
            flipped = bytearray(old)
            bit = int(rng.integers(len(old) * 8))
            flipped[bit // 8] ^= 1 << (bit % 8)
            recorder.send(bytes(flipped))
            spin_until(ros, lambda: False, 0.02)
        spin_until(ros, lambda: False, 2.0)
        assert len(base.got) == n_before, base.stamps()[n_before:]  # 0 published
        values = base.values[f"{base_ns}/link_receive"]
        assert int(float(values["auth_failed"])) >= 80
        assert int(float(values["replayed"])) == 25 * replays
        assert 1 in base.levels[f"{base_ns}/link_receive"][-3:]  # WARN

        more = _stream(ros, base, first + 100, 10)  # and the real frames still come through
        assert spin_until(ros, lambda: len(base.got) >= n_before + 10, 10.0)
        assert base.stamps()[n_before:] == more
    finally:
        logs = _shut(procs, base, recorder)
    for log in _clean(logs):
        assert "not authenticated" not in log


def test_keyed_serial_resyncs_after_garbage_and_refuses_forgeries(ros, tmp_path) -> None:
    key = _keygen(tmp_path / "link.key")
    relay = SerialRelay(9600, 0.0)
    robot, base_ns = "/kser_robot", "/kser_base"
    procs = _link_pair(robot, base_ns, f"serial_port:={relay.sender_port}",
                       f"serial_port:={relay.receiver_port}", key)
    base = _Base(ros, robot, base_ns)
    arrivals: dict[int, float] = {}
    base.subs.append(ros.create_subscription(
        CompressedImage, f"{base_ns}/image_raw/gan",
        lambda m: arrivals.setdefault(stamp_ns(m), time.monotonic()), 100))
    try:
        i = _up(ros, base)
        other = Framer(key=bytes(32))
        long_header = pack_header(True, 0, 0, 0, 4095)  # right CRC-8, a 4 KB frame
        delays, sent, wire = [], [], 0
        for _ in range(3):
            sent += _stream(ros, base, i, 10, 0.2)
            i += 10
            replay = bytes(relay.recorded[-600:])
            injected = time.monotonic()
            forged = b"".join(other.frames(base.payloads[0], sent[-1] + 10**6, "x"))
            junk = b"\xa5\x5a\xff\x0f\x00\x00" + long_header + forged + replay
            relay.inject(junk)
            wire = max(wire, len(junk) + len(forged))  # the junk, then one frame's bytes
            after = _stream(ros, base, i, 10, 0.2)
            sent += after
            i += 10
            assert spin_until(ros, lambda a=after: any(s in arrivals for s in a), 5.0)
            delays.append(min(arrivals[s] for s in after if s in arrivals) - injected)
        spin_until(ros, lambda: False, 2.0)
        got = base.stamps()
        assert len(got) == len(set(got))  # the replayed bytes published nothing twice
        assert set(got) - set(sent) <= {s for s in got if s < sent[0]}  # nothing forged
        assert len([s for s in got if s in set(sent)]) >= 0.8 * len(sent), (len(got), delays)
        print(f"serial resync after garbage, s: {', '.join(f'{d:.2f}' for d in delays)}")
        # Back in sync once the junk and the next frame have crossed the 9600-baud wire
        # (10 bits a byte), plus half a second: a fixed 1 s failed once 184a's frames grew.
        assert max(delays) <= wire * 10 / 9600 + 0.5, (delays, wire)
        values = base.values[f"{base_ns}/link_receive"]
        assert int(float(values["replayed"])) + int(float(values["auth_failed"])) > 0
    finally:
        logs = _shut(procs, base)
        relay.close()  # the pty pair outlives the nodes that hold it open
    _clean(logs)


def test_unkeyed_link_survives_a_forged_far_future_table(ros) -> None:
    listen = _free_port()
    robot, base_ns = "/fwd_robot", "/fwd_base"
    recorder = _Recorder(listen)
    procs = _link_pair(robot, base_ns, f"udp:=127.0.0.1:{recorder.port}",
                       f"udp:=127.0.0.1:{listen}")
    base = _Base(ros, robot, base_ns)
    try:
        first = _up(ros, base)
        forged = Framer()
        forged.table = Table(reference_ns=(2**31 - 1) * 10**9, frame_ids=["attacker_frame"])
        recorder.send(forged.table_frame())
        spin_until(ros, lambda: False, 0.3)
        n = len(base.got)
        sent = _stream(ros, base, first + 10, 20)
        assert spin_until(ros, lambda: len(base.got) >= n + 20, 10.0)
        assert base.stamps()[n:] == sent  # their own stamps, not 2038's or 1901's
        assert {m.header.frame_id for m in base.got[n:]} == {"cam_front"}
        values = base.values[f"{base_ns}/link_receive"]
        assert int(float(values["tables_rejected"])) == 1
    finally:
        logs = _shut(procs, base, recorder)
    for log in _clean(logs):
        assert log.count("not authenticated") == 1  # warned once, at start


def test_link_nodes_refuse_bad_start_parameters(tmp_path) -> None:
    bad_key = tmp_path / "short.key"
    bad_key.write_bytes(b"12345")
    listen = ["-p", f"udp:=127.0.0.1:{_free_port()}"]
    cases = [
        ("link_send", ["--udp", "127.0.0.1:9999"], "-p udp:=VALUE"),
        ("link_receive", [*listen, "-p", f"key_file:={bad_key}"], "holds 5 bytes, not 32"),
        ("link_receive", [*listen, "-p", f"key_file:={tmp_path}/none"],
         "cannot read link key"),
        ("link_send", ["-p", "udp:=127.0.0.1:9", "-p", "encoder:=/encoder"],
         "no link rate to hand over"),
    ]
    for exe, args, text in cases:
        if args[0] == "--udp":  # a user who types the command line's flag at the node
            proc = subprocess.run([sys.executable, "-m", f"gan_compress_ros.nodes.{exe}",
                                   *args], capture_output=True, text=True, timeout=60)
            code, log = proc.returncode, proc.stdout + proc.stderr
            assert code == 2 and text in log and log.count("\n") == 1, (exe, args, log)
            continue
        code, log = wait_exit(start_node(exe, *args), 60)
        assert code == 1 and text in log and "Traceback" not in log, (exe, args, log)
    cli = subprocess.run([sys.executable, "-m", "gan_compress_ros.tools.link", "send",
                          "--udp", "127.0.0.1:9", "--encoder", "/encoder"],
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 2 and "--encoder needs --rate on udp" in cli.stderr
    for args, text in ((["receive", "--udp", "127.0.0.1:9", "--key", str(bad_key)],
                        "holds 5 bytes"),
                       (["send", "--udp", "nowhere", "--key", str(bad_key)], "holds 5 bytes"),
                       (["send", "--udp", "127.0.0.1:99999"], "use HOST:PORT"),
                       (["receive", "--serial", "/dev/null", "--peer", "x"], "--peer applies")):
        cli = subprocess.run([sys.executable, "-m", "gan_compress_ros.tools.link", *args],
                             capture_output=True, text=True, timeout=60)
        assert cli.returncode == 2 and text in cli.stderr, (args, cli.stderr)
        assert len(cli.stderr.strip().splitlines()) <= 2 and "Traceback" not in cli.stderr
    again = subprocess.run([*KEYGEN, str(bad_key)], capture_output=True, text=True)
    assert again.returncode == 2 and "exists" in again.stderr and bad_key.read_bytes() == b"12345"


def _spin_all(nodes, condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for node in nodes:
            rclpy.spin_once(node, timeout_sec=0.02)
        if condition():
            return True
    return False


def _fake_encoder(name: str, refuse: str = ""):
    """A node with the encoder's budget parameters (refusing every change if ``refuse``)."""
    node = rclpy.create_node(name, namespace="/budget")
    node.declare_parameter("max_bitrate", 0)
    node.declare_parameter("max_bitrate_overhead", -1)
    node.add_on_set_parameters_callback(
        lambda params: SetParametersResult(successful=not refuse, reason=refuse))
    return node


def test_link_send_confirms_and_keeps_the_encoders_budget(ros) -> None:
    common = ["-p", "udp:=127.0.0.1:9", "-p", "rate_bytes_per_s:=500", "-r", "__ns:=/budget"]
    sender = start_node("link_send", *common, "-p", "encoder:=/budget/enc")
    refused = start_node("link_send", *common, "-r", "__node:=send_refused",
                         "-p", "encoder:=/budget/stubborn")
    absent = start_node("link_send", *common, "-r", "__node:=send_absent",
                        "-p", "encoder:=/budget/nobody")
    enc, stubborn = _fake_encoder("enc"), _fake_encoder("stubborn", "not today")
    nodes = [ros, enc, stubborn]
    try:
        value = lambda n: n.get_parameter("max_bitrate").value  # noqa: E731
        assert _spin_all(nodes, lambda: value(enc) == 4000, 30.0)
        assert enc.get_parameter("max_bitrate_overhead").value == 8
        assert _spin_all(nodes, lambda: "(the encoder accepted)" in sender.log, 10.0)
        assert _spin_all(nodes, lambda: "refused max_bitrate 4000 bit/s: not today"
                         in refused.log, 30.0), refused.log
        assert "accepted" not in refused.log and value(stubborn) == 0
        assert _spin_all(nodes, lambda: "no encoder /budget/nobody answers" in absent.log,
                         30.0), absent.log
        enc.destroy_node()  # the encoder restarts, with its defaults
        assert _spin_all([ros, stubborn], lambda: "went away" in sender.log, 30.0), sender.log
        enc = _fake_encoder("enc")
        nodes = [ros, enc, stubborn]
        assert _spin_all(nodes, lambda: value(enc) == 4000, 30.0), sender.log
        # the sender logs when the encoder's reply arrives, a little after the value is set
        assert _spin_all(nodes, lambda: sender.log.count("(the encoder accepted)") == 2,
                         10.0), sender.log
    finally:
        enc.destroy_node()
        stubborn.destroy_node()
        logs = [stop_node(p) for p in (sender, refused, absent)]
    for code, log in logs:
        assert code == 0 and "Traceback" not in log, log


def test_udp_peer_takes_one_host_only() -> None:
    from gan_compress_ros.link.transports import UdpLink

    port = _free_port()
    link = UdpLink(f"127.0.0.1:{port}", receive=True, peer="127.0.0.2")
    senders = {}
    for host in ("127.0.0.1", "127.0.0.2"):  # both loopback addresses
        senders[host] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        senders[host].bind((host, 0))
    try:
        senders["127.0.0.1"].sendto(b"from elsewhere", ("127.0.0.1", port))
        senders["127.0.0.2"].sendto(b"from the peer", ("127.0.0.1", port))
        got: list[bytes] = []
        end = time.monotonic() + 5
        while not got and time.monotonic() < end:
            got += link.read(16)
            time.sleep(0.01)
        assert got == [b"from the peer"] and link.foreign == 1
    finally:
        link.close()
        for s in senders.values():
            s.close()


def test_link_status_warns_on_refusals_and_errors_on_silence() -> None:
    from diagnostic_msgs.msg import DiagnosticStatus

    from gan_compress_ros.nodes.link_common import SILENT_ERROR_S, WARN_WINDOW_S, LinkNodeStats

    counts = {"auth_failed": 0.0}
    stats = LinkNodeStats("link", lambda: dict(counts), receiver=True)
    t0 = stats._start
    assert stats.level(stats.snapshot(), t0 + 1)[0] == DiagnosticStatus.OK
    counts["auth_failed"] = 3.0
    level, text = stats.level(stats.snapshot(), t0 + 2)
    assert level == DiagnosticStatus.WARN and "auth_failed +3" in text
    assert stats.level(stats.snapshot(), t0 + 3 + WARN_WINDOW_S)[0] == DiagnosticStatus.OK
    stats.bytes_in_t = t0 + SILENT_ERROR_S + 5  # bytes, and never a valid frame
    level, text = stats.level(stats.snapshot(), t0 + SILENT_ERROR_S + 5)
    assert level == DiagnosticStatus.ERROR and "no valid frame" in text
    stats.frame_t = t0 + SILENT_ERROR_S + 6
    assert stats.level(stats.snapshot(), t0 + SILENT_ERROR_S + 7)[0] == DiagnosticStatus.OK
    assert "duplicates" not in stats.summary() and "out of order" not in stats.summary()


def test_encoder_meets_a_40_byte_cap_on_every_frame(ros) -> None:
    """A link's small packets: the encoder publishes every frame within the cap, none skipped."""
    photos = read_photos(SAMPLE)[:12]
    proc = start_node("encoder_node", "-r", "__ns:=/cap40", "-p", "max_bytes_per_frame:=40",
                      "-p", "diagnostics_period:=0.5", "-p", "input_reliability:=reliable")
    got: list[CompressedImage] = []
    sub = ros.create_subscription(CompressedImage, "/cap40/image_raw/gan", got.append, 50)
    pub = ros.create_publisher(Image, "/cap40/image_raw", 50)
    watch = DiagnosticsWatch(ros)
    try:
        assert spin_until(ros, lambda: pub.get_subscription_count() > 0, 60.0)
        spin_until(ros, lambda: False, 1.0)
        for i, photo in enumerate(photos):
            pub.publish(image_msg(photo, 10**9 * (i + 1)))
            assert spin_until(ros, lambda n=i: len(got) > n, 20.0), (i, watch.latest)
        assert [stamp_ns(m) for m in got] == [10**9 * (i + 1) for i in range(len(photos))]
        assert max(len(m.data) for m in got) <= 40
        assert watch.wait("gan_compress encoder", {"errors": 0, "frames": len(photos)})
    finally:
        ros.destroy_subscription(sub)
        ros.destroy_publisher(pub)
        watch.close()
        code, log = stop_node(proc)
    assert code == 0 and "Traceback" not in log, log
