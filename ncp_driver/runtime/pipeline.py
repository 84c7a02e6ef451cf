"""The on-car pipeline: camera frame in, safe steering command out. No ROS, no torch.

The ROS 2 node and the offline replay both call :class:`SteeringPipeline`, so what the replay
measures is what the car does. One frame goes through these steps (``docs/runtime.md``):

1. stamp (from the image header) and receipt time ``now`` (defaults to the stamp, as in a replay);
   the drop estimate sees every stamp that arrived;
2. staleness: ``now - stamp > watchdog_timeout_s`` -> status ``stale`` (:class:`FrameStatus`), nothing else happens;
3. decode, crop, resize and scale (THE preprocessing) into the model's input buffer; a frame that
   cannot be decoded, or repeats the previous stamp, -> status ``rejected``;
4. resets (one reason per frame): ``start``, then any reset asked for since the last frame
   (``engage``, ``service``, ``nonfinite``), ``backwards``, ``gap``, ``manual``;
5. the model steps with ``elapsed = stamp - previous stamp`` clamped to [min, max]_elapsed_s
   (``default_elapsed_s`` after a reset);
6. any non-finite output -> status ``nonfinite``, no command, the state is reset;
7. the limits -> a :class:`SteeringCommand` stamped with the image's stamp.

Not thread-safe: call it from one thread (or serialise the calls).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from ncp_driver.errors import ConfigError, PreprocessingError
from ncp_driver.images import ImageDecodeError, decode_cropped, image_stamp
from ncp_driver.preprocessing import crop_and_resize, to_model_input
from ncp_driver.runtime.clock import DropEstimator, clamp_elapsed
from ncp_driver.runtime.config import PipelineConfig
from ncp_driver.runtime.model import SteeringModel, StepModel
from ncp_driver.runtime.stats import PipelineStats
from ncp_driver.runtime.steering import SteeringCommand, SteeringLimiter

__all__ = ["FRAME_STATUSES", "FrameResult", "FrameStatus", "SteeringPipeline"]


class FrameStatus(str, Enum):
    """What became of a frame. str-valued: it compares, prints and is written as its value."""

    OK = "ok"  # the model ran (a command, unless one was held back: see ``reason``)
    REJECTED = "rejected"  # no usable stamp or pixels, a repeated stamp, a clock ahead
    STALE = "stale"  # older than watchdog_timeout_s on arrival
    NONFINITE = "nonfinite"  # the model's outputs were not finite; state reset

    def __str__(self) -> str:
        return self.value


FRAME_STATUSES = tuple(status.value for status in FrameStatus)


@dataclass(frozen=True, kw_only=True)
class FrameResult:
    """What became of one frame. ``command`` is None whenever nothing may be commanded."""

    stamp: float  # the image's stamp, s (nan if the message had none)
    status: FrameStatus
    command: SteeringCommand | None = None
    neurons: np.ndarray | None = None  # neuron potentials (NCP: 19), a copy, for auditing
    features: np.ndarray | None = None  # the conv head's sensory features (32), a copy
    reset_reason: str | None = None  # why the state was reset before this frame, if it was
    reason: str = ""  # detail for rejected / stale / nonfinite
    preprocess_s: float = 0.0  # decode + crop + resize + scale
    inference_s: float = 0.0  # the model's step
    total_s: float = 0.0  # the whole call
    elapsed_s: float = math.nan  # the elapsed time fed to the model
    autonomous: bool = False  # the mode the frame was processed in
    dropped: int = 0  # frames estimated missing just before this one

    @property
    def ok(self) -> bool:
        return self.status is FrameStatus.OK


class SteeringPipeline:
    """Frames in, limited steering commands out; state, resets, watchdog and figures."""

    def __init__(self, config: PipelineConfig, model: StepModel | None = None) -> None:
        if model is None:
            if not config.model_path:
                raise ConfigError(
                    "model_path is empty: set it to an exported .onnx file, or pass a model"
                )
            model = SteeringModel.load(config.model_path, config)
        self.config = config
        self.model = model
        self.spec = model.contract.preprocessing
        self._limiter = SteeringLimiter(config)
        self._drops = DropEstimator(config.reset_gap_s)
        self._stats = PipelineStats(provider=model.provider, model_hash=model.model_hash)
        self._autonomous = False
        self._mode_stamp: float | None = None
        self._speed: float | None = None
        self._prev_stamp: float | None = None  # the last frame the model ran on
        self._pending_reset: str | None = None  # a reset done since then, to report
        self._last_usable: float | None = None  # receipt time of the last commanded frame
        self._input = model.frame_input[0]
        self._dropped = 0  # the drop estimate of the frame in hand

    # -- inputs besides frames ---------------------------------------------------------------

    @property
    def autonomous(self) -> bool:
        return self._autonomous

    def set_autonomous(self, flag: bool, stamp: float | None = None) -> None:
        """Switch mode for the frames processed from now on; ``stamp`` records when.

        Engaging (False -> True) resets the state with ``manual_mode = "reset"`` (before the
        first frame the state is fresh anyway: that frame reports ``start``). With ``"shadow"``
        the state ran through the manual frames and is kept warm at engage.
        """
        flag = bool(flag)
        engage = flag and not self._autonomous and self._prev_stamp is not None
        if engage and self.config.manual_mode == "reset":
            self.reset_state("engage")
        if flag != self._autonomous:
            self._mode_stamp = stamp
        self._autonomous = flag

    @property
    def mode_changed_at(self) -> float | None:
        """The stamp given with the last mode change, if any."""
        return self._mode_stamp

    def set_speed(self, speed_mps: float | None) -> None:
        """The current speed for the lateral-acceleration limit; None (or non-finite) = unknown."""
        self._speed = (
            None if speed_mps is None or not math.isfinite(speed_mps) else float(speed_mps)
        )

    def reset_state(self, reason: str) -> None:
        """Zero the recurrent state now; counted under ``reason``.

        The rate limit still holds against the last command: a reset changes what the network
        remembers, not how fast the steering may move.
        """
        self.model.reset_state()
        self._pending_reset = reason
        self._stats.resets[reason] = self._stats.resets.get(reason, 0) + 1

    def note_dropped(self, count: int = 1) -> None:
        """Count frames known to be lost before they reached the pipeline (e.g. a full queue)."""
        if count > 0:
            self._stats.frames_dropped += count

    # -- outputs besides commands -------------------------------------------------------------

    @property
    def stats(self) -> PipelineStats:
        """A snapshot of the cumulative figures."""
        snapshot = self._stats.snapshot()
        snapshot.nominal_period_s = self._drops.nominal_period_s
        return snapshot

    def watchdog_tripped(self, now: float) -> bool:
        """True when no frame produced a command within ``watchdog_timeout_s`` before ``now``."""
        return self._last_usable is None or now - self._last_usable > self.config.watchdog_timeout_s

    # -- frames -------------------------------------------------------------------------------

    def process_image(self, msg: Any, now: float | None = None) -> FrameResult:
        """One sensor_msgs Image or CompressedImage (any object with their fields)."""
        start = time.perf_counter()
        try:
            stamp = image_stamp(msg)
        except ImageDecodeError as exc:
            stamp, error = math.nan, str(exc)
        else:
            error = ""
        now, early = self._admit(stamp, now, start, error)
        if early is not None:
            return early
        try:
            image = decode_cropped(msg, self.spec, self.config.reduced_jpeg_decode)
            to_model_input(image, self.spec, out=self._input)
        except (ImageDecodeError, PreprocessingError) as exc:
            return self._reject(stamp, str(exc), start)
        return self._run(stamp, now, start, time.perf_counter() - start)

    def process_frame(self, rgb: np.ndarray, stamp: float, now: float | None = None) -> FrameResult:
        """One decoded frame: H x W x 3 uint8 RGB (any size; or already the model's size)."""
        start = time.perf_counter()
        now, early = self._admit(stamp, now, start)
        if early is not None:
            return early
        try:
            to_model_input(crop_and_resize(rgb, self.spec), self.spec, out=self._input)
        except PreprocessingError as exc:
            return self._reject(stamp, str(exc), start)
        return self._run(stamp, now, start, time.perf_counter() - start)

    def process_prepared(
        self, stamp: float, now: float | None = None, preprocess_s: float = 0.0
    ) -> FrameResult:
        """A frame whose model input the caller already wrote into ``model.frame_input``.

        The same arrival checks, resets, step and limits as :meth:`process_image`; for an offline
        replay that decodes (or perturbs, or batches) frames itself with the same functions.
        ``preprocess_s`` is the caller's decode and preprocessing time, for the figures.
        """
        start = time.perf_counter() - preprocess_s
        now, early = self._admit(stamp, now, start)
        if early is not None:
            return early
        return self._run(stamp, now, start, preprocess_s)

    def _admit(
        self, stamp: float, now: float | None, start: float, error: str = ""
    ) -> tuple[float, FrameResult | None]:
        """Count the frame and check its arrival; ``now`` defaults to the stamp (a replay).

        Returns the receipt time and, if the frame stops here, its result.
        """
        self._stats.frames_in += 1
        self._dropped = 0
        if error or not math.isfinite(stamp):
            return math.nan, self._reject(
                stamp, error or f"stamp {stamp} is not a finite time", start
            )
        now = stamp if now is None else now
        return now, self._arrive(stamp, now, start)

    def _reject(self, stamp: float, reason: str, start: float) -> FrameResult:
        self._stats.frames_rejected += 1
        total = time.perf_counter() - start
        return FrameResult(
            stamp=stamp,
            status=FrameStatus.REJECTED,
            reason=reason,
            total_s=total,
            autonomous=self._autonomous,
            dropped=self._dropped,
        )

    def _arrive(self, stamp: float, now: float, start: float) -> FrameResult | None:
        """Drop estimate, staleness and repeats; a result if the frame stops here."""
        dropped = self._dropped = self._drops.observe(stamp)
        self._stats.frames_dropped += dropped
        latency = now - stamp
        if latency > self.config.watchdog_timeout_s:
            self._stats.frames_stale += 1
            return FrameResult(
                stamp=stamp,
                status=FrameStatus.STALE,
                reason=f"frame is {latency:.3f} s old on arrival (watchdog_timeout_s "
                f"{self.config.watchdog_timeout_s})",
                total_s=time.perf_counter() - start,
                autonomous=self._autonomous,
                dropped=dropped,
            )
        if -latency > self.config.watchdog_timeout_s:
            return self._reject(
                stamp,
                f"frame stamped {-latency:.3f} s after it arrived: the camera's clock is ahead of "
                "this computer's; synchronise them (PTP, chrony)",
                start,
            )
        if stamp == self._prev_stamp:
            return self._reject(stamp, f"stamp {stamp} repeats the previous frame's", start)
        return None

    def _reset_reason(self, stamp: float) -> str | None:
        """Reset the state if this frame calls for it; the reason reported with the frame."""
        pending, self._pending_reset = self._pending_reset, None
        if pending is not None:
            return pending
        reason = None
        if self._prev_stamp is None:
            reason = "start"
        elif stamp < self._prev_stamp:
            reason = "backwards"
            self._limiter.reset()  # a new timeline: the last command's stamp means nothing now
        elif stamp - self._prev_stamp > self.config.reset_gap_s:
            reason = "gap"
        elif not self._autonomous and self.config.manual_mode == "reset":
            reason = "manual"
        if reason is not None:
            self.reset_state(reason)
            self._pending_reset = None
        return reason

    def _run(self, stamp: float, now: float, start: float, preprocess_s: float) -> FrameResult:
        config = self.config
        reset = self._reset_reason(stamp)
        if reset is not None or self._prev_stamp is None:
            elapsed = config.default_elapsed_s
        else:
            elapsed = clamp_elapsed(
                stamp - self._prev_stamp, config.min_elapsed_s, config.max_elapsed_s
            )
        self._prev_stamp = stamp
        autonomous = self._autonomous
        before = time.perf_counter()
        out = self.model.step(elapsed)
        inference = time.perf_counter() - before
        self._stats.frames_processed += 1
        if not out.finite:
            self._stats.nonfinite_outputs += 1
            self.reset_state("nonfinite")
            return FrameResult(
                stamp=stamp,
                status=FrameStatus.NONFINITE,
                reset_reason=reset,
                reason=f"the model's outputs were not finite (curvature {out.curvature}); "
                "state reset",
                preprocess_s=preprocess_s,
                inference_s=inference,
                total_s=time.perf_counter() - start,
                elapsed_s=elapsed,
                autonomous=autonomous,
                dropped=self._dropped,
            )
        if config.max_lateral_accel > 0 and self._speed is None:
            # The lateral-acceleration limit cannot be checked: hold the command back.
            self._stats.limit_counts["speed_unknown"] = (
                self._stats.limit_counts.get("speed_unknown", 0) + 1
            )
            return FrameResult(
                stamp=stamp,
                status=FrameStatus.OK,
                neurons=out.neurons.copy(),
                features=out.features.copy(),
                reset_reason=reset,
                reason="no current speed for max_lateral_accel: command held back",
                preprocess_s=preprocess_s,
                inference_s=inference,
                total_s=time.perf_counter() - start,
                elapsed_s=elapsed,
                autonomous=autonomous,
                dropped=self._dropped,
            )
        command = self._limiter.command(out.curvature, stamp, autonomous, self._speed)
        for name in command.limits_active:
            self._stats.limit_counts[name] = self._stats.limit_counts.get(name, 0) + 1
        self._last_usable = now
        return FrameResult(
            stamp=stamp,
            status=FrameStatus.OK,
            command=command,
            neurons=out.neurons.copy(),
            features=out.features.copy(),
            reset_reason=reset,
            preprocess_s=preprocess_s,
            inference_s=inference,
            total_s=time.perf_counter() - start,
            elapsed_s=elapsed,
            autonomous=autonomous,
            dropped=self._dropped,
        )
