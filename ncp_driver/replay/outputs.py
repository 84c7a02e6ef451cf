"""Writing a replay down: the per-frame tables, metrics, the plot and an MCAP bag.

The directory layout is :mod:`ncp_driver.replay.layout`. The whole directory is assembled under
a temporary name and renamed when complete, so an interrupted replay leaves no directory that
looks finished.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver import topics
from ncp_driver.atomic import atomic_write_bytes
from ncp_driver.bags import Recording, make_typestore
from ncp_driver.bags.output import atomic_dir
from ncp_driver.replay.engine import FrameLog, ReplayError, ReplayResult
from ncp_driver.replay.layout import (
    MCAP_DIR,
    METRICS_FILE,
    NEURONS_FILE,
    OUTPUT_COLUMNS,
    OUTPUT_FILE,
    PLOT_FILE,
    SENSORY_FILE,
)
from ncp_driver.runtime.commands import (
    MessageTypes,
    command_message,
    float32_message,
    neurons_message,
)
from ncp_driver.takeover import find_takeovers
from ncp_driver.topics import COMMAND, CURVATURE, NEURONS, TYPES, absolute

__all__ = ["TABLE_FORMATS", "metrics_document", "write_replay"]

TABLE_FORMATS = ("csv", "parquet")


def _output_columns(result: ReplayResult) -> dict[str, np.ndarray | list[str]]:
    """``output.csv``'s columns, in layout order: float arrays (NaN = missing) or strings."""
    log = result.clean
    columns: dict[str, np.ndarray | list[str]] = {
        "stamp": log.array("stamp"),
        "status": log.status,
        "autonomous": np.asarray(log.autonomous, dtype=bool),
        "curvature": log.array("curvature"),
        "raw_curvature": log.array("raw_curvature"),
        "steering_angle": log.array("steering_angle"),
        "human_curvature": result.human_curvature,
        "limits_active": log.limits_active,
        "reset_reason": log.reset_reason,
        "latitude": result.latitude,
        "longitude": result.longitude,
        "speed": result.speed,
        "elapsed_s": log.array("elapsed_s"),
        "bag_time": log.bag_time,
    }
    assert tuple(columns) == OUTPUT_COLUMNS
    return columns


def _cells(values: np.ndarray | list[str]) -> list[str]:
    """CSV cells: strings as they are, booleans as 0/1, floats exactly, NaN as empty."""
    if isinstance(values, list):
        return values
    if values.dtype == bool:
        return ["1" if v else "0" for v in values]
    return ["" if not math.isfinite(v) else repr(float(v)) for v in values]


def _output_rows(result: ReplayResult) -> Iterator[list[str]]:
    cells = [_cells(values) for values in _output_columns(result).values()]
    return (list(row) for row in zip(*cells, strict=True))


