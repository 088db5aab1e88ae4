"""Smallest program for the large-frame soak change (issue 15): rclpy publisher and subscriber.

No codec, no gan_compress_ros node: one process publishes 640x480 rgb8 frames at 30 Hz on a
reliable topic (as the benchmark's camera does), another subscribes the way the encoder
does by default (reliable, keep the newest frame) and prints, per window, how many frames
arrived and their latency (publish stamp to callback). Run:

    .venv/bin/python dev/soak_repro.py --duration 300 --window 15

Options switch one thing at a time: ``--depth`` of the subscription, ``--fresh`` (a new
message object per publish instead of re-publishing a few), ``--work-ms`` per callback,
``--wait-subscribers`` to start publishing once discovery has matched them, ``--heap``
for a subscriber that takes large buffers from its heap as the encoder node does.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _reliability(args: argparse.Namespace):
    from rclpy.qos import ReliabilityPolicy

    return ReliabilityPolicy.BEST_EFFORT if args.best_effort else ReliabilityPolicy.RELIABLE


def publisher(args: argparse.Namespace) -> None:
    """Publish frames at ``--fps`` (the camera)."""
    import rclpy
    from rclpy.qos import QoSProfile
    from sensor_msgs.msg import Image

    rclpy.init()
    node = rclpy.create_node("repro_camera")
    pub = node.create_publisher(Image, "repro/image_raw",
                                QoSProfile(depth=args.pub_depth, reliability=_reliability(args)))
    w, h = args.size
    rng = np.random.default_rng(0)

    def make() -> Image:
        msg = Image()
        msg.height, msg.width, msg.encoding, msg.step = h, w, "rgb8", 3 * w
        msg.data = rng.integers(0, 256, h * w * 3, dtype=np.uint8).tobytes()
        return msg

    pool = [make() for _ in range(8)]
    deadline = time.monotonic() + 10.0
    while pub.get_subscription_count() < args.wait_subscribers and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)  # frames before discovery would be lost
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < args.duration:
        msg = make() if args.fresh else pool[n % len(pool)]
        msg.header.stamp = node.get_clock().now().to_msg()
        pub.publish(msg)
        n += 1
        next_t = start + n / args.fps
        time.sleep(max(0.0, next_t - time.monotonic()))
    print(f"published {n}", flush=True)
    node.destroy_node()
    rclpy.shutdown()


def subscriber(args: argparse.Namespace) -> None:
    """Count and time what arrives, per window (the encoder's subscription)."""
    if args.heap:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from gan_compress_ros.nodes.heap import keep_frames_in_heap

        print(f"frames kept in the heap: {keep_frames_in_heap()}", flush=True)
    import rclpy
    from rclpy.qos import QoSProfile
    from sensor_msgs.msg import Image

    rclpy.init()
    node = rclpy.create_node("repro_listener")
    lat: list[float] = []
    total = [0]
    t0 = [0.0]

    def on_image(msg: Image) -> None:
        now = node.get_clock().now().nanoseconds
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        lat.append((now - stamp) / 1e6)
        total[0] += 1
        if args.work_ms:
            end = time.perf_counter() + args.work_ms / 1000
            while time.perf_counter() < end:
                pass

    node.create_subscription(Image, "repro/image_raw", on_image,
                             QoSProfile(depth=args.depth, reliability=_reliability(args)))
    start = time.monotonic()
    t0[0] = start
    window_end = start + args.window
    while time.monotonic() - start < args.duration + 5:
        rclpy.spin_once(node, timeout_sec=0.05)
        if time.monotonic() >= window_end:
            arr = np.array(lat) if lat else np.zeros(1)
            print(f"{window_end - start:6.0f} s  got {len(lat):4d}  total {total[0]:6d}  "
                  f"p50 {np.percentile(arr, 50):6.1f} ms  p99 {np.percentile(arr, 99):7.1f} ms",
                  flush=True)
            lat.clear()
            window_end += args.window
    print(f"received {total[0]}", flush=True)
    node.destroy_node()
    rclpy.shutdown()


def main() -> None:
    """Both roles in separate processes, or one (``--role``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=("both", "pub", "sub"), default="both")
    parser.add_argument("--duration", type=float, default=300.0)
    parser.add_argument("--window", type=float, default=15.0)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--size", type=lambda s: tuple(int(v) for v in s.split("x")),
                        default=(640, 480))
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--pub-depth", type=int, default=30)
    parser.add_argument("--best-effort", action="store_true")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--work-ms", type=float, default=0.0)
    parser.add_argument("--heap", action="store_true",
                        help="subscriber: large buffers from the heap (nodes/heap.py)")
    parser.add_argument("--wait-subscribers", type=int, default=0,
                        help="publish once this many subscriptions are matched (10 s at most)")
    args = parser.parse_args()
    if args.role == "pub":
        publisher(args)
    elif args.role == "sub":
        subscriber(args)
    else:
        rest = [a for a in sys.argv[1:]]
        sub = subprocess.Popen([sys.executable, __file__, "--role", "sub", *rest])
        time.sleep(2.0)
        pub = subprocess.Popen([sys.executable, __file__, "--role", "pub", *rest])
        pub.wait()
        sub.wait()


if __name__ == "__main__":
    main()
