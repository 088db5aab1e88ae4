"""The link nodes' link: declared from the parameter table, opened, or StartupError."""

from __future__ import annotations

from typing import Any

from rclpy.node import Node

from .declare import declare
from .runner import StartupError


def open_link_from_params(node: Node, receive: bool) -> Any:
    """Declare the link parameters and open the link they name; StartupError if it fails."""
    from ..link.transports import open_link

    port, baud, udp = (declare(node, name) for name in ("serial_port", "baud", "udp"))
    try:
        return open_link(port, int(baud), udp, receive)
    except (ValueError, ImportError) as exc:
        raise StartupError(str(exc)) from None