def _trace(log: FrameLog, values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    stamps = np.asarray([log.stamp[i] for i in log.model_rows], dtype=np.float64)
    width = values[0].size if values else 0
    return stamps, np.asarray(values, dtype=np.float64).reshape(len(values), width)


def _write_csv(path: Path, header: list[str], rows: Iterator[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def _write_trace_csv(path: Path, prefix: str, stamps: np.ndarray, values: np.ndarray) -> None:
    header = ["stamp", *(f"{prefix}{k}" for k in range(values.shape[1]))]
    rows = (
        [repr(float(t)), *(f"{v:.9g}" for v in row)] for t, row in zip(stamps, values, strict=True)
    )
    _write_csv(path, header, rows)


def _write_parquet(directory: Path, result: ReplayResult) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ReplayError("--format parquet needs pyarrow: pip install pyarrow") from exc
    table = {}
    for name, values in _output_columns(result).items():
        if isinstance(values, list):
            table[name] = pa.array(values, pa.string())
        elif values.dtype == bool:
            table[name] = pa.array(values, pa.bool_())
        else:
            table[name] = pa.array(values, pa.float64(), mask=~np.isfinite(values))
    pq.write_table(pa.table(table), directory / Path(OUTPUT_FILE).with_suffix(".parquet"))
    for name, prefix, trace in (
        (NEURONS_FILE, "n", result.clean.neurons),
        (SENSORY_FILE, "f", result.clean.features),
    ):
        stamps, matrix = _trace(result.clean, trace)
        data = {"stamp": pa.array(stamps)}
        data.update({f"{prefix}{k}": pa.array(matrix[:, k]) for k in range(matrix.shape[1])})
        pq.write_table(pa.table(data), directory / Path(name).with_suffix(".parquet"))


def metrics_document(result: ReplayResult) -> dict[str, Any]:
    """``metrics.json``: agreement per mode, per noise level, and the pipeline's figures."""
    statuses: dict[str, int] = {}
    for status in result.clean.status:
        statuses[status] = statuses.get(status, 0) + 1
    doc: dict[str, Any] = {
        **result.model_info,
        "sources": result.sources,
        "topics": result.topics,
        "frames": result.frames,
        "statuses": statuses,
        "seconds": round(result.seconds, 3),
        "frames_per_second": round(result.frames / result.seconds, 1)
        if result.seconds > 0
        else None,
        "pipeline": result.stats,
        "skipped_messages": result.skipped_messages,
        "input": result.input_integrity,
        "human_label": bool(np.isfinite(result.human_curvature).any()),
    }
    doc.update({mode: m.to_dict() for mode, m in result.metrics().items()})
    if result.noisy:
        doc["noise_seed"] = result.settings.noise_seed
        doc["noise"] = {
            f"{level:g}": {mode: m.to_dict() for mode, m in result.metrics(log).items()}
            for level, log in sorted(result.noisy.items())
        }
    return doc


def _write_plot(result: ReplayResult, directory: Path) -> None:
    """``prediction.png``: takeovers by the core rule on the frames' modes (no takeovers.json
    exists yet), as the report draws it without one."""
    from ncp_driver.replay.plot import figure_png, plot_prediction

    log = result.clean
    stamp = log.array("stamp")
    autonomous = np.asarray(log.autonomous, dtype=bool)
    human = result.human_curvature
    takeovers = [float(stamp[i]) for i in find_takeovers(stamp, autonomous)]
    fig = plot_prediction(
        stamp,
        autonomous,
        log.array("raw_curvature"),
        log.array("curvature"),
        human if np.isfinite(human).any() else None,
        takeovers,
    )
    atomic_write_bytes(directory / PLOT_FILE, figure_png(fig))


def write_replay(
    result: ReplayResult,
    out_dir: Path,
    *,
    table_format: str = "csv",
    mcap: bool = True,
    mcap_images: bool = True,
    force: bool = False,
) -> Path:
    """Write ``result`` into the new directory ``out_dir`` (atomically); returns it."""
    out_dir = Path(out_dir)
    with atomic_dir(out_dir, force=force) as tmp:
        _write_csv(tmp / OUTPUT_FILE, list(OUTPUT_COLUMNS), _output_rows(result))
        for name, prefix, values in (
            (NEURONS_FILE, "n", result.clean.neurons),
            (SENSORY_FILE, "f", result.clean.features),
        ):
            stamps, matrix = _trace(result.clean, values)
            _write_trace_csv(tmp / name, prefix, stamps, matrix)
        if table_format == "parquet":
            _write_parquet(tmp, result)
        (tmp / METRICS_FILE).write_text(json.dumps(metrics_document(result), indent=2) + "\n")
        _write_plot(result, tmp)
        if mcap:
            write_mcap(result, tmp / MCAP_DIR, images=mcap_images)
    return out_dir


def _prediction_messages(result: ReplayResult, store: Any) -> Iterator[tuple[int, str, str, Any]]:
    """(record ns, topic, type, message) for every commanded frame, in time order: the node's
    messages, built by the same functions (:mod:`ncp_driver.runtime.commands`)."""
    log = result.clean
    types = MessageTypes.from_store(store)
    frame_id = topics.COMMAND_FRAME_ID  # the node's frame_id default
    neurons = dict(zip(log.model_rows, log.neurons, strict=True))
    for i in range(len(log)):
        if not math.isfinite(log.curvature[i]):
            continue
        ns = log.bag_ns[i]
        exact = log.stamp_ns[i]
        stamp_ns = exact if exact is not None else round(log.stamp[i] * 1e9)
        sec, nanosec = divmod(stamp_ns, 10**9)
        command = command_message(types, log.steering_angle[i], sec, nanosec, frame_id)
        yield ns, absolute(COMMAND), TYPES[COMMAND], command
        yield ns, absolute(CURVATURE), TYPES[CURVATURE], float32_message(types, log.curvature[i])
        values = neurons.get(i)
        if values is not None:
            yield ns, absolute(NEURONS), TYPES[NEURONS], neurons_message(types, values)


def write_mcap(result: ReplayResult, path: Path, images: bool = True) -> None:
    """A ROS 2 MCAP bag with the original topics (CDR) and the predictions, in time order."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    settings = result.settings
    store = make_typestore(settings.msg_dirs)
    camera = result.topics["camera"]
    with Recording(result.sources, settings.msg_dirs, settings.allow_partial) as recording:
        topics = {
            name: info.msgtype
            for name, info in recording.topics.items()
            if info.msgtype is not None
            and info.msgtype in store.types
            and (images or name != camera)
        }
        kinds = {fmt.startswith("rosbag1") for fmt in recording.formats}
        if len(kinds) > 1:
            raise ReplayError(
                f"{recording.describe()} mixes ROS 1 and ROS 2 bags: replay them separately "
                "to write an MCAP copy, or pass --no-mcap"
            )
        ros1 = kinds == {True}
        writer = Writer(path, version=9, storage_plugin=StoragePlugin.MCAP)
        writer.open()
        try:
            connections: dict[str, Any] = {}

            def write(topic: str, msgtype: str, ns: int, data: bytes | memoryview) -> None:
                conn = connections.get(topic)
                if conn is None:
                    conn = connections[topic] = writer.add_connection(
                        topic, msgtype, typestore=store
                    )
                writer.write(conn, ns, data)

            predictions = _prediction_messages(result, store)
            pending = next(predictions, None)
            for raw in recording.raw(list(topics)):
                while pending is not None and pending[0] <= raw.stamp_ns:
                    ns, topic, msgtype, message = pending
                    write(topic, msgtype, ns, store.serialize_cdr(message, msgtype))
                    pending = next(predictions, None)
                data = store.ros1_to_cdr(raw.data, raw.msgtype) if ros1 else raw.data
                write(raw.topic, raw.msgtype, raw.stamp_ns, data)
            while pending is not None:
                ns, topic, msgtype, message = pending
                write(topic, msgtype, ns, store.serialize_cdr(message, msgtype))
                pending = next(predictions, None)
        finally:
            writer.close()
