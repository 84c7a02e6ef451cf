"""``extract``: camera frames and small topics out of a bag, in one streamed pass.

Into one output folder (created atomically: complete, or not there at all):

===================  ========================================================================
``frames/``          ``frame_000000.png`` ... (or ``.jpg``) and ``index.csv``; or ``frames.npz``
                     / ``frames.h5`` (``frames``/``camera_front`` N x H x W x 3, ``timestamp``)
``gps.csv``          stamp, header_stamp, latitude, longitude, altitude, status, service,
                     covariance_type, covariance_0..8
``auto_mode.csv``    stamp, autonomous (0/1)
``steering.csv``     stamp, header_stamp, steering_angle, steering_angle_velocity, speed, ...
``odometry.csv``     stamp, header_stamp, position, orientation, linear and angular velocity
``imu.csv``          stamp, header_stamp, orientation, angular velocity, linear acceleration
===================  ========================================================================

``stamp`` is the record time in the bag (exact decimal seconds), ``header_stamp`` the message's
own stamp. With several cameras each gets ``frames_<topic>``.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ncp_driver.atomic import atomic_write_text
from ncp_driver.bags.errors import BagError, TopicError
from ncp_driver.bags.frames import (
    DEPTH_ENCODINGS,
    FRAME_FORMATS,
    FrameSink,
    decode_frame,
    depth16,
    frame_sink,
    header_stamp,
)
from ncp_driver.bags.output import atomic_dir
from ncp_driver.bags.reader import Recording
from ncp_driver.bags.series import SeriesKind, kind_for, message_row, resolve_kind, stamp_text
from ncp_driver.bags.topics import find_topic, find_topic_optional
from ncp_driver.images import ImageDecodeError
from ncp_driver.preprocessing import Preprocessing
from ncp_driver.schemas import PartialInput

__all__ = ["CSV_NAMES", "EXTRACT_KINDS", "ExtractPlan", "ExtractSummary", "extract", "plan_extract"]

EXTRACT_KINDS = ("frames", "gps", "auto", "steering", "odometry", "imu")
CSV_NAMES = {
    "gps": "gps.csv",
    "auto": "auto_mode.csv",
    "steering": "steering.csv",
    "odometry": "odometry.csv",
    "imu": "imu.csv",
}


@dataclass(frozen=True)
class ExtractPlan:
    """What to extract: camera topics and ``{topic: kind}`` of the CSV topics."""

    cameras: list[str]
    series: dict[str, str | SeriesKind]
    notes: list[str] = field(default_factory=list)


PARTIAL_INPUT_FILE = PartialInput.FILE  # written when the bag gave less than it declares


@dataclass
class ExtractSummary:
    """What ``extract`` wrote; ``to_json()`` gives the ``--json`` document."""

    output: Path
    outputs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped_messages: dict[str, int] = field(default_factory=dict)
    undecodable_frames: dict[str, int] = field(default_factory=dict)
    first_errors: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "outputs": self.outputs,
            "notes": self.notes,
            "skipped_messages": self.skipped_messages,
            "undecodable_frames": self.undecodable_frames,
            "first_errors": self.first_errors,
        }

    def table(self) -> str:
        lines = [f"wrote {self.output}/"]
        for item in self.outputs:
            lines.append(
                f"  {item['path']:<24} {item['count']:>8} {item['what']} from {item['topic']}"
            )
        lines += [f"note: {n}" for n in self.notes]
        for topic, n in sorted(self.skipped_messages.items()):
            lines.append(f"skipped {n} message(s) on {topic} that did not deserialise")
        for topic, n in sorted(self.undecodable_frames.items()):
            lines.append(
                f"skipped {n} frame(s) on {topic} that did not decode "
                f"(first: {self.first_errors.get(topic, '?')})"
            )
        return "\n".join(lines)


def plan_extract(
    recording: Recording,
    only: Sequence[str] = (),
    cameras: Sequence[str] = (),
    given: dict[str, str | None] | None = None,
) -> ExtractPlan:
    """Choose topics: the kinds in ``only`` must exist; otherwise every kind found is taken.

    Empty topics are an error when asked for explicitly, and left out with a note otherwise.
    """
    given = given or {}
    unknown = set(only) - set(EXTRACT_KINDS)
    if unknown:
        raise BagError(f"unknown kind(s) {sorted(unknown)}; choose from {', '.join(EXTRACT_KINDS)}")
    topics = recording.topics
    source = recording.describe()
    wanted = list(only) or list(EXTRACT_KINDS)
    notes: list[str] = []

    def usable(topic: str, kind: str, explicit: bool) -> bool:
        if topics[topic].msgcount > 0:
            return True
        if explicit:
            raise TopicError(
                f"{source}: topic {topic} ({kind}) has no messages; leave it out (--only) or "
                "choose another topic"
            )
        notes.append(f"{topic} ({kind}) has no messages: left out")
        return False

    chosen_cameras: list[str] = []
    if "frames" in wanted:
        explicit = "frames" in only or bool(cameras)
        if cameras:
            chosen_cameras = [find_topic(topics, "camera", c, source) for c in cameras]
        else:
            found = (find_topic if explicit else find_topic_optional)(
                topics, "camera", None, source
            )
            chosen_cameras = [found] if found else []
            if not found:
                notes.append("no camera topic (Image or CompressedImage): no frames")
        chosen_cameras = [c for c in chosen_cameras if usable(c, "camera", explicit)]
    series: dict[str, str | SeriesKind] = {}
    for kind in wanted:
        if kind == "frames":
            continue
        explicit = kind in only or bool(given.get(kind))
        finder = find_topic if explicit else find_topic_optional
        topic = finder(topics, kind, given.get(kind), source)
        if topic is None:
            notes.append(f"no {kind} topic: {CSV_NAMES[kind]} not written")
            continue
        if topic in series or topic in chosen_cameras:
            raise TopicError(f"{source}: topic {topic} was chosen for two roles; name them apart")
        if usable(topic, kind, explicit):
            series[topic] = kind_for(kind, given.get(kind))
    if not chosen_cameras and not series:
        raise TopicError(
            f"{source}: nothing to extract (no camera, GPS, auto-mode, steering, odometry or IMU "
            f"topic with messages); its topics: {recording.topic_list()}"
        )
    return ExtractPlan(chosen_cameras, series, notes)


def _frames_name(topic: str, several: bool) -> str:
    if not several:
        return "frames"
    return "frames_" + re.sub(r"[^A-Za-z0-9]+", "_", topic).strip("_")


def _cell(value: float, integer: bool) -> str:
    if value != value:  # NaN: a field the message does not have
        return ""
    return str(int(value)) if integer else repr(float(value))


class _CsvSink:
    def __init__(self, path: Path, kind: str | SeriesKind) -> None:
        self.path = path
        self.kind = resolve_kind(kind)
        self._stream: TextIO = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._stream, lineterminator="\n")
        self._writer.writerow(("stamp", *self.kind.columns))
        self._integer = [c in self.kind.integer_columns for c in self.kind.columns]
        self._header = self.kind.has_header
        self.count = 0

    def add(self, topic: str, stamp_ns: int, message: Any) -> None:
        row = message_row(self.kind, topic, message)
        cells = [stamp_text(stamp_ns)]
        values: Iterable[Any] = row
        if self._header:
            cells.append("" if row[0] is None else stamp_text(int(row[0])))
            values = row[1:]
        cells += [
            _cell(float(v), i) for v, i in zip(values, self._integer[self._header :], strict=True)
        ]
        self._writer.writerow(cells)
        self.count += 1

    def close(self) -> None:
        self._stream.close()


def extract(
    recording: Recording,
    plan: ExtractPlan,
    out_dir: Path,
    frames_format: str = "png",
    preprocessing: Preprocessing | None = None,
    reduce: int = 1,
    jpeg_quality: int = 95,
    force: bool = False,
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
) -> ExtractSummary:
    """Write the plan's topics into ``out_dir`` (atomically) in one pass over the bag."""
    if frames_format not in FRAME_FORMATS:
        raise BagError(f"frame format {frames_format!r} is not one of {', '.join(FRAME_FORMATS)}")
    summary = ExtractSummary(output=out_dir, notes=list(plan.notes))
    undecodable: Counter[str] = Counter()
    keep_depth = frames_format == "png" and preprocessing is None and reduce == 1
    depth_topics: set[str] = set()
    with atomic_dir(out_dir, force) as tmp:
        sinks: dict[str, FrameSink] = {}
        csvs: dict[str, _CsvSink] = {}
        try:
            for camera in plan.cameras:
                name = _frames_name(camera, len(plan.cameras) > 1)
                sinks[camera] = frame_sink(tmp / name, frames_format, jpeg_quality)
            for topic, kind in plan.series.items():
                csvs[topic] = _CsvSink(tmp / CSV_NAMES[resolve_kind(kind).name], kind)
            topics = [*plan.cameras, *plan.series]
            stream: Iterable[Any] = recording.messages(topics)
            if progress is not None:
                stream = progress(stream, recording.count(topics))
            for msg in stream:
                sink = sinks.get(msg.topic)
                if sink is not None:
                    try:
                        frame = None
                        if keep_depth:
                            frame = depth16(msg.message)
                            if frame is not None and msg.topic not in depth_topics:
                                depth_topics.add(msg.topic)
                                summary.notes.append(
                                    f"{msg.topic}: {msg.message.encoding} frames written as "
                                    "16-bit single-channel PNGs with their values unchanged "
                                    "(viewers show them dark; read them with "
                                    "cv2.imread(path, cv2.IMREAD_UNCHANGED))"
                                )
                        elif msg.topic not in depth_topics and _is_depth(msg.message):
                            depth_topics.add(msg.topic)
                            summary.notes.append(
                                f"{msg.topic}: {msg.message.encoding} frames reduced to 8 bits "
                                "(their high byte): extract with --format png and no --crop/"
                                "--model/--reduce to keep all 16 bits"
                            )
                        if frame is None:
                            frame = decode_frame(msg.message, preprocessing, reduce)
                    except ImageDecodeError as exc:
                        undecodable[msg.topic] += 1
                        summary.first_errors.setdefault(msg.topic, str(exc))
                        continue
                    sink.add(frame, msg.stamp_ns, header_stamp(msg.message))
                    continue
                try:
                    csvs[msg.topic].add(msg.topic, msg.stamp_ns, msg.message)
                except (TypeError, ValueError, ImageDecodeError) as exc:
                    recording.skipped[msg.topic] += 1
                    recording.skip_reasons.setdefault(msg.topic, f"{type(exc).__name__}: {exc}")
            integrity = recording.integrity()
            if not integrity["complete"]:  # the folder itself says it holds partial input
                atomic_write_text(
                    tmp / PARTIAL_INPUT_FILE, PartialInput.from_integrity(integrity).dumps()
                )
                summary.notes.append(
                    f"partial input: {PARTIAL_INPUT_FILE} lists the messages the bag lost"
                )
            for camera, sink in sinks.items():
                path = sink.close()
                what = "frames" + (" (cropped)" if preprocessing else "")
                summary.outputs.append(
                    {"what": what, "topic": camera, "path": path.name, "count": sink.count}
                )
            for topic, csv_sink in csvs.items():
                csv_sink.close()
                summary.outputs.append(
                    {
                        "what": f"{csv_sink.kind.name} rows",
                        "topic": topic,
                        "path": csv_sink.path.name,
                        "count": csv_sink.count,
                    }
                )
        except BaseException:
            for sink in sinks.values():
                sink.abort()
            for csv_sink in csvs.values():
                csv_sink.close()
            raise
    summary.skipped_messages = dict(recording.skipped)
    summary.first_errors.update(
        {t: r for t, r in recording.skip_reasons.items() if t not in summary.first_errors}
    )
    summary.undecodable_frames = dict(undecodable)
    return summary


def _is_depth(message: Any) -> bool:
    return getattr(message, "encoding", None) in DEPTH_ENCODINGS
