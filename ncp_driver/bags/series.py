"""Small topics (GPS, auto flag, steering, odometry, IMU) as rows or as numpy series.

Each kind maps a message to a fixed row of numbers (:data:`KINDS`). Rows can be streamed
(:func:`iter_rows`, used for CSV export: no memory growth) or collected into compact numpy arrays
(:func:`load_series`, used by the analyses). Every row carries the message's record time in the
bag (``stamp_ns``); messages with a header also give ``header_stamp`` (s).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.bags.errors import BagError, TopicError
from ncp_driver.bags.reader import Recording
from ncp_driver.bags.topics import find_topic, find_topic_optional, split_field
from ncp_driver.images.errors import ImageDecodeError
from ncp_driver.images.stamps import stamp_ns as header_time_ns
from ncp_driver.runtime.speed import message_speed

__all__ = [
    "KINDS",
    "Series",
    "SeriesKind",
    "field_kind",
    "iter_rows",
    "kind_for",
    "load_auto_and_gps",
    "load_roles",
    "load_series",
    "message_row",
    "require_messages",
    "resolve_kind",
    "stamp_text",
    "valid_fixes",
]


def _stamp(header: Any) -> int:
    """A header stamp in integer nanoseconds (rows carry it exactly; series hold seconds);
    :class:`ImageDecodeError` for a damaged one (the one stamp parser, ``images.stamps``)."""
    return header_time_ns(header.stamp)


Row = tuple[Any, ...]


def _gps_row(m: Any) -> Row:
    return (
        _stamp(m.header),
        m.latitude,
        m.longitude,
        m.altitude,
        m.status.status,
        m.status.service,
        m.position_covariance_type,
        *(float(v) for v in m.position_covariance),
    )


def _auto_row(m: Any) -> Row:
    return (float(bool(m.data)),)


def _steering_row(m: Any) -> Row:
    drive = getattr(m, "drive", m)
    header = getattr(m, "header", None)
    return (
        _stamp(header) if header is not None else None,
        drive.steering_angle,
        drive.steering_angle_velocity,
        drive.speed,
        drive.acceleration,
        drive.jerk,
    )


def _speed_row(m: Any) -> Row:
    return (message_speed(m),)


def _odometry_row(m: Any) -> Row:
    p = m.pose.pose.position
    q = m.pose.pose.orientation
    v = m.twist.twist.linear
    w = m.twist.twist.angular
    return (_stamp(m.header), p.x, p.y, p.z, q.x, q.y, q.z, q.w, v.x, v.y, v.z, w.x, w.y, w.z)


def _imu_row(m: Any) -> Row:
    q = m.orientation
    w = m.angular_velocity
    a = m.linear_acceleration
    return (_stamp(m.header), q.x, q.y, q.z, q.w, w.x, w.y, w.z, a.x, a.y, a.z)


@dataclass(frozen=True)
class SeriesKind:
    """A message kind: its column names and how a message becomes a row.

    A ``header_stamp`` column comes first in a row as integer nanoseconds (None if the message
    has no header); in a :class:`Series` it is seconds (NaN if absent).
    """

    name: str
    columns: tuple[str, ...]
    row: Callable[[Any], Row]
    integer_columns: frozenset[str] = field(default_factory=frozenset)

    @property
    def has_header(self) -> bool:
        return self.columns[0] == "header_stamp"

    def numeric(self, row: Row) -> tuple[float, ...]:
        """The row with the header stamp in seconds (NaN if absent)."""
        if not self.has_header:
            return row
        head = math.nan if row[0] is None else row[0] * 1e-9
        return (head, *row[1:])


KINDS: dict[str, SeriesKind] = {
    kind.name: kind
    for kind in (
        SeriesKind(
            "gps",
            (
                "header_stamp",
                "latitude",
                "longitude",
                "altitude",
                "status",
                "service",
                "covariance_type",
                *(f"covariance_{i}" for i in range(9)),
            ),
            _gps_row,
            frozenset({"status", "service", "covariance_type"}),
        ),
        SeriesKind("auto", ("autonomous",), _auto_row, frozenset({"autonomous"})),
        SeriesKind(
            "steering",
            (
                "header_stamp",
                "steering_angle",
                "steering_angle_velocity",
                "speed",
                "acceleration",
                "jerk",
            ),
            _steering_row,
        ),
        SeriesKind(
            "odometry",
            (
                "header_stamp",
                "x",
                "y",
                "z",
                "qx",
                "qy",
                "qz",
                "qw",
                "vx",
                "vy",
                "vz",
                "wx",
                "wy",
                "wz",
            ),
            _odometry_row,
        ),
        SeriesKind("speed", ("speed",), _speed_row),  # the car's definition (runtime.speed)
        SeriesKind(
            "imu",
            ("header_stamp", "qx", "qy", "qz", "qw", "wx", "wy", "wz", "ax", "ay", "az"),
            _imu_row,
        ),
    )
}


def _getter(path: str) -> Callable[[Any], Any]:
    parts = path.split(".")

    def get(message: Any) -> Any:
        for part in parts:
            message = getattr(message, part)
        return message

    return get


def field_kind(role: str, field_path: str) -> SeriesKind:
    """A kind reading the auto flag or the steering angle (rad) from ``field_path`` of any type."""
    get = _getter(field_path)
    if role == "auto":

        def auto_row(m: Any) -> Row:
            return (float(bool(get(m))),)

        return SeriesKind("auto", KINDS["auto"].columns, auto_row, KINDS["auto"].integer_columns)
    if role == "steering":

        def steering_row(m: Any) -> Row:
            header = getattr(m, "header", None)
            stamp = _stamp(header) if header is not None else None
            return (stamp, float(get(m)), math.nan, math.nan, math.nan, math.nan)

        return SeriesKind("steering", KINDS["steering"].columns, steering_row)
    raise BagError(f"a message field can be chosen for the auto flag or steering, not {role}")


def kind_for(role: str, given: str | None) -> str | SeriesKind:
    """The kind reading ``role`` from the user's topic argument (``TOPIC`` or ``TOPIC:FIELD``)."""
    _, field_path = split_field(given)
    return field_kind(role, field_path) if field_path else role


