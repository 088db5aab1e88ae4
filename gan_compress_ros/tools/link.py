"""gan-compress-link: carry the latent stream over a serial radio or UDP, without DDS.

Once:             gan-compress-link keygen link.key    (copy the file to both ends)
On the robot:     gan-compress-link send --serial /dev/ttyUSB0 --baud 9600 --key link.key
At the station:   gan-compress-link receive --serial /dev/ttyUSB1 --baud 9600 --key link.key
Over UDP:         --udp HOST:PORT in place of --serial (the receiver's address; the receiver
                  listens on it), and --peer ROBOT_HOST on the receiver to take no other sender.
The receiver publishes the latents (same format, stamp and frame_id) for decoder_node. With a
key every frame carries a 6-byte tag: forged, altered and replayed frames are refused. The
key authenticates; it does not encrypt. The same nodes run with parameters as ``ros2 run
gan_compress_ros link_send`` / ``link_receive`` or from launch/link_send.launch.py and
launch/link_receive.launch.py.
"""

from __future__ import annotations

import argparse
import sys

from ..link import auth
from ..link.transports import parse_endpoint
from ..nodes.link_send import TOPIC


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="gan-compress-link", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True, metavar="{send,receive,keygen}")
    keygen = sub.add_parser("keygen", help="write a new 32-byte link key (mode 0600)")
    keygen.add_argument("path", help="where to write it (never overwritten)")
    for mode in ("send", "receive"):
        q = sub.add_parser(mode, help=f"{mode} the latent topic over a link")
        link = q.add_mutually_exclusive_group(required=True)
        link.add_argument("--serial", help="serial device, e.g. /dev/ttyUSB0")
        link.add_argument("--udp", help="HOST:PORT (send: the receiver's; receive: to listen "
                          "on)")
        q.add_argument("--baud", type=int, default=9600, help="serial baud rate (8N1)")
        q.add_argument("--topic", default=TOPIC, help="latent topic (default image_raw/gan)")
        q.add_argument("--key", default="", help="link key file (keygen), the same on both "
                       "ends; without one anyone who can reach the link can inject images")
        if mode == "send":
            q.add_argument("--rate", type=float, default=0.0, help="link bytes per second "
                           "(default: baud / 10 on serial, no limit on udp)")
            q.add_argument("--encoder", default="", help="encoder node to keep at the link's "
                           "budget (max_bitrate), e.g. /encoder; on udp needs --rate")
        else:
            q.add_argument("--peer", default="", help="udp: take datagrams from this host "
                           "only")
            q.add_argument("--max-payload", type=int, default=4095,
                           help="longest payload accepted, bytes (default 4095)")
    args = p.parse_args(argv)
    if args.mode == "send" and args.encoder and args.udp and args.rate <= 0:
        p.error("--encoder needs --rate on udp: the encoder is given the link's rate, and "
                "udp has none of its own")
    if args.mode == "receive" and args.peer and not args.udp:
        p.error("--peer applies to --udp only")
    if args.mode == "receive" and not 0 < args.max_payload <= 4095:
        p.error(f"--max-payload {args.max_payload}: use 1 to 4095")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    if args.mode == "keygen":
        try:
            path = auth.keygen(args.path)
        except ValueError as exc:
            print(f"gan-compress-link keygen: {exc}", file=sys.stderr)
            return 2
        print(f"wrote a new link key to {path} (mode 0600); copy it to the other end, "
              "e.g. with scp, and pass --key (or key_file:=) on both")
        return 0
    try:  # bad input: one line and exit 2 before any node starts
        if args.key:
            auth.load_key(args.key)
        if args.udp:
            parse_endpoint(args.udp)
    except ValueError as exc:
        print(f"gan-compress-link {args.mode}: {exc}", file=sys.stderr)
        return 2
    from rclpy.parameter import Parameter

    from ..nodes.link_receive import LinkReceiver
    from ..nodes.link_send import LinkSender
    from ..nodes.runner import run_nodes

    params = [Parameter("serial_port", value=args.serial or ""),
              Parameter("udp", value=args.udp or ""), Parameter("baud", value=args.baud),
              Parameter("key_file", value=args.key)]
    if args.mode == "send":
        params += [Parameter("rate_bytes_per_s", value=float(args.rate)),
                   Parameter("encoder", value=args.encoder)]
        node: type[LinkSender | LinkReceiver] = LinkSender
    else:
        params += [Parameter("peer", value=args.peer),
                   Parameter("max_payload", value=args.max_payload)]
        node = LinkReceiver
    ros_args = ["gan-compress-link", "--ros-args", "-r", f"{TOPIC}:={args.topic}"]
    return run_nodes([lambda: node(parameter_overrides=params)], ros_args,
                     f"gan-compress-link {args.mode}")


if __name__ == "__main__":
    sys.exit(main())
