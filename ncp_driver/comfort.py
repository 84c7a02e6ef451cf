"""The nuPlan comfort limits on lateral motion: one definition for the bag tools and the report.

nuPlan's comfort metrics (Caesar et al., 2021) bound the lateral acceleration and the jerk;
``ncp-bag discomfort`` reports the share of autonomous driving above them and the HTML report
does the same from a replay's commanded curvature.
"""

from __future__ import annotations

__all__ = ["JERK_LIMIT_MPS3", "LATERAL_LIMIT_MPS2"]

LATERAL_LIMIT_MPS2 = 4.89  # |lateral acceleration|, m/s^2
JERK_LIMIT_MPS3 = 8.37  # |jerk|, m/s^3