def resolve_kind(kind: str | SeriesKind) -> SeriesKind:
    """A kind by name, or the kind itself."""
    return kind if isinstance(kind, SeriesKind) else KINDS[kind]


def _fields(message: Any) -> str:
    names: Iterable[str] = getattr(message, "__dataclass_fields__", None) or ()
    return ", ".join(n for n in names if not n.startswith("_")) or "?"


def stamp_text(stamp_ns: int) -> str:
    """Exact decimal seconds of a nanosecond stamp (``1432235498.039331631``)."""
    sign = "-" if stamp_ns < 0 else ""
    sec, nsec = divmod(abs(int(stamp_ns)), 1_000_000_000)
    return f"{sign}{sec}.{nsec:09d}"


@dataclass(frozen=True)
class Series:
    """One topic as arrays: record times and one float64 array per column."""

    topic: str
    kind: str
    stamp_ns: np.ndarray  # int64, record time in the bag
    values: np.ndarray  # float64, N x len(columns)

    @property
    def columns(self) -> tuple[str, ...]:
        return KINDS[self.kind].columns

    @property
    def stamp(self) -> np.ndarray:
        """Record times in seconds (float64)."""
        return self.stamp_ns.astype(np.float64) * 1e-9

    def __len__(self) -> int:
        return int(self.stamp_ns.shape[0])

    def __getitem__(self, column: str) -> np.ndarray:
        try:
            return self.values[:, self.columns.index(column)]
        except ValueError as exc:
            raise KeyError(f"{self.kind} series has no column {column!r}") from exc


def message_row(kind: SeriesKind, topic: str, message: Any) -> Row:
    """``kind.row(message)``; a field the message type lacks is a :class:`TopicError`."""
    try:
        return kind.row(message)
    except AttributeError as exc:
        raise TopicError(
            f"topic {topic} ({getattr(message, '__msgtype__', type(message).__name__)}) has no "
            f"field the {kind.name} reader needs ({exc}); its fields: {_fields(message)}"
        ) from exc


def iter_rows(
    recording: Recording, kinds: Mapping[str, str | SeriesKind]
) -> Iterator[tuple[str, int, Row]]:
    """Stream ``(topic, stamp_ns, row)`` for ``{topic: kind}`` in time order (one pass).

    A row that cannot be formed (a value of the wrong type) is skipped and counted.
    """
    resolved = {topic: resolve_kind(kind) for topic, kind in kinds.items()}
    for msg in recording.messages(list(kinds)):
        try:
            row = message_row(resolved[msg.topic], msg.topic, msg.message)
        except (TypeError, ValueError, ImageDecodeError) as exc:
            recording.skipped[msg.topic] += 1
            recording.skip_reasons.setdefault(msg.topic, f"{type(exc).__name__}: {exc}")
            continue
        yield msg.topic, msg.stamp_ns, row


