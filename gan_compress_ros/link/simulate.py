"""Simulated links for tests and benchmarks: a serial line (two pty pairs) and a UDP path.

``SerialRelay`` carries bytes from the sender's pseudo-terminal to the receiver's at a baud
rate, flipping bits at a given rate; ``UdpRelay`` forwards datagrams between two local
ports, dropping and reordering some. Both count what they did.
"""

from __future__ import annotations

import os
import random
import select
import socket
import threading
import time


class SerialRelay:
    """Two pty pairs and a thread carrying bytes between them at ``baud`` with bit errors."""

    def __init__(self, baud: int, bit_error_rate: float, seed: int = 0) -> None:
        self.a_master, a_slave = os.openpty()
        self.b_master, b_slave = os.openpty()
        self.sender_port, self.receiver_port = os.ttyname(a_slave), os.ttyname(b_slave)
        self._keep = (a_slave, b_slave)  # the slaves stay open so the masters keep working
        self.bytes_per_s = baud / 10
        self.ber = bit_error_rate
        self.rng = random.Random(seed)
        self.carried = self.flipped = 0
        #: Every byte the sender wrote, as sent (for replay tests).
        self.recorded = bytearray()
        self._lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def inject(self, data: bytes) -> None:
        """Put ``data`` on the receiver's line between the sender's writes (another radio)."""
        with self._lock:
            os.write(self.b_master, data)

    def _run(self) -> None:
        while not self.stop.is_set():
            ready, _, _ = select.select([self.a_master], [], [], 0.05)
            if not ready:
                continue
            data = bytearray(os.read(self.a_master, 4096))
            self.recorded += data
            for i in range(len(data) * 8):
                if self.rng.random() < self.ber:
                    data[i // 8] ^= 1 << (i % 8)
                    self.flipped += 1
            time.sleep(len(data) / self.bytes_per_s)  # the line's speed
            with self._lock:
                os.write(self.b_master, bytes(data))
            self.carried += len(data)

    def close(self) -> None:
        """Stop the relay and close the terminals."""
        self.stop.set()
        self.thread.join(2)
        for fd in (self.a_master, self.b_master, *self._keep):
            os.close(fd)


class UdpRelay:
    """Datagrams from one port to another, 10% dropped and pairs swapped now and then."""

    def __init__(self, loss: float, seed: int = 0) -> None:
        self.inbound = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.inbound.bind(("127.0.0.1", 0))
        self.inbound.settimeout(0.05)
        self.in_port = self.inbound.getsockname()[1]
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(("127.0.0.1", 0))
        self.out_port = probe.getsockname()[1]
        probe.close()
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.loss, self.rng = loss, random.Random(seed)
        self.dropped = self.carried = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        held: bytes | None = None
        while not self.stop.is_set():
            try:
                data = self.inbound.recv(65535)
            except TimeoutError:
                continue
            if self.rng.random() < self.loss:
                self.dropped += 1
                continue
            if held is None and self.rng.random() < 0.1:
                held = data  # sent after the next one: reordered
                continue
            self.out.sendto(data, ("127.0.0.1", self.out_port))
            if held is not None:
                self.out.sendto(held, ("127.0.0.1", self.out_port))
                held = None
            self.carried += 1

    def close(self) -> None:
        """Stop the relay."""
        self.stop.set()
        self.thread.join(2)
        self.inbound.close()
        self.out.close()
