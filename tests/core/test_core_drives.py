"""Drive files: the paper's HDF5 layout, written atomically."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from ncp_driver.drives import FRAMES, INVERSE_R, TIMESTAMP, DriveFileError, DriveWriter, write_drive


def test_written_drive_has_the_paper_layout(tmp_path: Path) -> None:
    frames = [np.full((78, 200, 3), i, np.uint8) for i in range(5)]
    path = write_drive(
        tmp_path / "d.h5", frames, np.arange(5) * 0.1, np.linspace(-0.01, 0.01, 5), source="test"
    )
    with h5py.File(path) as f:
        assert f[FRAMES].shape == (5, 78, 200, 3) and f[FRAMES].dtype == np.uint8
        assert f[TIMESTAMP].dtype == np.float64 and f[INVERSE_R].shape == (5, 1)
        assert f[FRAMES][3, 0, 0, 0] == 3
        np.testing.assert_allclose(f[INVERSE_R][:, 0], np.linspace(-0.01, 0.01, 5), rtol=1e-6)
        assert f.attrs["source"] == "test"


def test_existing_file_is_not_overwritten_without_force(tmp_path: Path) -> None:
    path = tmp_path / "d.h5"
    path.write_bytes(b"precious")
    with pytest.raises(DriveFileError, match="force"):
        write_drive(path, [np.zeros((78, 200, 3), np.uint8)], [0.0], [0.0])
    assert path.read_bytes() == b"precious"
    write_drive(path, [np.zeros((78, 200, 3), np.uint8)], [0.0], [0.0], force=True)
    assert h5py.is_hdf5(path)


def test_an_interrupted_write_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "d.h5"
    with pytest.raises(DriveFileError), DriveWriter(path, (78, 200, 3)) as writer:
        writer.append(np.zeros((78, 200, 3), np.uint8), 0.0, 0.0)
        writer.append(np.zeros((10, 10, 3), np.uint8), 0.1, 0.0)  # wrong shape: aborts
    assert list(tmp_path.iterdir()) == []


def test_full_size_frames_are_chunked_one_per_chunk(tmp_path: Path) -> None:
    """A 1208 x 1920 frame is 7 MB: chunks of 16 would be 111 MB each."""
    frames = [np.zeros((1208, 1920, 3), np.uint8), np.ones((1208, 1920, 3), np.uint8)]
    path = write_drive(tmp_path / "full.h5", frames, [0.0, 0.1], [0.0, 0.0])
    with h5py.File(path) as f:
        assert f[FRAMES].chunks == (1, 1208, 1920, 3)
        assert f[FRAMES][1].max() == 1
    small = write_drive(tmp_path / "small.h5", [np.zeros((78, 200, 3), np.uint8)], [0.0], [0.0])
    with h5py.File(small) as f:
        assert f[FRAMES].chunks == (16, 78, 200, 3)
