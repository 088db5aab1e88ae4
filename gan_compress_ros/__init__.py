"""gan_compress_ros: a GAN-trained neural image codec for low-bandwidth ROS 2 links."""

__version__ = "0.1.0"
