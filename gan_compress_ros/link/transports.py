"""The byte pipes a link frame travels on: a serial port (pyserial) or UDP datagrams."""

from __future__ import annotations

import socket
from typing import Protocol

from ..extras import need

#: Bits on the wire per byte on a serial line: start bit, 8 data bits, stop bit (8N1).
SERIAL_BITS_PER_BYTE = 10
UDP_MAX = 65507
#: The most bytes a serial read takes at once (the rest wait for the next read).
SERIAL_READ_MAX = 4096


class Link(Protocol):
    """A link end: bytes out, chunks of bytes in."""

    #: Whether each chunk ``read`` returns is one whole datagram.
    datagrams: bool

    def write(self, data: bytes) -> None:
        """Send ``data`` (one or more frames)."""

    def read(self, limit: int) -> list[bytes]:
        """What has arrived since the last call, at most ``limit`` chunks (never blocks)."""

    def describe(self) -> str:
        """One line for logs: the port and its rate, or the UDP address."""

    def close(self) -> None:
        """Release the port or socket."""


class SerialLink:
    """A serial port at ``baud``, 8N1, non-blocking."""

    datagrams = False

    def __init__(self, port: str, baud: int) -> None:
        serial = need("serial")
        try:
            self.port = serial.Serial(port, baud, timeout=0, write_timeout=None)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ValueError(f"cannot open serial port {port!r} at {baud} baud: {exc}") \
                from None
        self.bytes_per_s = baud / SERIAL_BITS_PER_BYTE
        self.name, self.baud = port, baud

    def write(self, data: bytes) -> None:
        """Queue ``data`` on the port."""
        self.port.write(data)

    def read(self, limit: int = 1) -> list[bytes]:
        """The bytes waiting on the port (up to SERIAL_READ_MAX)."""
        waiting = min(self.port.in_waiting, SERIAL_READ_MAX)
        return [self.port.read(waiting)] if waiting else []

    def describe(self) -> str:
        """The port and its rate."""
        return f"serial {self.name} at {self.baud} baud"

    def close(self) -> None:
        """Close the port."""
        self.port.close()


def parse_endpoint(text: str) -> tuple[str, int]:
    """``HOST:PORT`` as a (host, port) pair; ValueError naming the problem."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"udp endpoint {text!r}: use HOST:PORT, e.g. 192.168.1.20:5600")
    return host or "0.0.0.0", int(port)


def resolve_peer(host: str) -> str:
    """The IPv4 address of ``host`` (a name or an address); ValueError if it has none."""
    try:
        return socket.gethostbyname(host)
    except OSError as exc:
        raise ValueError(f"peer {host!r}: no such host ({exc})") from None


class UdpLink:
    """UDP: the sender sends each write as one datagram to HOST:PORT; the receiver binds it.

    ``peer``: the receiver takes datagrams from this host only (others are counted in
    ``foreign`` and dropped).
    """

    datagrams = True

    def __init__(self, endpoint: str, receive: bool, peer: str = "") -> None:
        self.address = parse_endpoint(endpoint)
        self.peer = resolve_peer(peer) if peer else ""
        self.foreign = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        if receive:
            try:
                self.sock.bind(self.address)
            except OSError as exc:
                raise ValueError(f"cannot listen on udp {endpoint}: {exc}") from None
        self.bytes_per_s = 0.0  # as fast as the network takes it, unless a rate is set

    def write(self, data: bytes) -> None:
        """One datagram to the receiver (dropped by the network, never by us)."""
        try:
            self.sock.sendto(data, self.address)
        except OSError:  # no route, refused: UDP is best effort
            pass

    def read(self, limit: int = 64) -> list[bytes]:
        """Datagrams waiting on the socket, at most ``limit`` (from the peer, if one is set)."""
        out: list[bytes] = []
        for _ in range(4 * limit):  # foreign datagrams count towards the work too
            if len(out) >= limit:
                break
            try:
                data, source = self.sock.recvfrom(UDP_MAX)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # e.g. an ICMP error queued from an earlier send
                continue
            if self.peer and source[0] != self.peer:
                self.foreign += 1
                continue
            out.append(data)
        return out

    def describe(self) -> str:
        """The UDP address (the receiver's, or the one listened on)."""
        peer = f" (from {self.peer} only)" if self.peer else ""
        return f"udp {self.address[0]}:{self.address[1]}{peer}"

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


def open_link(serial_port: str, baud: int, udp: str, receive: bool,
              peer: str = "") -> SerialLink | UdpLink:
    """The link the parameters name: exactly one of a serial port and a UDP endpoint."""
    if bool(serial_port) == bool(udp):
        raise ValueError("name exactly one link: -p serial_port:=/dev/ttyUSB0 or -p "
                         "udp:=HOST:PORT (the node takes ROS parameters; gan-compress-link "
                         "takes --serial or --udp)")
    if peer and not udp:
        raise ValueError("peer applies to udp only")
    return SerialLink(serial_port, baud) if serial_port else UdpLink(udp, receive, peer)
