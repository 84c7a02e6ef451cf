"""Writing a replay down: the per-frame tables, metrics, the plot and an MCAP bag.

The directory layout is :mod:`ncp_driver.replay.layout`. The whole directory is assembled under
a temporary name and renamed when complete, so an interrupted replay leaves no directory that
looks finished.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver import topics
from ncp_driver.atomic import atomic_write_bytes
from ncp_driver.bags import Recording, make_typestore
from ncp_driver.bags.mcap_writer import McapWriter
from ncp_driver.bags.output import atomic_dir
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing
from ncp_driver.replay.engine import FrameLog, ReplayError, ReplayResult
from ncp_driver.replay.layout import (
    MCAP_FILE,
    METRICS_FILE,
    NEURONS_FILE,
    OUTPUT_COLUMNS,
    OUTPUT_FILE,
    PLOT_FILE,
    SENSORY_FILE,
)
from ncp_driver.replay.metrics import AgreementMetrics
from ncp_driver.runtime.commands import (
    MessageTypes,
    command_message,
    float32_message,
    neurons_message,
)
from ncp_driver.schemas import Agreement, Metrics, PipelineFigures
from ncp_driver.takeover import find_takeovers
from ncp_driver.topics import COMMAND, CURVATURE, NEURONS, SALIENCY, SENSORY, TYPES, absolute

__all__ = [
    "TABLE_FORMATS",
    "SaliencyImage",
    "mcap_metadata",
    "metrics_document",
    "metrics_record",
    "write_mcap",
    "write_replay",
]

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


def _agreement(metrics: AgreementMetrics) -> Agreement:
    return Agreement(**metrics.to_dict())  # type: ignore[arg-type]


def metrics_record(result: ReplayResult) -> Metrics:
    """``metrics.json`` (:class:`ncp_driver.schemas.Metrics`): agreement per mode and noise
    level, and the pipeline's figures."""
    statuses: dict[str, int] = {}
    for status in result.clean.status:
        statuses[status] = statuses.get(status, 0) + 1
    info = result.model_info
    by_mode = {mode: _agreement(m) for mode, m in result.metrics().items()}
    return Metrics(
        model=info["model"],
        kind=info["kind"],
        model_sha256=info["model_sha256"],
        provider=info["provider"],
        mode=info["mode"],
        sources=result.sources,
        topics=result.topics,
        frames=result.frames,
        statuses=statuses,
        seconds=round(result.seconds, 3),
        frames_per_second=round(result.frames / result.seconds, 1) if result.seconds > 0 else None,
        pipeline=PipelineFigures(**result.stats),
        skipped_messages=result.skipped_messages,
        input=result.input_integrity,
        human_label=bool(np.isfinite(result.human_curvature).any()),
        autonomous=by_mode["autonomous"],
        manual=by_mode["manual"],
        all=by_mode["all"],
        manual_mode=str(result.settings.pipeline.manual_mode),
        noise_seed=result.settings.noise_seed if result.noisy else None,
        noise={
            f"{level:g}": {mode: _agreement(m) for mode, m in result.metrics(log).items()}
            for level, log in sorted(result.noisy.items())
        },
    )


def metrics_document(result: ReplayResult) -> dict[str, Any]:
    """``metrics.json`` as JSON-ready values."""
    return metrics_record(result).to_json()


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
    saliency: SaliencyImage | None = None,
    saliency_hz: float = 2.0,
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
        (tmp / METRICS_FILE).write_text(metrics_record(result).dumps())
        _write_plot(result, tmp)
        if mcap:
            write_mcap(
                result,
                tmp / MCAP_FILE,
                images=mcap_images,
                saliency=saliency,
                saliency_hz=saliency_hz,
            )
    return out_dir


SaliencyImage = Callable[[np.ndarray], np.ndarray]
"""A model crop (H, W, 3 uint8, the model's preprocessing) -> the RGB uint8 image to publish."""


def _prediction_messages(result: ReplayResult, store: Any) -> Iterator[tuple[int, str, str, Any]]:
    """(record ns, topic, type, message) for every commanded frame, in time order: the node's
    messages, built by the same functions (:mod:`ncp_driver.runtime.commands`)."""
    log = result.clean
    types = MessageTypes.from_store(store)
    frame_id = topics.COMMAND_FRAME_ID  # the node's frame_id default
    rows = {row: k for k, row in enumerate(log.model_rows)}
    for i in range(len(log)):
        ns = log.bag_ns[i]
        k = rows.get(i)
        if k is not None:
            yield ns, absolute(NEURONS), TYPES[NEURONS], neurons_message(types, log.neurons[k])
            features = neurons_message(types, log.features[k], label="features")
            yield ns, absolute(SENSORY), TYPES[SENSORY], features
        if not math.isfinite(log.curvature[i]):
            continue
        exact = log.stamp_ns[i]
        stamp_ns = exact if exact is not None else round(log.stamp[i] * 1e9)
        sec, nanosec = divmod(stamp_ns, 10**9)
        command = command_message(types, log.steering_angle[i], sec, nanosec, frame_id)
        yield ns, absolute(COMMAND), TYPES[COMMAND], command
        yield ns, absolute(CURVATURE), TYPES[CURVATURE], float32_message(types, log.curvature[i])


