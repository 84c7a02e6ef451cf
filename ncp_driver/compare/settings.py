"""What one comparison runs: the held-out drives, the folds, the closed loop, the analyses."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ncp_driver.compare.errors import CompareSettingsError
from ncp_driver.replay.noise import PAPER_NOISE_LEVELS, PAPER_NOISE_SEED
from ncp_driver.sim.settings import SimSettings

__all__ = ["DEFAULT_DRIVE_SEED", "PAPER_LEVELS", "CompareSettings"]

# Held-out drives 210, 211, ...: training used 100-107, validation 200-201, the demo 7,
# ncp-sim's roads start at 300.
DEFAULT_DRIVE_SEED = 210
PAPER_LEVELS = (0.0, *PAPER_NOISE_LEVELS)  # the active test's levels: noise-free and the paper's


@dataclass(frozen=True)
class CompareSettings:
    """Every model is measured alike on these; ``sim`` is ncp-sim's own settings object."""

    sim: SimSettings = field(default_factory=lambda: SimSettings(noise_levels=PAPER_LEVELS))
    folds: int = 2
    drives_per_fold: int = 2  # generated drives only
    drive_seed: int = DEFAULT_DRIVE_SEED
    drive_s: float = 30.0  # length of a generated drive (ncp-synth's defaults otherwise)
    saliency_frames: int = 30
    lipschitz_frames: int = 100
    latency_runs: int = 200  # as the model cards
    noise_seed: int = PAPER_NOISE_SEED

    def __post_init__(self) -> None:
        counts = {
            "folds": self.folds,
            "drives_per_fold": self.drives_per_fold,
            "saliency_frames": self.saliency_frames,
            "lipschitz_frames": self.lipschitz_frames,
            "latency_runs": self.latency_runs,
        }
        for name, value in counts.items():
            if value < 1:
                raise CompareSettingsError(f"{name} = {value} must be >= 1")
        if self.folds < 2:
            raise CompareSettingsError(
                f"folds = {self.folds}: a spread across folds needs at least 2"
            )
        if not (math.isfinite(self.drive_s) and self.drive_s > 0):
            raise CompareSettingsError(f"drive_s = {self.drive_s} must be a finite number > 0")

    @property
    def noise_levels(self) -> tuple[float, ...]:
        return self.sim.noise_levels

    @property
    def drive_seeds(self) -> tuple[int, ...]:
        return tuple(self.drive_seed + i for i in range(self.folds * self.drives_per_fold))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["sim"] = self.sim.to_dict()
        return out
