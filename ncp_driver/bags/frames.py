"""Camera frames out of a bag: decoding, and sinks writing image files, one NPZ or one HDF5.

Frames are decoded by :mod:`ncp_driver.images` (every encoding the pipeline accepts), optionally
cropped and resized with the model's preprocessing. Sinks stream: one frame in memory at a time
(HDF5 in small batches); NPZ frames go to a scratch file and are packed into the archive at the end.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import cv2
import numpy as np

from ncp_driver.bags.errors import BagError
from ncp_driver.bags.series import stamp_text
from ncp_driver.images import ImageDecodeError, decode_cropped, decode_image, image_stamp
from ncp_driver.images.raw import message_bytes, raw_pixels
from ncp_driver.preprocessing import Preprocessing

__all__ = [
    "FRAME_FORMATS",
    "FrameSink",
    "H5Sink",
    "ImageFilesSink",
    "NpzSink",
    "decode_frame",
    "frame_sink",
]

FRAME_FORMATS = ("png", "jpg", "npz", "h5")


def decode_frame(message: Any, preprocessing: Preprocessing | None, reduce: int = 1) -> np.ndarray:
    """RGB uint8 frame of a camera message, cropped and resized when ``preprocessing`` is given."""
    if preprocessing is not None:
        return decode_cropped(message, preprocessing)
    return decode_image(message, reduce)


DEPTH_ENCODINGS = ("16UC1", "mono16")


def depth16(message: Any) -> np.ndarray | None:
    """A 16-bit single-channel Image (16UC1 depth, mono16) as H x W uint16 values, else None.

    The values are kept as they are (depth in mm for 16UC1), not reduced to 8 bits.
    """
    encoding = getattr(message, "encoding", None)
    if not isinstance(encoding, str) or encoding not in DEPTH_ENCODINGS:
        return None
    raw_pixels(message)  # validates size, step and data length (ImageDecodeError)
    height, width, step = int(message.height), int(message.width), int(message.step)
    plane = message_bytes(message.data).reshape(height, step)[:, : width * 2]
    order = ">u2" if bool(message.is_bigendian) else "<u2"
    return np.ascontiguousarray(plane).view(order).reshape(height, width).astype(np.uint16)


def header_stamp(message: Any) -> float:
    """The message's header stamp in seconds, or NaN if it has none."""
    try:
        return image_stamp(message)
    except ImageDecodeError:
        return float("nan")


class FrameSink(Protocol):
    """Where extracted frames go."""

    count: int

    def add(self, frame: np.ndarray, stamp_ns: int, header_stamp: float) -> None: ...

    def close(self) -> Path: ...

    def abort(self) -> None: ...


class ImageFilesSink:
    """One PNG or JPEG per frame in a folder, and ``index.csv`` (file, stamps, size)."""

    def __init__(self, folder: Path, ext: str, jpeg_quality: int = 95) -> None:
        self.folder = folder
        self.ext = ext
        self.params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if ext == "jpg" else []
        folder.mkdir(parents=True)
        self._index = (folder / "index.csv").open("w", encoding="utf-8", newline="")
        self._index.write("index,file,stamp,header_stamp,height,width\n")
        self.count = 0

    def add(self, frame: np.ndarray, stamp_ns: int, header_stamp: float) -> None:
        name = f"frame_{self.count:06d}.{self.ext}"
        image = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(str(self.folder / name), image, self.params):
            raise BagError(f"{self.folder / name}: OpenCV could not write the image (disk full?)")
        hs = "" if np.isnan(header_stamp) else repr(header_stamp)
        self._index.write(
            f"{self.count},{name},{stamp_text(stamp_ns)},{hs},{frame.shape[0]},{frame.shape[1]}\n"
        )
        self.count += 1

    def close(self) -> Path:
        self._index.close()
        return self.folder

    def abort(self) -> None:
        self._index.close()


class _Stamps:
    """Record and header stamps of the frames so far."""

    def __init__(self) -> None:
        self.stamp_ns: list[int] = []
        self.header: list[float] = []
        self.shape: tuple[int, ...] | None = None

    def add(self, path: Path, frame: np.ndarray, stamp_ns: int, header_stamp: float) -> None:
        if self.shape is None:
            self.shape = frame.shape
        elif frame.shape != self.shape:
            raise BagError(
                f"{path}: frame {len(self.stamp_ns)} is {frame.shape[1]}x{frame.shape[0]}, the "
                f"first was {self.shape[1]}x{self.shape[0]}: one array needs one size; extract "
                "to png/jpg, or crop and resize with --crop"
            )
        self.stamp_ns.append(int(stamp_ns))
        self.header.append(header_stamp)

    def arrays(self) -> dict[str, np.ndarray]:
        ns = np.asarray(self.stamp_ns, dtype=np.int64)
        return {
            "timestamp": ns.astype(np.float64) * 1e-9,
            "stamp_ns": ns,
            "header_stamp": np.asarray(self.header, dtype=np.float64),
        }


