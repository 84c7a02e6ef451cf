"""Fleet evaluation: many drives, a candidate and a reference model, one verdict (``ncp-eval``).

Every drive is replayed with each model through :func:`ncp_driver.replay.replay` (the on-car
:class:`~ncp_driver.runtime.SteeringPipeline`) and written with
:func:`ncp_driver.replay.write_replay`, as ``ncp-replay`` does; the drives run in parallel
(a local process pool, or Ray tasks), a cache keyed on model, settings and bag content skips
what was done before. :func:`evaluate_fleet` aggregates (agreement with the human, candidate
against reference, worst divergent stretches, neuron activity) and gives the verdict;
:func:`write_fleet` writes the tables, ``summary.json`` and ``report.html``. Needs the ``bags``
extra; Ray and Parquet come with the ``fleet`` extra. See docs/eval.md.
"""

from __future__ import annotations

from ncp_driver.fleet.drives import DriveSpec, find_drives, read_manifest
from ncp_driver.fleet.errors import FleetError
from ncp_driver.fleet.evaluate import EvalOptions, FleetResult, evaluate_fleet
from ncp_driver.fleet.output import write_fleet
from ncp_driver.fleet.verdict import Gate
from ncp_driver.fleet.work import Outputs

__all__ = [
    "DriveSpec",
    "EvalOptions",
    "FleetError",
    "FleetResult",
    "Gate",
    "Outputs",
    "evaluate_fleet",
    "find_drives",
    "read_manifest",
    "write_fleet",
]
