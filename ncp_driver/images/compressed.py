"""sensor_msgs/CompressedImage (JPEG, PNG) to RGB, with reduced-scale JPEG decoding.

``format`` is what image_transport writes: ``jpeg``, ``png``, or ``<encoding>; jpeg compressed
<target>`` (``rgb8; jpeg compressed bgr8``). The codec is taken from the data's signature; the
format string only rules out what is not a camera frame (``compressedDepth``) or not JPEG/PNG.
The channel order named in the format needs no handling: OpenCV's encoder and decoder agree on it.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from ncp_driver.images.errors import ImageDecodeError
from ncp_driver.images.raw import message_bytes
from ncp_driver.preprocessing import Preprocessing

__all__ = [
    "REDUCE_FACTORS",
    "compressed_codec",
    "compressed_size",
    "decode_compressed",
    "jpeg_header",
    "jpeg_reduce_factor",
]

REDUCE_FACTORS = (1, 2, 4, 8)

_JPEG_SIGNATURE = b"\xff\xd8\xff"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_OTHER_CODECS = ("theora", "h264", "h265", "hevc", "av1", "webp", "tiff", "zstd", "qoi", "rvl")

# Decoding straight to RGB (OpenCV >= 4.11) saves a conversion; older OpenCV decodes to BGR.
_RGB_FLAG: int | None = getattr(cv2, "IMREAD_COLOR_RGB", None)
_REDUCED_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def _imread_flags(reduce: int, rgb: bool) -> int:
    flags = _REDUCED_FLAGS[reduce]
    if rgb and _RGB_FLAG is not None:
        return (flags & ~cv2.IMREAD_COLOR) | _RGB_FLAG
    return flags


def compressed_codec(msg: Any, data: np.ndarray) -> str:
    """``"jpeg"`` or ``"png"`` from the data's signature; rejects other formats with the reason."""
    fmt = str(getattr(msg, "format", "")).lower()
    if "compresseddepth" in fmt.replace(" ", ""):
        raise ImageDecodeError(
            f"format {msg.format!r} is a depth image, not a camera frame: subscribe to the colour "
            "camera's compressed topic"
        )
    head = bytes(data[:8])
    if head.startswith(_JPEG_SIGNATURE):
        return "jpeg"
    if head.startswith(_PNG_SIGNATURE):
        return "png"
    named = [codec for codec in _OTHER_CODECS if codec in fmt]
    if named:
        raise ImageDecodeError(
            f"compressed format {msg.format!r} ({named[0]}) is not supported: publish JPEG or PNG"
        )
    raise ImageDecodeError(
        f"{data.size} bytes of format {getattr(msg, 'format', '')!r} are neither JPEG nor PNG "
        f"(first bytes {head[:4].hex()}): the data is corrupt or in another codec"
    )


def jpeg_header(data: np.ndarray) -> tuple[int, int, int] | None:
    """(height, width, components) from a JPEG's SOF segment, or None if it cannot be read."""
    view = np.ascontiguousarray(data).data
    size = len(view)
    i = 2
    while i + 10 <= size:
        if view[i] != 0xFF:
            return None
        marker = view[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            i += 2
            continue
        length = (view[i + 2] << 8) | view[i + 3]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
            height = (view[i + 5] << 8) | view[i + 6]
            width = (view[i + 7] << 8) | view[i + 8]
            return (height, width, int(view[i + 9])) if height and width else None
        if marker in (0xD9, 0xDA) or length < 2:  # end of image / start of scan before a frame
            return None
        i += 2 + length
    return None


def _jpeg_size(data: np.ndarray) -> tuple[int, int] | None:
    """(height, width) from a JPEG's SOF segment, or None if the header cannot be read."""
    header = jpeg_header(data)
    return None if header is None else header[:2]


def compressed_size(msg: Any) -> tuple[int, int] | None:
    """The full (height, width) of a compressed frame read from its header, without decoding."""
    data = message_bytes(msg.data)
    head = bytes(data[:24])
    if head.startswith(_JPEG_SIGNATURE):
        return _jpeg_size(data)
    if head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR":
        width = int.from_bytes(head[16:20], "big")
        height = int.from_bytes(head[20:24], "big")
        return (height, width) if height and width else None
    return None


def jpeg_reduce_factor(spec: Preprocessing, height: int, width: int) -> int:
    """The largest factor in (2, 4, 8) not above the crop's downscale factor, else 1."""
    shrink = spec.downscale_factor(height, width)
    for factor in (8, 4, 2):
        if factor <= shrink:
            return factor
    return 1


def _ends_grey(image: np.ndarray, reduce: int) -> bool:
    """Whether the bottom of a decoded JPEG is libjpeg's fill for missing data.

    When the entropy-coded data ends before the last block (a truncated frame with an end
    marker appended, a size header larger than the data), libjpeg warns "premature end of data
    segment" (OpenCV only prints it) and decodes the missing blocks as exact mid-grey
    (128, 128, 128). A camera frame whose bottom block row is that exact value across the whole
    width, under content that is not, does not occur (sensor noise). A frame that is mid-grey
    all over is accepted: it cannot be told from a truncation in its first block, and holds
    nothing to steer by either way.
    """
    rows = max(1, 8 // reduce)
    if not bool((image[-rows:] == 128).all()):
        return False
    return not bool((image == 128).all())


def _jpeg_complete(data: np.ndarray) -> bool:
    """Whether the data ends with the end-of-image marker (trailing zero padding allowed)."""
    tail = bytes(data[-64:]).rstrip(b"\x00")
    return tail.endswith(b"\xff\xd9")


def decode_compressed(msg: Any, reduce: int = 1, rgb: bool = True) -> np.ndarray:
    """A CompressedImage as an H x W x 3 uint8 array (RGB, or BGR with ``rgb=False``).

    ``reduce`` (1, 2, 4, 8) decodes a JPEG at that fraction of its size (libjpeg's scaled
    IDCT: ceil(H / reduce) x ceil(W / reduce)); PNG is always decoded at full size.
    """
    if reduce not in REDUCE_FACTORS:
        raise ValueError(f"reduce must be one of {REDUCE_FACTORS}, got {reduce}")
    data = message_bytes(msg.data)
    if data.size == 0:
        raise ImageDecodeError("compressed image has no data")
    codec = compressed_codec(msg, data)
    if codec == "png":
        reduce = 1
    elif not _jpeg_complete(data):
        raise ImageDecodeError(
            f"JPEG of {data.size} bytes has no end-of-image marker: it is truncated"
        )
    flags = _imread_flags(reduce, rgb)
    try:
        image = cv2.imdecode(data, flags)
    except cv2.error as exc:
        raise ImageDecodeError(f"OpenCV cannot decode this {codec}: {exc}") from exc
    if image is None:
        raise ImageDecodeError(f"corrupt {codec}: OpenCV could not decode its {data.size} bytes")
    if codec == "jpeg" and _ends_grey(image, reduce):
        raise ImageDecodeError(
            f"corrupt JPEG: its {data.size} bytes end before the frame its header declares "
            f"({'x'.join(map(str, _jpeg_size(data) or ('?',)))}): libjpeg filled the rest with "
            "grey (premature end of data); the frame is truncated or damaged"
        )
    if rgb and _RGB_FLAG is None:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ImageDecodeError(
            f"{codec} decoded to shape {image.shape} {image.dtype}; expected 8-bit colour"
        )
    return image
