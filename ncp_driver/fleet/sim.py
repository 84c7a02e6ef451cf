"""The optional closed-loop figures ("would it have crashed more?") from ``ncp-sim``.

Open-loop agreement on recorded frames does not say how a model drives once its own errors
change what the camera sees. ``ncp-sim`` (``ncp_driver.sim``, issue 13) drives each model on a
seeded set of procedural roads and writes ``active.json`` (takeovers per km and more, per model
and noise level). With ``--sim-roads N`` ``ncp-eval`` runs it on the candidate and the reference
through its command line, ``ncp-sim --model C --model R --roads N [--seed S] [--road-m M]
--no-bags --out OUT/sim`` (with the same ``--param`` settings), and puts its ``active.json`` and
each model's noise-free figures under ``closed_loop`` in the summary. The figures are context in the
page; they are not part of the verdict. Where ``ncp_driver.sim`` is not installed the step is
skipped with that message, and the rest of the evaluation is unchanged.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ncp_driver.schemas import Active, SchemaError

__all__ = ["closed_loop"]


FIGURES = (
    "takeovers",
    "autonomous_km",
    "takeovers_per_km",
    "takeovers_per_km_95",
    "lateral_offset_mean_m",
    "lateral_offset_max_m",
    "a_lat_rms",
)


def closed_loop(
    models: dict[str, Path],
    roads: int,
    seed: int | None,
    out_dir: Path,
    road_m: float | None = None,
    params: tuple[str, ...] = (),
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Run ``ncp-sim`` on ``models`` (role -> file) or say why not; the ``closed_loop`` entry.

    ``figures`` holds, per role, the noise-free run's takeovers per km (with its 95 % interval)
    and lateral offset from ``active.json``; ``active`` the whole document."""
    doc: dict[str, Any] = {
        "roads": roads,
        "seed": seed,
        "models": {r: str(p) for r, p in models.items()},
    }
    if importlib.util.find_spec("ncp_driver.sim") is None:
        doc["skipped"] = (
            "closed loop skipped: the simulator (ncp_driver.sim, `ncp-sim`) is not installed in "
            "this ncp_driver"
        )
        return doc
    target = out_dir / "sim"
    command = [sys.executable, "-m", "ncp_driver.sim.cli"]
    for path in models.values():
        command += ["--model", str(path)]
    command += ["--roads", str(roads), "--out", str(target), "--no-bags", "--no-progress"]
    if seed is not None:
        command += ["--seed", str(seed)]
    if road_m is not None:
        command += ["--road-m", str(road_m)]
    for param in params:
        command += ["--param", param]
    if target.is_dir():  # this tool's own folder from an earlier run
        shutil.rmtree(target)
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        doc["skipped"] = f"closed loop skipped: ncp-sim ran past {timeout_s:g} s"
        return doc
    doc["command"] = command
    if done.returncode != 0:
        doc["skipped"] = (
            f"closed loop failed: ncp-sim exited {done.returncode}: {done.stderr.strip()[-800:]}"
        )
        return doc
    try:
        active = Active.read(target / Active.FILE)
    except SchemaError as exc:
        doc["skipped"] = f"closed loop: ncp-sim wrote no readable active.json ({exc})"
        return doc
    doc["active"] = active.to_json()
    doc["figures"] = _figures(active, models)
    doc["note"] = f"ncp-sim on {roads} road(s): {target / 'active.json'}"
    return doc


def _figures(active: Active, models: dict[str, Path]) -> dict[str, Any]:
    """Per role, the noise-free closed-loop figures of that model (matched by its file)."""
    names = {str(Path(m.path or "").resolve()): m.name for m in active.models}
    out: dict[str, Any] = {}
    for role, path in models.items():
        name = names.get(str(Path(path).resolve()))
        for result in active.results:
            if result.model == name and not result.noise_std:
                out[role] = {k: getattr(result, k) for k in FIGURES}
    return out