class NpzSink:
    """One ``.npz``: ``frames`` (N x H x W x 3 uint8), ``timestamp`` (s), ``stamp_ns``, ``header_stamp``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._scratch = path.with_name(path.name + ".frames")
        self._raw: BinaryIO = self._scratch.open("wb")
        self._stamps = _Stamps()
        self.count = 0

    def add(self, frame: np.ndarray, stamp_ns: int, header_stamp: float) -> None:
        self._stamps.add(self.path, frame, stamp_ns, header_stamp)
        self._raw.write(np.ascontiguousarray(frame).data)
        self.count += 1

    def close(self) -> Path:
        self._raw.close()
        shape = (self.count, *(self._stamps.shape or (0, 0, 3)))
        with zipfile.ZipFile(self.path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            with archive.open("frames.npy", "w", force_zip64=True) as entry:
                header = {"descr": "|u1", "fortran_order": False, "shape": shape}
                np.lib.format.write_array_header_1_0(entry, header)
                with self._scratch.open("rb") as raw:
                    shutil.copyfileobj(raw, entry, 16 << 20)
            for name, array in self._stamps.arrays().items():
                with archive.open(f"{name}.npy", "w") as entry:
                    np.lib.format.write_array(entry, array, allow_pickle=False)
        self._scratch.unlink()
        return self.path

    def abort(self) -> None:
        self._raw.close()
        self._scratch.unlink(missing_ok=True)


class H5Sink:
    """One HDF5 file in the drive layout without labels: ``camera_front``, ``timestamp`` (s),
    plus ``stamp_ns`` and ``header_stamp``."""

    BATCH = 32

    def __init__(self, path: Path) -> None:
        import h5py

        self.path = path
        self._file = h5py.File(path, "w")
        self._frames: Any = None
        self._batch: list[np.ndarray] = []
        self._stamps = _Stamps()
        self.count = 0

    def _flush(self) -> None:
        if not self._batch:
            return
        block = np.stack(self._batch)
        if self._frames is None:
            h, w, c = block.shape[1:]
            self._frames = self._file.create_dataset(
                "camera_front",
                shape=(0, h, w, c),
                maxshape=(None, h, w, c),
                dtype=np.uint8,
                chunks=(min(self.BATCH, 16), h, w, c),
            )
        start = self._frames.shape[0]
        self._frames.resize(start + len(block), axis=0)
        self._frames[start:] = block
        self._batch.clear()

    def add(self, frame: np.ndarray, stamp_ns: int, header_stamp: float) -> None:
        self._stamps.add(self.path, frame, stamp_ns, header_stamp)
        self._batch.append(frame)
        self.count += 1
        if len(self._batch) >= self.BATCH:
            self._flush()

    def close(self) -> Path:
        self._flush()
        if self._frames is None:
            self._file.create_dataset("camera_front", shape=(0, 0, 0, 3), dtype=np.uint8)
        for name, array in self._stamps.arrays().items():
            self._file.create_dataset(name, data=array)
        self._file.close()
        return self.path

    def abort(self) -> None:
        self._file.close()


def frame_sink(base: Path, fmt: str, jpeg_quality: int = 95) -> FrameSink:
    """A sink writing ``base`` (a folder for png/jpg, ``base.npz`` or ``base.h5`` otherwise)."""
    if fmt in ("png", "jpg"):
        return ImageFilesSink(base, fmt, jpeg_quality)
    if fmt == "npz":
        return NpzSink(base.with_name(base.name + ".npz"))
    if fmt == "h5":
        return H5Sink(base.with_name(base.name + ".h5"))
    raise BagError(f"frame format {fmt!r} is not one of {FRAME_FORMATS}")


def iter_frames(
    messages: Iterator[Any], preprocessing: Preprocessing | None, reduce: int = 1
) -> Iterator[tuple[Any, np.ndarray | None, str | None]]:
    """(message, frame or None, error or None) for bag messages of a camera topic."""
    for msg in messages:
        try:
            yield msg, decode_frame(msg.message, preprocessing, reduce), None
        except ImageDecodeError as exc:
            yield msg, None, str(exc)
