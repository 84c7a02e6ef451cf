"""Writing a fleet evaluation down: per-frame and per-drive tables, the JSON summary, the camera
thumbnails and plots of the worst divergences, and the HTML page.

==========================  ======================================================================
``summary.json``            models, settings, per-drive and overall figures, per-tag breakdown,
                            worst divergences, failures, the verdict (``run`` holds what differs
                            from run to run: timings, the backend, what came from the cache)
``frames.parquet``          one row per frame of every evaluated drive (``.csv`` without pyarrow)
``drives.parquet``          one row per drive, failed ones included (``.csv`` without pyarrow)
``report.html``             the fleet table, the per-tag breakdown, the worst divergences
``fleet.png``               per drive: each model's MAE, and the p99 of |candidate - reference|
``divergences/NN.jpg|png``  the camera frame at each worst divergence's peak, and a plot of the
                            stretch (both models and the human)
``cache/``                  the replay directories, one per drive and model (``ncp-replay``'s
                            layout), and the drives' context (:mod:`ncp_driver.fleet.cache`)
==========================  ======================================================================

Every file is written atomically; the tables and the page are replaced on each run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.atomic import atomic_write_bytes, atomic_write_text
from ncp_driver.fleet.compare import DriveFrames, difference_of, neuron_difference_of
from ncp_driver.fleet.evaluate import FleetResult
from ncp_driver.schemas import FleetSummary

__all__ = [
    "DRIVES_TABLE",
    "FRAMES_TABLE",
    "PAGE_FILE",
    "SUMMARY_FILE",
    "drive_rows",
    "finite",
    "frame_columns",
    "write_fleet",
]

SUMMARY_FILE = FleetSummary.FILE
FRAMES_TABLE = "frames"
DRIVES_TABLE = "drives"
PAGE_FILE = "report.html"
DIVERGENCE_DIR = "divergences"
THUMB_WIDTH = 320


def frame_columns(drives: list[DriveFrames]) -> dict[str, list[Any] | np.ndarray]:
    """The per-frame table: drive, time, mode, the human, each model, their difference."""
    cols: dict[str, list[Any] | np.ndarray] = {}

    def cat(values: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(values) if values else np.empty(0)

    cols["drive"] = [d.drive.name for d in drives for _ in range(d.frames)]
    cols["frame"] = cat([np.arange(d.frames, dtype=np.int64) for d in drives])
    cols["bag_time"] = cat([d.bag_time for d in drives])
    cols["since_start_s"] = cat([d.bag_time - d.start_s for d in drives])
    cols["autonomous"] = cat([d.autonomous.astype(bool) for d in drives])
    cols["human_curvature"] = cat([d.human for d in drives])
    cols["speed"] = cat([next(iter(d.replays.values())).speed for d in drives])
    roles = list(drives[0].replays) if drives else ["candidate"]
    for role in roles:
        cols[f"{role}_curvature"] = cat([d.curvature(role) for d in drives])
        cols[f"{role}_commanded"] = cat([d.replays[role].curvature for d in drives])
        cols[f"{role}_status"] = [str(s) for d in drives for s in d.replays[role].status]
    if "reference" in roles:
        cols["difference"] = cat([difference_of(d) for d in drives])
        cols["neuron_difference"] = cat([neuron_difference_of(d) for d in drives])
    return cols


def _flat(prefix: str, value: Any, row: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}_{k}" if prefix else str(k), v, row)
    elif isinstance(value, (list, tuple)):
        row[prefix] = json.dumps(value)
    else:
        row[prefix] = value


def drive_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-drive table: one flat row per drive (nested figures joined with ``_``)."""
    rows = []
    for doc in summary["drives"]:
        row: dict[str, Any] = {}
        for key in ("name", "path", "status", "reason", "frames", "bag_sha256"):
            row[key] = doc.get(key)
        for tag, value in doc.get("tags", {}).items():
            row[f"tag_{tag}"] = value
        for key in ("candidate", "reference", "mae_change", "difference", "neuron_difference"):
            if doc.get(key) is not None:
                _flat(key, doc[key], row)
        context = dict(doc.get("context") or {})
        context.pop("takeover_times_s", None)
        _flat("context", context, row)
        rows.append(row)
    names: list[str] = []
    for row in rows:
        names.extend(k for k in row if k not in names)
    return [{k: row.get(k) for k in names} for row in rows]


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    return pa, pq


