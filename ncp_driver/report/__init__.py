"""The HTML report of a replayed drive: one self-contained page (matplotlib Agg, no scripts).

``write_report(replay_dir, out_html, title=..., figures=[ReportFigure(...)])`` reads the replay
directory (see :mod:`ncp_driver.audit.replay`), draws the key figures and plots in two parts
(the recorded drive; the model in replay), and embeds the analyses' figures with captions;
:func:`ncp_driver.report.audit.write_audit_report` runs every analysis the replay allows.
"""

from __future__ import annotations

from ncp_driver.report.errors import ReportError
from ncp_driver.report.page import FigureSource, ReportFigure, ReportSection, write_report
from ncp_driver.report.summary import (
    KeyFigure,
    KeyFigureGroup,
    model_figures,
    recording_figures,
)

__all__ = [
    "FigureSource",
    "KeyFigure",
    "KeyFigureGroup",
    "ReportError",
    "ReportFigure",
    "ReportSection",
    "model_figures",
    "recording_figures",
    "write_report",
]
