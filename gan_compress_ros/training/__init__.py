"""Offline training of the codec: data, losses, the trainer. Never imports rclpy."""
