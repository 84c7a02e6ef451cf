"""The HTML report of a replayed drive: one self-contained page (matplotlib Agg, no scripts).

``write_report(replay_dir, out_html, title=..., figures={caption: figure})`` reads the replay
directory (see :mod:`ncp_driver.audit.replay`), draws the key figures and plots, and embeds any
extra figures (saliency, PCA, Lipschitz) given by the caller.
"""

from __future__ import annotations

from ncp_driver.report.errors import ReportError
from ncp_driver.report.page import FigureSource, ReportSection, write_report
from ncp_driver.report.summary import KeyFigure, KeyFigureGroup, key_figures

__all__ = [
    "FigureSource",
    "KeyFigure",
    "KeyFigureGroup",
    "ReportError",
    "ReportSection",
    "key_figures",
    "write_report",
]
