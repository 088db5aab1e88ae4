"""ROS 2 nodes: thin shells over ``codec`` (parse parameters, convert, call, publish, count)."""