def _write_table(out_dir: Path, name: str, columns: dict[str, Any]) -> str:
    """Parquet with pyarrow (the ``fleet`` extra), else CSV; returns the file name."""
    modules = _pyarrow()
    if modules is not None:
        pa, pq = modules
        arrays = {}
        for key, values in columns.items():
            if isinstance(values, np.ndarray) and values.dtype.kind == "f":
                arrays[key] = pa.array(values, pa.float64(), mask=~np.isfinite(values))
            else:
                arrays[key] = pa.array(list(values) if isinstance(values, np.ndarray) else values)
        buffer = pa.BufferOutputStream()
        pq.write_table(pa.table(arrays), buffer)
        atomic_write_bytes(out_dir / f"{name}.parquet", buffer.getvalue().to_pybytes())
        return f"{name}.parquet"
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(list(columns))
    cells = []
    for values in columns.values():
        column = []
        for v in values:
            if isinstance(v, (float, np.floating)):
                column.append("" if not math.isfinite(v) else repr(float(v)))
            elif v is None:
                column.append("")
            else:
                column.append(str(v))
        cells.append(column)
    writer.writerows(zip(*cells, strict=True))
    atomic_write_text(out_dir / f"{name}.csv", text.getvalue())
    return f"{name}.csv"


def _rows_to_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    names = list(rows[0]) if rows else ["name"]
    columns: dict[str, list[Any]] = {}
    for name in names:
        values = [row.get(name) for row in rows]
        kinds = {type(v) for v in values if v is not None}
        if kinds <= {int, float} and float in kinds:
            values = [None if v is None else float(v) for v in values]
        elif len(kinds) > 1:
            values = [None if v is None else str(v) for v in values]
        columns[name] = values
    return columns


def _thumbnail(result: FleetResult, doc: dict[str, Any], target: Path) -> str | None:
    """The camera frame nearest the peak's record time, scaled to THUMB_WIDTH, as JPEG."""
    import cv2

    from ncp_driver.bags import Recording
    from ncp_driver.images import decode_image

    frames = next(d for d in result.drives if d.drive.name == doc["drive"])
    replay = next(iter(frames.replays.values()))
    camera = replay.metrics.topics.get("camera")
    settings = result.summary["settings"]
    if not camera:
        return None
    peak_ns = round(doc["peak_bag_time"] * 1e9)
    window = 5_000_000  # 5 ms: the float record time is ~0.2 us coarse
    with Recording([frames.drive.path], settings.get("msg_dirs") or ()) as rec:
        found = [
            m for m in rec.messages([camera], start_ns=peak_ns - window, stop_ns=peak_ns + window)
        ]
    if not found:
        return None
    message = min(found, key=lambda m: abs(m.stamp_ns - peak_ns))
    rgb = decode_image(message.message)
    h, w = rgb.shape[:2]
    small = cv2.resize(
        rgb, (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w))), interpolation=cv2.INTER_AREA
    )
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    if not ok:
        return None
    atomic_write_bytes(target, data.tobytes())
    return target.name


