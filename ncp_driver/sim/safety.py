"""The virtual safety driver: takes over when the car leaves its lane or is about to.

Default rule (MIT VISTA's lane-following task): |lateral offset from the lane centre| >
(lane width - car width) / 2, i.e. a wheel touches the lane line, or |heading error| > pi / 10.
After a takeover the human (:class:`~ncp_driver.synth.driver.HumanDriver`) brings the car
back; after ``hold_s`` it re-engages, once the car is within ``reengage_offset_m`` of the lane
centre and its heading error below half the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ncp_driver.synth.vehicle import VehicleState

__all__ = ["SafetyDriver"]


@dataclass(frozen=True)
class SafetyDriver:
    """The takeover and re-engage rule."""

    max_offset_m: float
    max_heading_error_rad: float
    hold_s: float
    reengage_offset_m: float

    def takes_over(self, state: VehicleState) -> bool:
        """True when the state breaks the rule (the car is leaving its lane)."""
        return (
            abs(state.lateral_error) > self.max_offset_m
            or abs(state.heading_error) > self.max_heading_error_rad
        )

    def hands_back(self, state: VehicleState, manual_since: float) -> bool:
        """True when the human has held the car long enough and it is back in the lane."""
        return (
            state.t - manual_since >= self.hold_s
            and abs(state.lateral_error) <= self.reengage_offset_m
            and abs(state.heading_error) <= 0.5 * self.max_heading_error_rad
        )
