"""Reading drive files: validation errors, sequence windows, cropping, protocols."""

from __future__ import annotations

import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest

from ncp_driver.drives import (
    FRAMES,
    INVERSE_R,
    TIMESTAMP,
    elapsed_times,
    find_drive_files,
    median_frame_period,
    open_drive,
    sequence_windows,
)
from ncp_driver.preprocessing import PAPER_PREPROCESSING, crop_and_resize
from ncp_driver.training.data import SequenceDataset, Window
from ncp_driver.training.errors import DriveDataError, TrainingConfigError
from ncp_driver.training.protocols import active_split, passive_split, validation_margin
from ncp_driver.training.synthetic import write_synthetic_drive


def raw_drive(
    path: Path,
    frames: np.ndarray | None = None,
    stamps: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    skip: str | None = None,
) -> Path:
    """A drive file written directly with h5py, to hold what the writer would refuse."""
    n = 20
    data = {
        FRAMES: np.zeros((n, 78, 200, 3), np.uint8) if frames is None else frames,
        TIMESTAMP: np.arange(n) / 30.0 if stamps is None else stamps,
        INVERSE_R: np.zeros((n, 1)) if labels is None else labels,
    }
    with h5py.File(path, "w") as handle:
        for key, value in data.items():
            if key != skip:
                handle[key] = value
    return path


@pytest.mark.parametrize("key", [FRAMES, TIMESTAMP, INVERSE_R])
def test_missing_key_names_the_file_and_the_key(tmp_path: Path, key: str) -> None:
    path = raw_drive(tmp_path / "drive.h5", skip=key)
    with pytest.raises(DriveDataError, match=rf"drive\.h5: key '{key}' is missing"):
        open_drive(path)


@pytest.mark.parametrize("key", [TIMESTAMP, INVERSE_R])
def test_lengths_that_differ(tmp_path: Path, key: str) -> None:
    short = {TIMESTAMP: np.arange(19) / 30.0, INVERSE_R: np.zeros(19)}
    kwargs = {"stamps" if key == TIMESTAMP else "labels": short[key]}
    path = raw_drive(tmp_path / "drive.h5", **kwargs)
    with pytest.raises(DriveDataError, match=rf"drive\.h5: key '{key}' has 19 entries but"):
        open_drive(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_labels(tmp_path: Path, bad: float) -> None:
    labels = np.zeros(20)
    labels[7] = bad
    path = raw_drive(tmp_path / "drive.h5", labels=labels)
    with pytest.raises(DriveDataError, match=r"drive\.h5: key 'inverse_r' .* at index 7"):
        open_drive(path)


def test_nan_stamps(tmp_path: Path) -> None:
    stamps = np.arange(20) / 30.0
    stamps[3] = np.nan
    path = raw_drive(tmp_path / "drive.h5", stamps=stamps)
    with pytest.raises(DriveDataError, match=r"key 'timestamp' .* at index 3"):
        open_drive(path)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((20, 78, 200, 4), np.uint8), r"shape \(20, 78, 200, 4\); expected N x H x W x 3"),
        (np.zeros((20, 78, 200), np.uint8), r"expected N x H x W x 3"),
        (np.zeros((20, 78, 200, 3), np.float32), r"dtype float32; expected integer pixels"),
        (np.zeros((20, 78, 200, 1), np.uint8), r"expected N x H x W x 3"),
        (np.zeros((20, 78, 200, 3), bool), r"dtype bool; expected integer pixels"),
    ],
)
def test_frames_of_the_wrong_shape_or_dtype(
    tmp_path: Path, frames: np.ndarray, message: str
) -> None:
    path = raw_drive(tmp_path / "drive.h5", frames=frames)
    with pytest.raises(DriveDataError, match=rf"drive\.h5: key 'camera_front'.*{message}"):
        open_drive(path)


def test_labels_of_the_wrong_shape(tmp_path: Path) -> None:
    path = raw_drive(tmp_path / "drive.h5", labels=np.zeros((20, 2)))
    with pytest.raises(DriveDataError, match=r"key 'inverse_r' has shape \(20, 2\)"):
        open_drive(path)


def test_not_an_hdf5_file(tmp_path: Path) -> None:
    path = tmp_path / "drive.h5"
    path.write_text("not hdf5")
    with pytest.raises(DriveDataError, match=r"drive\.h5: cannot be opened as HDF5"):
        open_drive(path)


def test_empty_directory_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no drives here")
    with pytest.raises(DriveDataError, match=rf"{tmp_path.name}: no drive files"):
        find_drive_files([tmp_path])
    with pytest.raises(DriveDataError, match="no such file or directory"):
        find_drive_files([tmp_path / "absent"])
    with pytest.raises(DriveDataError, match="no drive files or directories were given"):
        find_drive_files([])


