"""ncp_driver_ros: the ROS 2 adapter of the ncp_driver steering pipeline.

``driver_node`` is the only module that imports rclpy; ``settings``, ``messages``, ``monitor``,
``latency`` and ``speed`` are plain Python, tested without ROS.
"""
