"""The replay directory: one definition of its files and columns (written here, read by the audit).

==================  ============================================================================
``output.csv``      one row per camera frame: ``stamp`` (s, the image header), ``status``,
                    ``autonomous`` (0/1), ``curvature`` (1/m, commanded after limits; empty when
                    nothing was commanded), ``raw_curvature`` (the model's output), ``steering_angle``
                    (rad), ``human_curvature`` (1/m), ``limits_active`` (``;``-joined),
                    ``reset_reason``, ``latitude``, ``longitude`` (deg), ``speed`` (m/s),
                    ``elapsed_s`` (fed to the model), ``bag_time`` (record time, s);
                    empty cells are missing values
``neurons.csv``     ``stamp``, ``n0`` .. ``n{K-1}``: the model's ``neurons`` for each frame it ran on
``sensory.csv``     ``stamp``, ``f0`` .. ``f{F-1}``: the model's ``features`` for the same frames
``metrics.json``    replay metrics, the model under ``"model"`` (:class:`ncp_driver.schemas.Metrics`)
``takeovers.json``  the recording's takeovers (``ncp-bag takeovers --json``), optional
``discomfort.json`` the recording's lateral discomfort (``ncp-bag discomfort --json``), optional
``replay.mcap``     one ROS 2 MCAP file: the original topics, the predictions, neurons, features
                    and (optionally) saliency images; the model as metadata records; for
                    Foxglove / PlotJuggler; optional
==================  ============================================================================

With ``--format parquet`` the three tables are written as ``.parquet`` beside the CSVs' names.
"""

from __future__ import annotations

from ncp_driver.schemas import Discomfort, Metrics, Takeovers

__all__ = [
    "DISCOMFORT_FILE",
    "MCAP_FILE",
    "METRICS_FILE",
    "NEURONS_FILE",
    "OUTPUT_COLUMNS",
    "OUTPUT_FILE",
    "PLOT_FILE",
    "SENSORY_FILE",
    "TAKEOVERS_FILE",
]

OUTPUT_FILE = "output.csv"
NEURONS_FILE = "neurons.csv"
SENSORY_FILE = "sensory.csv"
METRICS_FILE = Metrics.FILE  # the JSON documents' schemas: ncp_driver.schemas
TAKEOVERS_FILE = Takeovers.FILE
DISCOMFORT_FILE = Discomfort.FILE
PLOT_FILE = "prediction.png"
MCAP_FILE = "replay.mcap"

OUTPUT_COLUMNS = (
    "stamp",
    "status",
    "autonomous",
    "curvature",
    "raw_curvature",
    "steering_angle",
    "human_curvature",
    "limits_active",
    "reset_reason",
    "latitude",
    "longitude",
    "speed",
    "elapsed_s",
    "bag_time",
)