class _Buffer:
    def __init__(self, capacity: int, width: int) -> None:
        self.stamps = np.empty(max(capacity, 1), dtype=np.int64)
        self.values = np.empty((max(capacity, 1), width), dtype=np.float64)
        self.n = 0

    def add(self, stamp_ns: int, row: tuple[float, ...]) -> None:
        if self.n == self.stamps.shape[0]:
            self.stamps = np.resize(self.stamps, 2 * self.n)
            self.values = np.resize(self.values, (2 * self.n, self.values.shape[1]))
        self.stamps[self.n] = stamp_ns
        self.values[self.n] = row
        self.n += 1


def load_series(
    recording: Recording,
    kinds: Mapping[str, str | SeriesKind],
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
) -> dict[str, Series]:
    """Read ``{topic: kind}`` in one pass into :class:`Series` (arrays sized from the index)."""
    resolved = {topic: resolve_kind(kind) for topic, kind in kinds.items()}
    buffers = {
        topic: _Buffer(recording.count([topic]), len(kind.columns))
        for topic, kind in resolved.items()
    }
    rows: Iterable[tuple[str, int, Row]] = iter_rows(recording, kinds)
    if progress is not None:
        rows = progress(rows, recording.count(list(kinds)))
    numeric = {topic: kind.numeric for topic, kind in resolved.items()}
    for topic, stamp_ns, row in rows:
        buffers[topic].add(stamp_ns, numeric[topic](row))
    return {
        topic: Series(
            topic, resolved[topic].name, buf.stamps[: buf.n].copy(), buf.values[: buf.n].copy()
        )
        for topic, buf in buffers.items()
    }


def require_messages(series: Series, source: str) -> Series:
    """``series`` if it has messages, else a :class:`BagError` saying the topic is empty (the
    recording lacks what the work needs: a problem, not a usage error)."""
    if len(series) == 0:
        raise BagError(
            f"{source}: topic {series.topic} ({series.kind}) has no readable messages; "
            "choose another topic with its flag, or check the recording"
        )
    return series


def load_roles(
    recording: Recording,
    given: Mapping[str, str | None],
    required: Sequence[str],
    optional: Sequence[str] = (),
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
) -> dict[str, Series]:
    """The series of each role asked for, by role name (topics found by type unless ``given``).

    A required role must have a topic with messages; an optional one is left out when the bag
    has no topic for it, or only an empty one.
    """
    topics = recording.topics
    source = recording.describe()
    roles: dict[str, str] = {}
    for role in required:
        roles[find_topic(topics, role, given.get(role), source)] = role
    for role in optional:
        found = find_topic_optional(topics, role, given.get(role), source)
        if found is not None and found not in roles and topics[found].msgcount:
            roles[found] = role
    kinds = {topic: kind_for(role, given.get(role)) for topic, role in roles.items()}
    series = load_series(recording, kinds, progress)
    by_role = {role: series[topic] for topic, role in roles.items()}
    for role in required:
        require_messages(by_role[role], source)
    return by_role


def valid_fixes(gps: Series | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(record time s, latitude, longitude) of the fixes with a fix (status >= 0) and finite
    coordinates; empty arrays without a GPS series."""
    if gps is None:
        return np.empty(0), np.empty(0), np.empty(0)
    ok = (gps["status"] >= 0) & np.isfinite(gps["latitude"]) & np.isfinite(gps["longitude"])
    return gps.stamp[ok], gps["latitude"][ok], gps["longitude"][ok]


def load_auto_and_gps(
    paths: Sequence[Path | str],
    auto_topic: str | None = None,
    gps_topic: str | None = None,
    msg_dirs: Iterable[Path | str] = (),
) -> tuple[Series, Series]:
    """The auto-mode flag and GPS of a recording as series (topics found by type if not given).

    ``auto_topic`` may be ``TOPIC:FIELD``. ``auto["autonomous"]`` is 0/1 and ``gps["latitude"]``, ``gps["longitude"]`` are degrees;
    ``.stamp`` gives record times in seconds.
    """
    with Recording(paths, msg_dirs) as recording:
        topics = recording.topics
        auto = find_topic(topics, "auto", auto_topic, recording.describe())
        gps = find_topic(topics, "gps", gps_topic, recording.describe())
        if auto == gps:
            raise BagError(f"{recording.describe()}: the auto flag and GPS are both {auto}")
        series = load_series(recording, {auto: kind_for("auto", auto_topic), gps: "gps"})
    return series[auto], series[gps]
