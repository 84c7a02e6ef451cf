"""Writing a drive: ROS 2 bag (a sqlite3 folder or one MCAP file), ROS 1 bag, or HDF5 (paper layout).

Frames are rendered one at a time while writing, so memory stays bounded whatever the
length. Bags go through :class:`ncp_driver.bags.writer.BagWriter` (MCAP: the project's one MCAP
writer, :mod:`ncp_driver.bags.mcap_writer`). Outputs appear complete or not at all: a bag is
written under a hidden temporary name beside the target and moved into place at the end; an
existing output is replaced only with ``force``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ncp_driver.drives import FRAMES, DriveWriter
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing, crop_and_resize
from ncp_driver.synth.errors import SynthError
from ncp_driver.synth.messages import drive_messages, stream_specs
from ncp_driver.synth.render import Renderer
from ncp_driver.synth.simulate import Drive

if TYPE_CHECKING:  # rosbags is imported only when a bag is written
    from ncp_driver.bags.writer import BagWriter

__all__ = [
    "ROS2_STORAGES",
    "Written",
    "write_ros1_bag",
    "write_ros2_bag",
    "write_training_h5",
]

ROS2_STORAGES = ("sqlite3", "mcap", "mcap-folder")


@dataclass(frozen=True)
class Written:
    """What was written: the output path and the message (or frame) count per topic (or key)."""

    path: Path
    counts: dict[str, int] = field(default_factory=dict)


def _check_new(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise SynthError(f"{path} exists already: choose another output or pass --force")


def _progress(total: int, enabled: bool, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="frame", leave=False)


def _renderer(drive: Drive, renderer: Renderer | None) -> Renderer:
    if renderer is not None and renderer.drive is not drive:
        raise SynthError("the renderer was made for another drive: pass Renderer(drive)")
    return renderer or Renderer(drive)


@contextlib.contextmanager
def _rendered_ahead(renderer: Renderer, count: int) -> Iterator[Callable[[int], np.ndarray]]:
    """``render(i)`` for i = 0, 1, ... in order, drawing the next frame in a worker thread.

    Rendering (NumPy, OpenCV) and writing (serialisation, sqlite, disk) release the GIL, so
    they overlap on two cores. One worker only: a Renderer reuses its buffers.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ncp-synth-render")
    pending: dict[int, Future[np.ndarray]] = {}

    def render(i: int) -> np.ndarray:
        future = pending.pop(i, None) or pool.submit(renderer.render, i)
        if i + 1 < count:
            pending[i + 1] = pool.submit(renderer.render, i + 1)
        return future.result()

    try:
        yield render
    finally:
        for future in pending.values():
            future.cancel()
        pool.shutdown(wait=True)


def _write_bag(
    drive: Drive,
    bag: BagWriter,
    compressed: bool,
    encoding: str,
    jpeg_quality: int,
    renderer: Renderer | None,
    progress: bool,
) -> Written:
    specs = stream_specs(drive, compressed)
    counts = {spec.topic: 0 for spec in specs}
    camera_topic = specs[0].topic
    with (
        bag,
        _rendered_ahead(_renderer(drive, renderer), drive.frame_count) as render,
        _progress(drive.frame_count, progress, "frames") as bar,
    ):
        messages = drive_messages(drive, bag.typestore, render, compressed, encoding, jpeg_quality)
        for message in messages:
            bag.write(message.topic, message.msgtype, message.stamp_ns, message.msg)
            counts[message.topic] += 1
            if message.topic == camera_topic:
                bar.update(1)
    return Written(bag.path, counts)


def write_ros2_bag(
    drive: Drive,
    path: Path,
    storage: str = "sqlite3",
    compressed: bool = False,
    encoding: str = "rgb8",
    jpeg_quality: int = 90,
    force: bool = False,
    progress: bool = False,
    version: int = 9,
    renderer: Renderer | None = None,
) -> Written:
    """Write ``drive`` as a ROS 2 bag: ``storage`` "sqlite3" (a rosbag2 folder), "mcap" (one
    ``.mcap`` file) or "mcap-folder" (a rosbag2 folder with MCAP storage)."""
    if storage not in ROS2_STORAGES:
        raise SynthError(f"storage {storage!r} must be one of {list(ROS2_STORAGES)}")
    if storage == "mcap" and Path(path).suffix != ".mcap":
        raise SynthError(
            f"{path}: an MCAP bag is one file whose name ends in .mcap "
            f"(e.g. {Path(path).with_suffix('.mcap').name})"
        )
    if version not in (8, 9):
        raise SynthError(f"rosbag2 version {version} must be 8 or 9 (what rosbags writes)")
    path = Path(path)
    _check_new(path, force)
    from ncp_driver.bags.writer import BagWriter

    bag = BagWriter(path, storage, force=force, version=version)
    return _write_bag(drive, bag, compressed, encoding, jpeg_quality, renderer, progress)


def write_ros1_bag(
    drive: Drive,
    path: Path,
    compressed: bool = False,
    encoding: str = "rgb8",
    jpeg_quality: int = 90,
    force: bool = False,
    progress: bool = False,
    renderer: Renderer | None = None,
) -> Written:
    """Write ``drive`` as a ROS 1 bag file (``.bag``; ROS 1 Noetic message definitions)."""
    path = Path(path)
    if path.suffix != ".bag":
        raise SynthError(f"{path}: a ROS 1 bag must end in .bag (readers pick the format by it)")
    _check_new(path, force)
    from ncp_driver.bags.writer import BagWriter

    bag = BagWriter(path, "rosbag1", force=force)
    return _write_bag(drive, bag, compressed, encoding, jpeg_quality, renderer, progress)


def write_training_h5(
    drive: Drive,
    path: Path,
    preprocessed: bool = False,
    spec: Preprocessing = PAPER_PREPROCESSING,
    force: bool = False,
    progress: bool = False,
    renderer: Renderer | None = None,
) -> Written:
    """Write ``drive`` in the paper's HDF5 layout (``ncp_driver.drives``).

    ``camera_front`` holds full frames, or with ``preprocessed`` the model's input crops
    (``spec``: THE crop band, resized to 200 x 78); ``inverse_r`` the driven curvature.
    Takeovers and the generator's settings are stored as attributes.
    """
    path = Path(path)
    _check_new(path, force)
    cfg = drive.config
    shape = spec.input_shape if preprocessed else (cfg.height, cfg.width, 3)
    if renderer is not None and not preprocessed:
        shape = (renderer.height, renderer.width, 3)
    cam = drive.camera
    with DriveWriter(path, shape, force=force) as writer:
        writer.set_attrs(
            source="ncp_driver.synth",
            synth_config=json.dumps(cfg.to_dict(), sort_keys=True),
            preprocessed=preprocessed,
            preprocessing=spec.to_json(),
            label="inverse_r: curvature driven, 1/m, positive = left (REP 103)",
            takeover_stamps_ns=np.asarray(drive.takeover_stamps_ns, dtype=np.int64),
            takeover_stamps=drive.takeover_stamps,
        )
        with (
            _rendered_ahead(_renderer(drive, renderer), drive.frame_count) as render,
            _progress(drive.frame_count, progress, "frames") as bar,
        ):
            for i in range(drive.frame_count):
                frame = render(i)
                if preprocessed:
                    frame = crop_and_resize(frame, spec)
                writer.append(frame, float(cam.stamps_ns[i]) * 1e-9, float(cam.curvature[i]))
                bar.update(1)
    return Written(path, {FRAMES: drive.frame_count})
