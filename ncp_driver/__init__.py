"""ncp_driver: Neural Circuit Policies on a real car, ROS-free core.

Importing this package needs only numpy, OpenCV and onnxruntime. Training and export
(``ncp_driver.training``, ``ncp_driver.export``) need torch; bag tools (``ncp_driver.bags``)
need rosbags. The ROS 2 node lives in ``ros2_ws/`` and is a thin adapter over
``ncp_driver.runtime``.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
