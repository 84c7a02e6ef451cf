"""CompressedImage: JPEG and PNG with image_transport's format strings; corrupt data rejected."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from images_patterns import colour_blocks, road_scene

from ncp_driver.images import (
    ImageDecodeError,
    compressed_size,
    decode_image,
    image_stamp,
    jpeg_reduce_factor,
)
from ncp_driver.images.messages import CompressedImage, compressed_message
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing


def flat_quadrants() -> np.ndarray:
    colours = np.array([[[200, 40, 10], [20, 180, 60]], [[30, 70, 220], [250, 250, 250]]], np.uint8)
    return np.kron(colours, np.ones((32, 48, 1), np.uint8))


@pytest.mark.parametrize(
    "fmt", ["jpeg", "rgb8; jpeg compressed bgr8", "bgr8; jpeg compressed bgr8", "JPEG", ""]
)
def test_jpeg_decodes_to_rgb(fmt: str) -> None:
    rgb = flat_quadrants()
    msg = compressed_message(rgb, 3.0, "jpeg", quality=95)
    msg.format = fmt
    out = decode_image(msg)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    inner = (slice(8, 24), slice(8, 40))  # away from the quadrant edges' ringing
    assert np.abs(out[inner].astype(int) - rgb[inner]).max() <= 4
    assert np.abs(out[32:, 48:][inner].astype(int) - rgb[32:, 48:][inner]).max() <= 4


@pytest.mark.parametrize("fmt", ["png", "rgb8; png compressed bgr8", "bgr8; compressed png", ""])
def test_png_decodes_exactly(fmt: str) -> None:
    rgb = colour_blocks(30, 44)
    msg = compressed_message(rgb, 3.0, "png")
    msg.format = fmt
    np.testing.assert_array_equal(decode_image(msg), rgb)


def test_mono_jpeg_becomes_three_equal_channels() -> None:
    grey = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (16, 1))
    ok, data = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, 100])
    assert ok
    out = decode_image(
        CompressedImage(
            compressed_message(grey[..., None].repeat(3, -1), 0).header,
            "mono8; jpeg compressed mono8",
            data,
        )
    )
    assert out.shape == (16, 64, 3)
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    assert np.abs(out[..., 0].astype(int) - grey).max() <= 2


@pytest.mark.parametrize("reduce", [1, 2, 4, 8])
def test_reduced_jpeg_decode_has_the_reduced_size(reduce: int) -> None:
    msg = compressed_message(road_scene(90, 150), 0.0)
    out = decode_image(msg, reduce=reduce)
    assert out.shape == (math.ceil(90 / reduce), math.ceil(150 / reduce), 3)


def test_reduce_does_not_apply_to_png() -> None:
    msg = compressed_message(colour_blocks(20, 30), 0.0, "png")
    assert decode_image(msg, reduce=4).shape == (20, 30, 3)


def test_reduce_must_be_a_libjpeg_factor() -> None:
    with pytest.raises(ValueError, match="reduce must be one of"):
        decode_image(compressed_message(colour_blocks(), 0.0), reduce=3)


@pytest.mark.parametrize("codec", ["jpeg", "png"])
def test_size_is_read_from_the_header(codec: str) -> None:
    msg = compressed_message(road_scene(123, 321), 0.0, codec)
    assert compressed_size(msg) == (123, 321)


def test_size_of_garbage_is_unknown() -> None:
    assert (
        compressed_size(
            CompressedImage(
                compressed_message(colour_blocks(), 0).header, "jpeg", np.zeros(50, np.uint8)
            )
        )
        is None
    )


@pytest.mark.parametrize(
    ("height", "width", "factor"),
    [(1208, 1920, 4), (1080, 1920, 4), (720, 1280, 2), (480, 640, 1), (2416, 3840, 8)],
)
def test_reduce_factor_never_exceeds_the_crop_shrink(height: int, width: int, factor: int) -> None:
    assert jpeg_reduce_factor(PAPER_PREPROCESSING, height, width) == factor
    assert factor <= PAPER_PREPROCESSING.downscale_factor(height, width)


def test_reduce_factor_follows_the_spec() -> None:
    wide = Preprocessing(crop_x0=0.0, crop_x1=1.0, crop_y0=0.0, crop_y1=1.0)
    assert jpeg_reduce_factor(wide, 720, 1280) == 4  # min(1280 / 200, 720 / 78) = 6.4
    assert jpeg_reduce_factor(wide, 1600, 1600) == 8  # min(8.0, 20.5)


def corrupted(kind: str) -> CompressedImage:
    msg = compressed_message(road_scene(120, 200), 5.0)
    data = msg.data.copy()
    if kind == "truncated":
        data = data[: data.size // 2]
    elif kind == "garbage":
        data = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)
    elif kind == "header":
        data[20:400] = np.random.default_rng(1).integers(0, 256, 380, dtype=np.uint8)
    elif kind == "empty":
        data = data[:0]
    msg.data = data
    return msg


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("truncated", "truncated"),
        ("garbage", "neither JPEG nor PNG"),
        ("header", "corrupt jpeg"),
        ("empty", "no data"),
    ],
)
def test_corrupt_jpeg_is_rejected_with_the_reason(kind: str, match: str) -> None:
    with pytest.raises(ImageDecodeError, match=match):
        decode_image(corrupted(kind))


@pytest.mark.parametrize(
    ("fmt", "match"),
    [("16UC1; compressedDepth png", "depth image"), ("h264", "h264")],
)
def test_other_formats_are_rejected(fmt: str, match: str) -> None:
    msg = compressed_message(colour_blocks(), 0.0, "png")
    msg.format = fmt
    if fmt == "h264":
        msg.data = np.arange(64, dtype=np.uint8)
    with pytest.raises(ImageDecodeError, match=match):
        decode_image(msg)


def test_compressed_stamp_is_kept() -> None:
    assert image_stamp(compressed_message(colour_blocks(), 41.5)) == 41.5
