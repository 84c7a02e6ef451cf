"""THE preprocessing: crop box, resize, scale, metadata round trip."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ncp_driver.errors import PreprocessingError
from ncp_driver.preprocessing import (
    PAPER_PREPROCESSING,
    Preprocessing,
    crop_and_resize,
    preprocess,
    to_model_input,
)


def test_paper_crop_box_on_the_paper_frame() -> None:
    box = PAPER_PREPROCESSING.crop_box(1208, 1920)
    assert (box.x0, box.x1, box.y0, box.y1) == (520, 1440, 590, 950)
    assert (box.width, box.height) == (920, 360)


def test_crop_box_scales_with_resolution() -> None:
    box = PAPER_PREPROCESSING.crop_box(604, 960)  # half the paper's frame
    assert (box.x0, box.x1, box.y0, box.y1) == (260, 720, 295, 475)


def test_crop_and_resize_takes_the_band_and_keeps_rgb() -> None:
    frame = np.zeros((1208, 1920, 3), np.uint8)
    frame[590:950, 520:1440] = (10, 200, 30)  # only the crop band is coloured
    out = crop_and_resize(frame)
    assert out.shape == (78, 200, 3) and out.dtype == np.uint8
    assert np.all(out == (10, 200, 30))


def test_crop_and_resize_equals_opencv_linear_on_the_crop() -> None:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    box = PAPER_PREPROCESSING.crop_box(720, 1280)
    expected = cv2.resize(
        frame[box.y0 : box.y1, box.x0 : box.x1], (200, 78), interpolation=cv2.INTER_LINEAR
    )
    np.testing.assert_array_equal(crop_and_resize(frame), expected)


def test_preprocessed_frames_pass_through_unchanged() -> None:
    frame = np.full((78, 200, 3), 7, np.uint8)
    assert crop_and_resize(frame) is frame


def test_model_input_is_scaled_float32() -> None:
    image = np.full((78, 200, 3), 255, np.uint8)
    out = to_model_input(image)
    assert out.dtype == np.float32 and np.allclose(out, 1.0)
    batch = np.zeros((4, 78, 200, 3), np.uint8)
    assert to_model_input(batch).shape == (4, 78, 200, 3)
    assert preprocess(np.zeros((1208, 1920, 3), np.uint8)).shape == (78, 200, 3)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (np.zeros((100, 100), np.uint8), "H x W x 3"),
        (np.zeros((100, 100, 3), np.float32), "uint8"),
    ],
)
def test_bad_frames_are_refused_with_the_reason(frame: np.ndarray, match: str) -> None:
    with pytest.raises(PreprocessingError, match=match):
        crop_and_resize(frame)


def test_a_frame_too_small_for_the_crop_is_refused() -> None:
    narrow = Preprocessing(crop_x0=0.5, crop_x1=0.51)
    with pytest.raises(PreprocessingError, match="too small"):
        crop_and_resize(np.zeros((10, 10, 3), np.uint8), narrow)


def test_bad_specs_are_refused() -> None:
    with pytest.raises(PreprocessingError, match="fractions"):
        Preprocessing(crop_x0=0.8, crop_x1=0.2)
    with pytest.raises(PreprocessingError, match="interpolation"):
        Preprocessing(interpolation="lanczos9")


def test_spec_round_trips_through_json_and_rejects_unknown_fields() -> None:
    spec = Preprocessing(crop_y0=0.4, out_width=100, out_height=40, interpolation="area")
    assert Preprocessing.from_json(spec.to_json()) == spec
    with pytest.raises(PreprocessingError, match="newer ncp_driver"):
        Preprocessing.from_dict({**spec.to_dict(), "gamma": 2.2})
    with pytest.raises(PreprocessingError, match="JSON"):
        Preprocessing.from_json("{not json")
