"""Keep freed memory in the process for the next frame (glibc's malloc thresholds).

A full-resolution raw frame (1920 x 1208 rgb8, 7 MB) passes through three buffers of its size
in the node's process: the DDS's sample, rmw's serialized message and the Python ``bytes``
the camera callback gets, all freed once the frame is processed. With glibc's default
(dynamic) thresholds that memory went back to the kernel and the next frame faulted every page
in again: about 5000 minor page faults per frame in the node on real ROS 2 (Jazzy, Fast DDS
and Cyclone DDS alike), several milliseconds a frame on the development VM (docs/ros2.md,
"Large images"). Fixed thresholds (blocks up to 32 MiB from the heap, 256 MiB of free heap
kept) leave the freed buffers in the heap, where the next frame reuses them: no faults.

Only glibc has ``mallopt``; elsewhere (musl, macOS, Windows) this does nothing.
"""

from __future__ import annotations

import ctypes
from typing import Any

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]

# glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Blocks below this come from the heap, not their own mmap (glibc's largest: 32 MiB on 64 bit;
# a 4K rgb8 frame is 25 MB).
MMAP_THRESHOLD = 32 * 1024 * 1024
# Free memory at the top of the heap kept before any is given back (several frames).
TRIM_THRESHOLD = 256 * 1024 * 1024


def _libc() -> Any:
    """The C library's symbols as this process sees them (no subprocess, unlike find_library)."""
    return ctypes.CDLL(None)


def keep_freed_memory(libc: Any = None) -> str:
    """Set glibc's mmap and trim thresholds for frame-sized buffers; says what was done.

    ``libc``: the C library (default: this process's); one without ``mallopt`` is left alone.
    """
    try:
        lib = _libc() if libc is None else libc
        mallopt = getattr(lib, "mallopt", None)
    except OSError:
        mallopt = None
    if mallopt is None:
        return "malloc thresholds left as they are (no glibc mallopt)"
    done = [
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1,
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1,
    ]
    if not all(done):
        return "malloc thresholds left as they are (mallopt refused them)"
    return (
        f"malloc: blocks below {MMAP_THRESHOLD >> 20} MiB from the heap, up to "
        f"{TRIM_THRESHOLD >> 20} MiB of freed memory kept for the next frames"
    )
