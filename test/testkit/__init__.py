"""The test suite's helpers, in one place, split by what they need.

``files``: the shipped test data and photos, and child-process environments (NumPy, OpenCV).
``ros``: nodes as processes, topics, messages, diagnostics (rclpy). ``bags``: writing
rosbag1/rosbag2 files (rosbags). Fixtures that tests share live in ``conftest.py``.
"""
