"""Any camera message to pixels: the full frame, or straight to the model's cropped image."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from ncp_driver.images.compressed import (
    compressed_codec,
    compressed_size,
    decode_compressed,
    jpeg_header,
    jpeg_reduce_factor,
)
from ncp_driver.images.errors import ImageDecodeError
from ncp_driver.images.raw import RAW_ENCODINGS, message_bytes, raw_encoding, raw_pixels, to_rgb
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing, crop_and_resize

__all__ = [
    "decode_cropped",
    "decode_cropped_sized",
    "decode_image",
    "is_compressed",
    "message_encoding",
]


def is_compressed(msg: Any) -> bool:
    """True for a CompressedImage (``format`` and ``data``), False for an Image (``encoding``)."""
    if hasattr(msg, "encoding") and hasattr(msg, "height"):
        return False
    if hasattr(msg, "format") and hasattr(msg, "data"):
        return True
    raise ImageDecodeError(
        f"{type(msg).__name__} has the fields of neither sensor_msgs/Image (height, width, "
        "encoding, is_bigendian, step, data) nor sensor_msgs/CompressedImage (format, data)"
    )


def decode_image(msg: Any, reduce: int = 1) -> np.ndarray:
    """A sensor_msgs Image or CompressedImage as a new H x W x 3 uint8 RGB array.

    ``reduce`` (1, 2, 4, 8) applies to JPEG only: decode at 1/reduce of the size. Mono is
    replicated to three channels; 16-bit samples keep their high byte (see ``images.raw``).
    Raises :class:`ImageDecodeError` with the reason.
    """
    if is_compressed(msg):
        return decode_compressed(msg, reduce)
    pixels, encoding = raw_pixels(msg)
    return to_rgb(pixels, encoding)


def message_encoding(msg: Any) -> str:
    """The pixel encoding a message carries, as a model's contract names encodings.

    An Image's ``encoding`` (its canonical name). For a CompressedImage: the single-channel
    encoding its ``format`` declares (image_transport writes ``16UC1; png compressed``,
    ``mono8; jpeg compressed``), else what the data holds: ``mono8``/``mono16`` for a
    greyscale JPEG (one component) or PNG (colour type 0 or 4), else ``jpeg``/``png``.
    """
    if not is_compressed(msg):
        return raw_encoding(str(msg.encoding)).name
    data = message_bytes(msg.data)
    codec = compressed_codec(msg, data)
    fmt = str(getattr(msg, "format", ""))
    if ";" in fmt:
        name = fmt.split(";", 1)[0].strip()
        declared = RAW_ENCODINGS.get(name) or RAW_ENCODINGS.get(name.lower())
        if declared is not None and declared.layout == "packed" and declared.channels == 1:
            return declared.name
    if codec == "jpeg":
        header = jpeg_header(data)
        if header is not None and header[2] == 1:
            return "mono8"
    elif data.size >= 26 and bytes(data[12:16]) == b"IHDR" and int(data[25]) in (0, 4):
        return "mono16" if int(data[24]) == 16 else "mono8"
    return codec


def decode_cropped_sized(
    msg: Any, spec: Preprocessing = PAPER_PREPROCESSING, reduced_jpeg: bool = True
) -> tuple[np.ndarray, tuple[int, int]]:
    """:func:`decode_cropped` and the full frame's (height, width).

    For a JPEG the size is its header's, checked against what was decoded (libjpeg's scaled
    size ``ceil(H / reduce)``), so a header that does not describe the data is refused.
    """
    if is_compressed(msg):
        reduce = 1
        size = compressed_size(msg)
        if reduced_jpeg and size is not None:
            reduce = jpeg_reduce_factor(spec, *size)
        try:
            bgr = decode_compressed(msg, reduce, rgb=False)
        except ValueError as exc:  # pragma: no cover - reduce comes from jpeg_reduce_factor
            raise ImageDecodeError(str(exc)) from exc
        if size is None:  # PNG without IHDR at its place, or a JPEG header not read: as decoded
            size = (bgr.shape[0], bgr.shape[1])
        elif (-(-size[0] // reduce), -(-size[1] // reduce)) != bgr.shape[:2]:
            raise ImageDecodeError(
                f"header says {size[1]} x {size[0]} but the data decodes to "
                f"{bgr.shape[1]} x {bgr.shape[0]} at 1/{reduce}: the frame is damaged"
            )
        return cv2.cvtColor(crop_and_resize(bgr, spec), cv2.COLOR_BGR2RGB), size
    pixels, encoding = raw_pixels(msg)
    size = (int(msg.height), int(msg.width))
    if encoding.name == "rgb8":
        return np.ascontiguousarray(crop_and_resize(pixels, spec)), size
    if encoding.name == "bgr8":
        return cv2.cvtColor(crop_and_resize(pixels, spec), cv2.COLOR_BGR2RGB), size
    return crop_and_resize(to_rgb(pixels, encoding), spec), size


def decode_cropped(
    msg: Any, spec: Preprocessing = PAPER_PREPROCESSING, reduced_jpeg: bool = True
) -> np.ndarray:
    """The model's uint8 image (out_height x out_width x 3 RGB) of a camera message.

    Equals ``crop_and_resize(decode_image(msg, reduce), spec)`` where ``reduce`` is 1 for raw
    frames and, with ``reduced_jpeg``, :func:`jpeg_reduce_factor` of the JPEG's full size. It is
    faster where that is exact: rgb8 is cropped in place and bgr8 (and JPEG on an older OpenCV)
    is cropped and resized before its channels are swapped, as resizing treats channels apart.
    """
    return decode_cropped_sized(msg, spec, reduced_jpeg)[0]
