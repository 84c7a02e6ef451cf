"""Rendered frames: deterministic, any order, and the road's bend visible in the crop band."""

from __future__ import annotations

import numpy as np
import pytest

from ncp_driver.preprocessing import crop_and_resize
from ncp_driver.synth import DriveConfig, Renderer, SynthError, render_frame, simulate_drive


@pytest.fixture(scope="module")
def drive():  # type: ignore[no-untyped-def]
    return simulate_drive(DriveConfig(seed=5, duration_s=60.0, height=302, width=480))


def test_frames_have_the_configured_size_and_are_deterministic(drive) -> None:  # type: ignore[no-untyped-def]
    frame = render_frame(drive, 10)
    assert frame.shape == (302, 480, 3) and frame.dtype == np.uint8
    other = Renderer(simulate_drive(drive.config))
    np.testing.assert_array_equal(other.render(10), frame)
    # Frames do not depend on the order they are drawn in.
    renderer = Renderer(drive)
    later = renderer.render(500)
    np.testing.assert_array_equal(renderer.render(10), frame)
    np.testing.assert_array_equal(Renderer(drive).render(500), later)
    assert not np.array_equal(later, frame)
    assert render_frame(drive, 3, size=(120, 192)).shape == (120, 192, 3)
    with pytest.raises(SynthError, match="outside"):
        renderer.render(drive.frame_count)


def test_sky_above_road_below_horizon(drive) -> None:  # type: ignore[no-untyped-def]
    frame = render_frame(drive, 0).astype(float)
    top, band = frame[:40], frame[round(0.49 * 302) : round(0.79 * 302)]
    assert top[..., 2].mean() > top[..., 1].mean()  # sky: blue dominates
    assert band.mean() < top.mean()  # the ground in the crop band is darker than the sky


def _road_centre(crop: np.ndarray, rows: slice) -> float:
    """Mean column of grey (asphalt-like) pixels in ``rows`` of a crop, -1..1 from the centre."""
    part = crop[rows].astype(float)
    grey = (part.max(axis=2) - part.min(axis=2)) < 18
    cols = np.nonzero(grey)[1]
    return float(cols.mean() / (crop.shape[1] - 1) * 2 - 1) if cols.size else 0.0


def test_curvature_bends_the_road_in_the_crop_band(drive) -> None:  # type: ignore[no-untyped-def]
    """Where the car turns left, the far road sits left of the near road, and vice versa.

    One crude feature of the 200 x 78 crop (far minus near road position) already tracks the
    label closely: what a model must learn is in the crop band.
    """
    renderer = Renderer(drive)
    frames = np.arange(0, drive.frame_count, 6)
    curvature = drive.camera.curvature[frames]
    bend = []
    for i in frames:
        crop = crop_and_resize(renderer.render(int(i)))
        bend.append(_road_centre(crop, slice(0, 20)) - _road_centre(crop, slice(50, 78)))
    strong = np.abs(curvature) > 0.015
    assert (curvature[strong] > 0).sum() >= 5 and (curvature[strong] < 0).sum() >= 5
    assert np.corrcoef(bend, curvature)[0, 1] < -0.7
    assert np.mean(np.sign(np.asarray(bend)[strong]) == -np.sign(curvature[strong])) > 0.85


def test_lighting_varies_over_the_drive(drive) -> None:  # type: ignore[no-untyped-def]
    renderer = Renderer(drive)
    means = [renderer.render(i)[: 302 // 3].mean() for i in range(0, drive.frame_count, 60)]
    assert max(means) - min(means) > 5  # the same sky, under changing global light
