"""CameraInfo through the nodes: fitted by the encoder, republished by the decoder.

Real encoder and decoder processes over DDS, the camera remapped: the camera's 640x480
CameraInfo comes out beside the latents fitted to the 64x64 frame, once however often the
camera repeats it, latched for a late subscriber; the decoder republishes it beside the
decoded images, scaled to ``output_size``.
"""

from __future__ import annotations

import numpy as np
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from testkit.ros import image_msg, spin_until, start_node, stop_node

from gan_compress_ros.image import fit_camera_info
from gan_compress_ros.nodes.camera_info import LATCHED

K = [500.0, 0, 320.0, 0, 500.0, 240.0, 0, 0, 1]
P = [500.0, 0, 320.0, -25.0, 0, 500.0, 240.0, 0, 0, 0, 1, 0]


def _camera_info(stamp: int) -> CameraInfo:
    info = CameraInfo()
    info.header.stamp.sec, info.header.frame_id = stamp, "cam_optical"
    info.width, info.height, info.distortion_model = 640, 480, "plumb_bob"
    info.d = [0.1, -0.2, 0.0, 0.0, 0.0]
    info.k, info.p = K, P
    return info


def test_camera_info_fitted_latched_and_republished(ros, photos: list[np.ndarray]) -> None:
    common = ["-r", "__ns:=/ci"]
    encoder = start_node("encoder_node", *common, "-r", "image_raw:=/usb_cam/image_raw",
                         "-p", "resize_mode:=crop")
    decoder = start_node("decoder_node", *common, "-r", "image_raw/gan:=/usb_cam/image_raw/gan",
                         "-p", "output_size:=128")
    image_pub = ros.create_publisher(Image, "/usb_cam/image_raw", qos_profile_sensor_data)
    info_pub = ros.create_publisher(CameraInfo, "/usb_cam/camera_info", qos_profile_sensor_data)
    latent_infos: list[CameraInfo] = []
    decoded_infos: list[CameraInfo] = []
    subs = [ros.create_subscription(CameraInfo, "/usb_cam/image_raw/gan/camera_info",
                                    latent_infos.append, LATCHED),
            ros.create_subscription(CameraInfo, "/ci/image_decoded/camera_info",
                                    decoded_infos.append, LATCHED)]
    frame = np.ascontiguousarray(np.resize(photos[0], (480, 640, 3)))
    stamp = [0]

    def publish() -> None:
        stamp[0] += 1
        info_pub.publish(_camera_info(stamp[0]))
        image_pub.publish(image_msg(frame, stamp[0]))

    try:
        assert spin_until(ros, lambda: (publish(), bool(decoded_infos))[1], 90.0), \
            (encoder.log[-2000:], decoder.log[-2000:])
        for _ in range(20):  # the camera repeats its CameraInfo with every frame
            publish()
            spin_until(ros, lambda: False, 0.05)
        k, p, _, _ = fit_camera_info(K, P, 640, 480, "crop")
        assert len(latent_infos) == 1, "published again though nothing changed"
        latent = latent_infos[0]
        assert (latent.width, latent.height) == (64, 64)
        assert np.allclose(latent.k, k) and np.allclose(latent.p, p)
        assert list(latent.d) == [0.1, -0.2, 0.0, 0.0, 0.0] and latent.header.frame_id == \
            "cam_optical"
        decoded = decoded_infos[-1]
        assert (decoded.width, decoded.height) == (128, 128)  # output_size
        assert np.allclose(decoded.k, [2 * v for v in k[:6]] + k[6:])
        # a subscriber that comes late still gets it (transient local)
        late: list[CameraInfo] = []
        sub = ros.create_subscription(CameraInfo, "/usb_cam/image_raw/gan/camera_info",
                                      late.append, LATCHED)
        subs.append(sub)
        assert spin_until(ros, lambda: bool(late), 10.0)
        assert np.allclose(late[0].k, k)
    finally:
        for s in subs:
            ros.destroy_subscription(s)
        ros.destroy_publisher(image_pub)
        ros.destroy_publisher(info_pub)
        stop_node(encoder)
        stop_node(decoder)
