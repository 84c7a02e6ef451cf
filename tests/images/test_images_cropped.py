"""The model's image straight from a message equals THE preprocessing of the decoded frame.

Reduced-scale JPEG decoding is the one approximation; its bound, measured on a camera-like road
scene at JPEG quality 75-95 (mean absolute difference of the 78 x 200 uint8 model image against
the full-size decode): 1.5 levels at 1/2 scale (1280 x 720), 3.5 levels at 1/4 scale
(1920 x 1208); after the network's per-image standardisation 0.043 and 0.10 standard
deviations. Most of it is aliasing in the full-size path (bilinear resize by 4.6 skips pixels),
which the reduced decode's scaled IDCT averages out. Bounds with margin: 2.5 and 5 levels,
0.065 and 0.15 standard deviations. Set ``reduced_jpeg_decode = False`` to decode in full.
"""

from __future__ import annotations

import numpy as np
import pytest
from images_patterns import bayer_mosaic, colour_blocks, raw_message, road_scene

from ncp_driver.images import decode_cropped, decode_image, jpeg_reduce_factor
from ncp_driver.images.messages import compressed_message, image_message
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing, crop_and_resize

SCENE = road_scene(240, 400)


def messages() -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for encoding in ("rgb8", "bgr8", "rgba8", "bgra8", "mono8"):
        out.append((encoding, image_message(SCENE, 1.0, encoding)))
        out.append((encoding + "+pad", image_message(SCENE, 1.0, encoding, row_padding=7)))
    out.append(("bayer_grbg8", raw_message(bayer_mosaic(SCENE, "grbg"), 240, 400, "bayer_grbg8")))
    yuyv = np.random.default_rng(0).integers(16, 236, (240, 400, 2), dtype=np.uint8)
    out.append(("yuyv", raw_message(yuyv, 240, 400, "yuyv", padding=4)))
    nv12 = np.random.default_rng(0).integers(16, 236, (360, 400), dtype=np.uint8)
    out.append(("nv12", raw_message(nv12, 240, 400, "nv12")))
    wide = (SCENE.astype(np.uint16) * 257).astype("<u2")
    out.append(("rgb16", raw_message(wide, 240, 400, "rgb16")))
    out.append(("png", compressed_message(SCENE, 1.0, "png")))
    return out


SPECS = [
    PAPER_PREPROCESSING,
    Preprocessing(crop_x0=0.1, crop_x1=0.9, crop_y0=0.3, crop_y1=1.0, interpolation="area"),
]


@pytest.mark.parametrize("spec", SPECS, ids=["paper", "area"])
@pytest.mark.parametrize(("name", "msg"), messages(), ids=[n for n, _ in messages()])
def test_cropped_equals_preprocessing_of_decoded_frame(
    name: str, msg: object, spec: Preprocessing
) -> None:
    small = decode_cropped(msg, spec)
    assert small.shape == spec.input_shape and small.dtype == np.uint8
    np.testing.assert_array_equal(small, crop_and_resize(decode_image(msg), spec))


@pytest.mark.parametrize("spec", SPECS, ids=["paper", "area"])
def test_full_jpeg_path_is_exact(spec: Preprocessing) -> None:
    msg = compressed_message(road_scene(720, 1280), 0.0)
    np.testing.assert_array_equal(
        decode_cropped(msg, spec, reduced_jpeg=False), crop_and_resize(decode_image(msg), spec)
    )


def test_reduced_jpeg_path_is_the_reduced_decode_preprocessed() -> None:
    msg = compressed_message(road_scene(720, 1280), 0.0)
    assert jpeg_reduce_factor(PAPER_PREPROCESSING, 720, 1280) == 2
    np.testing.assert_array_equal(decode_cropped(msg), crop_and_resize(decode_image(msg, reduce=2)))


@pytest.mark.parametrize(
    ("height", "width", "factor", "bound", "z_bound"),
    [(720, 1280, 2, 2.5, 0.065), (1208, 1920, 4, 5.0, 0.15)],
)
@pytest.mark.parametrize("quality", [75, 95])
def test_reduced_jpeg_stays_within_tolerance(
    height: int, width: int, factor: int, bound: float, z_bound: float, quality: int
) -> None:
    msg = compressed_message(road_scene(height, width), 0.0, quality=quality)
    assert jpeg_reduce_factor(PAPER_PREPROCESSING, height, width) == factor
    reduced = decode_cropped(msg, reduced_jpeg=True).astype(np.float64)
    full = decode_cropped(msg, reduced_jpeg=False).astype(np.float64)
    assert np.abs(reduced - full).mean() <= bound
    # As a model input in [0, 1], after the network's per-image standardisation:
    z = [(x - x.mean()) / x.std() for x in (reduced, full)]
    assert np.abs(z[0] - z[1]).mean() <= z_bound


def test_rgb8_crop_does_not_copy_the_frame_into_the_result() -> None:
    msg = image_message(colour_blocks(240, 400), 0.0)
    small = decode_cropped(msg)
    assert small.flags.c_contiguous and not np.shares_memory(small, msg.data)
