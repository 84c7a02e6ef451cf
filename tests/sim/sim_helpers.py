"""Small settings of the closed-loop tests: 120 x 192 frames rendered at full scale (the crop is
relative, so the paper's band is used), roads a few hundred metres, a fixed compute delay."""

from __future__ import annotations

from ncp_driver.sim import SimSettings

SMALL = {"height": 120, "width": 192, "render_scale": 1.0, "compute_s": 0.005}
SMALL_ARGS = ["--size", "120x192", "--render-scale", "1", "--compute-delay", "0.005"]


def small_settings(**overrides: object) -> SimSettings:
    values: dict[str, object] = {"roads": 1, "road_m": 300.0, **SMALL}
    values.update(overrides)
    return SimSettings(**values)  # type: ignore[arg-type]