def mcap_metadata(result: ReplayResult) -> dict[str, dict[str, str]]:
    """The MCAP metadata records of ``replay.mcap``: the model and how the replay ran."""
    info = result.model_info
    model = {
        "path": info.get("model", ""),
        "sha256": info.get("model_sha256", ""),
        "kind": info.get("kind", ""),
        "provider": info.get("provider", ""),
        "mode": info.get("mode", ""),
    }
    records = {"ncp_model": model}
    if result.preprocessing is not None:
        records["ncp_preprocessing"] = {
            key: json.dumps(value) if not isinstance(value, str) else value
            for key, value in result.preprocessing.to_dict().items()
        }
    records["ncp_replay"] = {
        "sources": json.dumps(result.sources),
        "topics": json.dumps(result.topics),
        "frames": str(result.frames),
        "noise_levels": json.dumps(sorted(result.noisy)),
        "outputs": json.dumps(
            {
                absolute(COMMAND): "steering command (front-wheel angle, rad), commanded frames",
                absolute(CURVATURE): "commanded curvature, 1/m, + = left",
                absolute(NEURONS): "the model's neuron states, every frame it ran on",
                absolute(SENSORY): "the conv head's features (the NCP's sensory inputs)",
                absolute(SALIENCY): "VisualBackProp saliency over the model's crop",
            }
        ),
    }
    return records


def write_mcap(
    result: ReplayResult,
    path: Path,
    images: bool = True,
    *,
    saliency: SaliencyImage | None = None,
    saliency_hz: float = 2.0,
    force: bool = False,
) -> Path:
    """One ROS 2 MCAP file: the original topics (CDR), the predictions, neurons and features.

    With ``saliency``, the camera frames (at most ``saliency_hz`` per second of record time)
    also get a :data:`~ncp_driver.topics.SALIENCY` image with the camera message's header
    (stamp and frame_id). Metadata records: :func:`mcap_metadata`.
    """
    settings = result.settings
    store = make_typestore(settings.msg_dirs)
    camera = result.topics["camera"]
    with Recording(result.sources, settings.msg_dirs, settings.allow_partial) as recording:
        topics = {
            name: info.msgtype
            for name, info in recording.topics.items()
            if info.msgtype is not None
            and info.msgtype in store.types
            and (images or saliency is not None or name != camera)
        }
        kinds = {fmt.startswith("rosbag1") for fmt in recording.formats}
        if len(kinds) > 1:
            raise ReplayError(
                f"{recording.describe()} mixes ROS 1 and ROS 2 bags: replay them separately "
                "to write an MCAP copy, or pass --no-mcap"
            )
        ros1 = kinds == {True}
        spec = result.preprocessing
        period_ns = round(1e9 / saliency_hz) if saliency is not None and saliency_hz > 0 else 0
        next_saliency = -1
        with McapWriter(path, store, force=force) as writer:
            for name, values in mcap_metadata(result).items():
                writer.add_metadata(name, values)
            predictions = _prediction_messages(result, store)
            pending = next(predictions, None)
            for raw in recording.raw(list(topics)):
                while pending is not None and pending[0] <= raw.stamp_ns:
                    writer.write(*pending[1:3], pending[0], pending[3])
                    pending = next(predictions, None)
                data = store.ros1_to_cdr(raw.data, raw.msgtype) if ros1 else raw.data
                if raw.topic == camera and period_ns and raw.stamp_ns >= next_saliency:
                    next_saliency = raw.stamp_ns + period_ns
                    message = store.deserialize_cdr(data, raw.msgtype)
                    writer.write(
                        absolute(SALIENCY),
                        TYPES[SALIENCY],
                        raw.stamp_ns,
                        _saliency_message(store, message, saliency, spec),  # type: ignore[arg-type]
                    )
                if images or raw.topic != camera:
                    writer.write_raw(raw.topic, raw.msgtype, raw.stamp_ns, data)
            while pending is not None:
                writer.write(*pending[1:3], pending[0], pending[3])
                pending = next(predictions, None)
    return path


def _saliency_message(
    store: Any, camera: Any, saliency: SaliencyImage, spec: Preprocessing | None
) -> Any:
    """The saliency image of one camera message, under the camera's header."""
    from ncp_driver.images import decode_cropped

    crop = decode_cropped(camera, spec or PAPER_PREPROCESSING, reduced_jpeg=False)
    image = np.ascontiguousarray(saliency(crop), dtype=np.uint8)
    height, width = image.shape[:2]
    return store.types[TYPES[SALIENCY]](
        header=camera.header,
        height=height,
        width=width,
        encoding="rgb8",
        is_bigendian=0,
        step=width * 3,
        data=image.reshape(-1),
    )