def _stretch_plot(result: FleetResult, doc: dict[str, Any], target: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = next(d for d in result.drives if d.drive.name == doc["drive"])
    t = frames.bag_time - frames.start_s
    lo, hi = doc["start_s"] - 3.0, doc["end_s"] + 3.0
    keep = (t >= lo) & (t <= hi)
    fig, ax = plt.subplots(figsize=(5.0, 2.0), dpi=100)
    ax.axvspan(doc["start_s"], doc["end_s"], color="#f3d27a", alpha=0.5, lw=0)
    ax.plot(t[keep], frames.human[keep], color="0.4", lw=1, label="human")
    candidate, reference = frames.curvature("candidate"), frames.curvature("reference")
    ax.plot(t[keep], candidate[keep], color="#d62728", lw=1.6, label="candidate")
    ax.plot(t[keep], reference[keep], color="#1f77b4", lw=1.2, ls="--", label="reference")
    ax.set_xlabel("s since the bag's start")
    ax.set_ylabel("curvature 1/m")
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    atomic_write_bytes(target, buffer.getvalue())
    return target.name


FLEET_PLOT = "fleet.png"


def _fleet_plot(summary: dict[str, Any], target: Path) -> str | None:
    """Per drive: each model's MAE against the human (the gate's mode), and |cand - ref| p99."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mode = summary["gate"]["gate_mode"]
    drives = [d for d in summary["drives"] if d["status"] != "failed"]
    if not drives:
        return None
    roles = list(summary["models"])
    names = [d["name"] for d in drives]
    x = np.arange(len(drives))
    panels = 2 if "reference" in roles else 1
    fig, axes = plt.subplots(panels, 1, figsize=(max(5.0, 0.5 * len(drives) + 2), 2.2 * panels),
                             dpi=100, squeeze=False, sharex=True)  # fmt: skip
    ax = axes[0][0]
    width = 0.8 / len(roles)
    for k, (role, colour) in enumerate(zip(roles, ("#d62728", "#1f77b4"), strict=False)):
        values = [d[role][mode]["mae"] for d in drives]
        heights = [np.nan if v is None else v for v in values]
        ax.bar(x + (k - (len(roles) - 1) / 2) * width, heights, width, color=colour, label=role)
    ax.set_ylabel(f"MAE ({mode}) 1/m")
    ax.legend(fontsize=7)
    if panels == 2:
        p99 = [(d.get("difference") or {}).get("p99") for d in drives]
        axes[1][0].bar(x, [np.nan if v is None else v for v in p99], 0.6, color="#8c6d31")
        axes[1][0].axhline(summary["gate"]["diff_threshold"], color="0.5", lw=0.8, ls="--")
        axes[1][0].set_ylabel("|cand - ref| p99")
    axes[-1][0].set_xticks(x, names, rotation=45 if len(names) > 6 else 0, ha="right"
                           if len(names) > 6 else "center", fontsize=7)  # fmt: skip
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    atomic_write_bytes(target, buffer.getvalue())
    return target.name


def write_fleet(result: FleetResult, out_dir: Path, thumbnails: bool = True) -> dict[str, str]:
    """Write every output into ``out_dir`` (created if needed); returns the files by role."""
    from ncp_driver.fleet.page import render_page

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = result.summary
    folder = out_dir / DIVERGENCE_DIR
    if folder.is_dir():  # this tool's own folder: an earlier run's images go
        shutil.rmtree(folder)
    for n, doc in enumerate(summary["worst_divergences"], start=1):
        if thumbnails:
            try:
                name = _thumbnail(result, doc, folder / f"{n:02d}.jpg")
            except Exception as exc:  # a thumbnail is an illustration: say why it is missing
                doc["thumbnail_error"] = f"{type(exc).__name__}: {exc}"
                name = None
            doc["thumbnail"] = f"{DIVERGENCE_DIR}/{name}" if name else None
        doc["plot"] = f"{DIVERGENCE_DIR}/{_stretch_plot(result, doc, folder / f'{n:02d}.png')}"
    summary["plot"] = _fleet_plot(summary, out_dir / FLEET_PLOT)
    files = {
        "frames": _write_table(out_dir, FRAMES_TABLE, frame_columns(result.drives)),
        "drives": _write_table(out_dir, DRIVES_TABLE, _rows_to_columns(drive_rows(summary))),
        "page": PAGE_FILE,
        "summary": SUMMARY_FILE,
    }
    summary["tables"] = {"frames": files["frames"], "drives": files["drives"]}
    if _pyarrow() is None:
        summary["tables"]["note"] = (
            "pyarrow is not installed, so the tables are CSV: pip install 'ncp-driver[fleet]' "
            "for Parquet"
        )
    atomic_write_text(out_dir / SUMMARY_FILE, summary_document(summary).dumps())
    atomic_write_text(out_dir / PAGE_FILE, render_page(summary))
    return files


def summary_document(summary: dict[str, Any]) -> FleetSummary:
    """The summary as its typed document (``ncp_driver.schemas.FleetSummary``); a key the
    schema does not know is a bug here, not something to drop."""
    data = json.loads(json.dumps(finite(summary), default=_json, allow_nan=False))
    known = {f.name for f in fields(FleetSummary)} | {"schema", "version"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"summary.json: keys {unknown} are not in FleetSummary; add them there")
    return FleetSummary.from_json(data)


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, an infinite ratio) as None: strict JSON."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return value


def _json(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
