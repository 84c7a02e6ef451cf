"""``ros2 run ncp_driver_ros driver``: the node's entry point, with nothing heavy imported yet.

rclpy, onnxruntime, OpenCV and the message packages take a while to import; a Ctrl-C (or a
launch shutdown) during that time must end the process with exit code 0 and no traceback too,
so they are imported inside :func:`main`. Some native modules turn a Ctrl-C during their
initialisation into another error (onnxruntime: ``ImportError: initialization failed`` from the
KeyboardInterrupt); :func:`interrupted` finds the KeyboardInterrupt behind such an error.
"""

from __future__ import annotations

import sys

__all__ = ["interrupted", "main"]


def interrupted(error: BaseException) -> bool:
    """True if ``error`` is, or was caused by, a KeyboardInterrupt (Ctrl-C, SIGINT)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def main(args: list[str] | None = None) -> int:
    """Import and run :func:`ncp_driver_ros.driver_node.main`; 0 if interrupted before it."""
    try:
        from ncp_driver_ros.driver_node import main as run
    except BaseException as exc:
        if interrupted(exc):
            return 0
        raise
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