def test_integer_frames_and_column_labels_are_accepted(tmp_path: Path) -> None:
    frames = np.full((20, 78, 200, 3), 300, np.int64)  # out of range values are clipped
    frames[:, :, :100] = 7
    path = raw_drive(tmp_path / "drive.h5", frames=frames, labels=np.full((20, 1), 0.01))
    info = open_drive(path)
    assert info.length == 20 and info.inverse_r.shape == (20,)
    dataset = SequenceDataset([info], [Window(0, 2, 4)], 1 / 30, target_scale=1000.0)
    images, elapsed, target = dataset[0]
    assert images.dtype.is_floating_point is False and images.shape == (4, 78, 200, 3)
    assert int(images[0, 0, 0, 0]) == 7 and int(images[0, 0, 150, 0]) == 255
    assert np.allclose(target.numpy(), 10.0)
    assert np.allclose(elapsed.numpy(), 1 / 30, atol=1e-6)


def test_full_frames_go_through_the_cars_crop_and_resize(tmp_path: Path) -> None:
    path = write_synthetic_drive(tmp_path / "full.h5", frames=24, frame_shape=(302, 480))
    info = open_drive(path)
    assert info.frame_shape == (302, 480, 3)
    dataset = SequenceDataset([info], [Window(0, 5, 16)], 1 / 30)
    images = dataset[0][0].numpy()
    with h5py.File(path) as handle:
        raw = handle[FRAMES][5:21]
    expected = np.stack([crop_and_resize(frame, PAPER_PREPROCESSING) for frame in raw])
    assert np.array_equal(images, expected)


def test_dataset_pickles_without_open_handles(tmp_path: Path) -> None:
    info = open_drive(write_synthetic_drive(tmp_path / "d.h5", frames=32))
    dataset = SequenceDataset([info], [Window(0, 0, 16), Window(0, 16, 16)], 1 / 30)
    first = dataset[1][0]
    clone = pickle.loads(pickle.dumps(dataset))  # what a DataLoader worker receives
    assert clone._handles == {}
    assert np.array_equal(clone[1][0].numpy(), first.numpy())
    dataset.close()


def test_shadow_augmentation_is_seeded_and_changes_frames(tmp_path: Path) -> None:
    info = open_drive(write_synthetic_drive(tmp_path / "d.h5", frames=16))
    plain = SequenceDataset([info], [Window(0, 0, 16)], 1 / 30)[0][0]
    shaded = SequenceDataset([info], [Window(0, 0, 16)], 1 / 30, shadow_gamma=1.0, seed=3)
    again = SequenceDataset([info], [Window(0, 0, 16)], 1 / 30, shadow_gamma=1.0, seed=3)
    assert np.array_equal(shaded[0][0].numpy(), again[0][0].numpy())
    assert not np.array_equal(shaded[0][0].numpy(), plain.numpy())
    shaded.set_epoch(1)
    assert not np.array_equal(shaded[0][0].numpy(), again[0][0].numpy())


def test_windows_with_a_gap_of_five_seconds_are_rejected() -> None:
    stamps = np.arange(64) / 30.0
    stamps[40:] += 5.0  # gap between frames 39 and 40
    starts = sequence_windows(stamps, 16, 16, max_gap_s=5.0)
    assert starts == [0, 16, 48]
    stamps_small_gap = np.arange(64) / 30.0
    stamps_small_gap[40:] += 4.9
    assert sequence_windows(stamps_small_gap, 16, 16) == [0, 16, 32, 48]
    backwards = np.arange(64) / 30.0
    backwards[20] = 0.0
    assert sequence_windows(backwards, 16, 16) == [0, 32, 48]  # time ran backwards in 16..31


def test_elapsed_times_and_frame_period(tmp_path: Path) -> None:
    stamps = np.array([0.0, 0.1, 0.2, 0.4, 0.40001, 5.0])
    elapsed = elapsed_times(stamps, 0.1)
    assert np.allclose(elapsed, [0.1, 0.1, 0.1, 0.2, 0.01, 1.0])
    drive = open_drive(write_synthetic_drive(tmp_path / "d.h5", frames=30, frame_period_s=0.05))
    assert median_frame_period([drive]) == pytest.approx(0.05, rel=1e-5)


def test_passive_split_by_file_with_validation_at_both_ends(tmp_path: Path) -> None:
    files = [tmp_path / f"drive{i}.h5" for i in range(4)]
    split = passive_split(files, [320, 320, 320, 100], fold=1, folds=10)
    assert split.test_files == [files[1]]
    assert [s.path for s in split.train] == [files[0], files[2], files[3]]
    first = split.train[0]
    assert (first.first, first.stop) == (16, 304)  # 5 % of 320 = 16 frames at each end
    assert [(s.first, s.stop) for s in split.val[:2]] == [(0, 16), (304, 320)]
    assert validation_margin(1000, 0.05, 16) == 48  # 50 frames rounded to a multiple of 16
    assert validation_margin(40, 0.05, 16) == 0  # too short to spare a sequence
    with pytest.raises(TrainingConfigError, match="fold 5 holds no test file"):
        passive_split(files, [320] * 4, fold=5)
    with pytest.raises(TrainingConfigError, match="out of range"):
        passive_split(files, [320] * 4, fold=10)


def test_active_split_keeps_training_and_validation_apart(tmp_path: Path) -> None:
    drive = tmp_path / "a.h5"
    with pytest.raises(TrainingConfigError, match="both a training and a validation drive"):
        active_split([drive], [drive])
    with pytest.raises(TrainingConfigError, match="needs validation drives"):
        active_split([drive], [])
