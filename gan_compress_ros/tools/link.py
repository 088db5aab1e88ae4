"""gan-compress-link: carry the latent stream over a serial radio or UDP, without DDS.

On the robot:     gan-compress-link send --serial /dev/ttyUSB0 --baud 9600 --topic image_raw/gan
At the station:   gan-compress-link receive --serial /dev/ttyUSB1 --baud 9600 --topic image_raw/gan
Over UDP:         --udp HOST:PORT in place of --serial (the receiver's address; the receiver
                  listens on it).
The receiver publishes the latents (same format, stamp and frame_id) for decoder_node. The
same nodes run with parameters as ``ros2 run gan_compress_ros link_send`` / ``link_receive``
or from launch/link_send.launch.py and launch/link_receive.launch.py.
"""

from __future__ import annotations

import argparse
import sys

from rclpy.parameter import Parameter

from ..nodes.link_receive import LinkReceiver
from ..nodes.link_send import TOPIC, LinkSender
from ..nodes.runner import run_nodes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="gan-compress-link", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["send", "receive"])
    link = p.add_mutually_exclusive_group(required=True)
    link.add_argument("--serial", help="serial device, e.g. /dev/ttyUSB0")
    link.add_argument("--udp", help="HOST:PORT (send: the receiver's; receive: to listen on)")
    p.add_argument("--baud", type=int, default=9600, help="serial baud rate (8N1)")
    p.add_argument("--topic", default=TOPIC, help="latent topic (default image_raw/gan)")
    p.add_argument("--rate", type=float, default=0.0, help="send: link bytes per second "
                   "(default: baud / 10 on serial, no limit on udp)")
    p.add_argument("--encoder", default="", help="send: encoder node to give the link's "
                   "budget to (max_bitrate), e.g. /encoder")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    params = [Parameter("serial_port", value=args.serial or ""),
              Parameter("udp", value=args.udp or ""), Parameter("baud", value=args.baud)]
    if args.mode == "send":
        params += [Parameter("rate_bytes_per_s", value=float(args.rate)),
                   Parameter("encoder", value=args.encoder)]
        node: type[LinkSender | LinkReceiver] = LinkSender
    else:
        node = LinkReceiver
    ros_args = ["gan-compress-link", "--ros-args", "-r", f"{TOPIC}:={args.topic}"]
    return run_nodes([lambda: node(parameter_overrides=params)], ros_args,
                     f"gan-compress-link {args.mode}")


if __name__ == "__main__":
    sys.exit(main())
