"""The paper's comparison (``ncp-compare``): every model side by side.

Passive (open-loop MAE and correlation on held-out drives, grouped k-fold by drive), active
(takeovers per km in ncp-sim's closed loop at each noise level, with the expert), attention
(saliency SSIM under noise), smoothness (the audit's Lipschitz figure of the recurrent
dynamics) and size (parameters, synapses, file size, latency), written as ``compare.json``
(:class:`~ncp_driver.schemas.Compare`) and ``compare.html``. Built on the project's parts:
:mod:`ncp_driver.sim`, :mod:`ncp_driver.audit`, :mod:`ncp_driver.replay`,
:mod:`ncp_driver.synth`, :mod:`ncp_driver.drives`. See docs/compare.md. Needs the ``bags``
extra; no torch.
"""

from __future__ import annotations

from ncp_driver.compare.errors import CompareError, CompareSettingsError, ModelUnusableError
from ncp_driver.compare.ranking import rank
from ncp_driver.compare.run import COMPARE_HTML, COMPARE_JSON, Request, compare
from ncp_driver.compare.settings import DEFAULT_DRIVE_SEED, PAPER_LEVELS, CompareSettings

__all__ = [
    "COMPARE_HTML",
    "COMPARE_JSON",
    "DEFAULT_DRIVE_SEED",
    "PAPER_LEVELS",
    "CompareError",
    "CompareSettings",
    "CompareSettingsError",
    "ModelUnusableError",
    "Request",
    "compare",
    "rank",
]
