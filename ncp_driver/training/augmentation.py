"""The paper's shadow augmentation (training only).

A line of random thickness (10-100 px) and angle, offset from the image centre by up to
+-100 px horizontally and +-30 px vertically, is drawn into a mask and blurred (box kernel 3, 5
or 7). Under the mask each pixel x in [0, 1] becomes x ** gamma with gamma = 1 + U[0,
shadow_gamma] (a shadow), or x ** (1 / gamma) in 34 % of cases (a highlight).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ["shadow"]


def shadow(image: np.ndarray, rng: np.random.Generator, shadow_gamma: float) -> np.ndarray:
    """One augmented copy of ``image`` (H x W x 3 uint8); ``shadow_gamma`` 0 returns a copy."""
    if shadow_gamma <= 0.0:
        return image.copy()
    height, width = image.shape[:2]
    thickness = int(rng.integers(10, 101))
    angle = rng.uniform(0.0, math.pi)
    cx = width / 2.0 + rng.uniform(-100.0, 100.0)
    cy = height / 2.0 + rng.uniform(-30.0, 30.0)
    reach = 2.0 * (height + width)
    dx, dy = reach * math.cos(angle), reach * math.sin(angle)
    mask = np.zeros((height, width), dtype=np.float32)
    cv2.line(
        mask,
        (round(cx - dx), round(cy - dy)),
        (round(cx + dx), round(cy + dy)),
        color=1.0,
        thickness=thickness,
    )
    kernel = int(rng.choice([3, 5, 7]))
    weight = cv2.blur(mask, (kernel, kernel))[..., None]
    gamma = 1.0 + rng.uniform(0.0, shadow_gamma)
    if rng.random() < 0.34:
        gamma = 1.0 / gamma
    pixels = image.astype(np.float32) * (1.0 / 255.0)
    shaded = np.power(pixels, gamma)
    out = pixels + weight * (shaded - pixels)
    return np.clip(out * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)
