"""Seeded Gaussian input noise, as in the paper's robustness test.

Noise of standard deviation ``std`` is added to the preprocessed [0, 1] image (the model input)
before inference; values are not clipped (the network standardises each image). One generator
per noise level, seeded from (seed, level), so each level is reproducible on its own and does not
depend on which other levels ran or in what order.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PAPER_NOISE_LEVELS", "PAPER_NOISE_SEED", "InputNoise"]

PAPER_NOISE_LEVELS = (0.1, 0.2, 0.25, 0.3)
PAPER_NOISE_SEED = 12345


class InputNoise:
    """Adds N(0, std^2) to model inputs, from a generator seeded by (seed, std)."""

    def __init__(self, std: float, seed: int = PAPER_NOISE_SEED) -> None:
        if not (np.isfinite(std) and std >= 0):
            raise ValueError(f"noise std {std} must be a finite number >= 0")
        self.std = float(std)
        # The level enters the seed as an integer in micro-units, so 0.25 and 0.250 agree.
        self._rng = np.random.default_rng([seed, round(self.std * 1_000_000)])

    def __call__(self, model_input: np.ndarray) -> np.ndarray:
        """A noisy copy of ``model_input`` (float32); the input is not modified."""
        if self.std == 0:
            return model_input
        noise = self._rng.standard_normal(model_input.shape, dtype=np.float32)
        return model_input + np.float32(self.std) * noise
