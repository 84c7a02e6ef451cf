"""Camera messages to pixels: sensor_msgs/Image and CompressedImage from any message object.

Needs only numpy and OpenCV. ``read_image`` reads one from its CDR bytes
(what ROS 2 sends and stores) without copying the pixels; ``decode_image`` gives the full RGB
frame; ``decode_cropped`` the
model's cropped image by the fastest exact route; ``image_stamp`` the capture time.
"""

from __future__ import annotations

from ncp_driver.images.cdr import (
    IMAGE_TYPES,
    CorruptImage,
    read_compressed_image,
    read_image,
    read_raw_image,
)
from ncp_driver.images.compressed import (
    REDUCE_FACTORS,
    compressed_size,
    decode_compressed,
    jpeg_reduce_factor,
)
from ncp_driver.images.decode import decode_cropped, decode_image, is_compressed
from ncp_driver.images.errors import ImageDecodeError
from ncp_driver.images.raw import RAW_ENCODINGS, RawEncoding, decode_raw, raw_pixels
from ncp_driver.images.stamps import header_stamp_ns, image_stamp, stamp_ns

__all__ = [
    "IMAGE_TYPES",
    "RAW_ENCODINGS",
    "REDUCE_FACTORS",
    "CorruptImage",
    "ImageDecodeError",
    "RawEncoding",
    "compressed_size",
    "decode_compressed",
    "decode_cropped",
    "decode_image",
    "decode_raw",
    "header_stamp_ns",
    "image_stamp",
    "is_compressed",
    "jpeg_reduce_factor",
    "raw_pixels",
    "read_compressed_image",
    "read_image",
    "read_raw_image",
    "stamp_ns",
]
