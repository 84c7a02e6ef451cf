"""The on-car pipeline: camera frame in, safe steering command out. No ROS, no torch.

The ROS 2 node and the offline replay both call :class:`SteeringPipeline`, so what the replay
measures is what the car does. One frame goes through these steps (``docs/runtime.md``):

1. :meth:`SteeringPipeline.prepare` (stateless, so a replay may run it ahead in a thread): the
   header stamp, the message's fields, the encoding the model was trained for, the decode
   (a JPEG that the decoder can tell is damaged is refused), crop, resize and scale (THE
   preprocessing); anything wrong -> status ``rejected`` (:class:`FrameStatus`) with the reason;
2. admission (:meth:`SteeringPipeline.process_prepared`, the one path every frame takes, on the
   car, in the replay and in the simulator): a finite receipt time ``now`` (defaults to the
   stamp, as in a replay); the drop estimate sees every stamp that arrived; staleness
   (``now - stamp > watchdog_timeout_s`` -> status ``stale``); a stamp that far ahead of ``now``,
   or repeating the previous frame's, or a frame of another size than the stream's first good
   frame (the frame-size lock; only ``reset_state("service")`` releases it) -> ``rejected``;
4. resets (one reason per frame): ``start``, then any reset asked for since the last frame
   (``engage``, ``service``, ``nonfinite``), ``backwards``, ``gap``, ``manual``;
5. the model steps with ``elapsed = stamp - previous stamp`` clamped to [min, max]_elapsed_s
   (``default_elapsed_s`` after a reset);
6. any non-finite output -> status ``nonfinite``, no command, the state is reset;
7. the limits -> a :class:`SteeringCommand` stamped with the image's stamp; the rate limit holds
   in stamp time and in receipt time.

Refused at start: a model whose first step (a grey frame from a zero state) is not finite.
Rejections are counted per reason (:attr:`PipelineStats.rejections`); no message, however
malformed, makes :meth:`SteeringPipeline.process_image` raise.

Not thread-safe: call it from one thread (or serialise the calls).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from ncp_driver.errors import ConfigError, PreprocessingError
from ncp_driver.images import ImageDecodeError, header_stamp_ns
from ncp_driver.images.decode import decode_cropped_sized, message_encoding
from ncp_driver.images.stamps import ns_to_seconds
from ncp_driver.preprocessing import crop_and_resize, to_model_input
from ncp_driver.runtime.clock import DropEstimator, clamp_elapsed
from ncp_driver.runtime.config import PipelineConfig
from ncp_driver.runtime.model import SteeringModel, StepModel, check_starts_finite
from ncp_driver.runtime.stats import PipelineStats
from ncp_driver.runtime.steering import SteeringCommand, SteeringLimiter

__all__ = ["FRAME_STATUSES", "FrameResult", "FrameStatus", "PreparedFrame", "SteeringPipeline"]

_SEAL = object()  # marks a PreparedFrame made by SteeringPipeline.prepare


@dataclass(frozen=True)
class PreparedFrame:
    """A camera message checked, decoded and preprocessed by :meth:`SteeringPipeline.prepare`:
    the only thing :meth:`SteeringPipeline.process_prepared` accepts."""

    stamp: float  # the header stamp, s (nan without a usable one)
    stamp_ns: int | None  # the same, exact
    model_input: np.ndarray | None  # H x W x 3 float32 (the model's input); None if rejected
    error: str  # why the frame is rejected ("" if it is usable)
    reason: str  # the rejection's short name, counted in PipelineStats.rejections
    size: tuple[int, int] | None  # the full frame's (height, width)
    preprocess_s: float  # decode + crop + resize + scale
    seal: object = field(default=None, repr=False, compare=False)
    stale_at: float | None = None  # not decoded: already stale at this receipt time


class FrameStatus(str, Enum):
    """What became of a frame. str-valued: it compares, prints and is written as its value."""

    OK = "ok"  # the model ran (a command, unless one was held back: see ``reason``)
    REJECTED = (
        "rejected"  # a bad stamp, fields, encoding or pixels; a repeat; a clock ahead; another size
    )
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
        check_starts_finite(model, config.default_elapsed_s, getattr(model, "source", "model"))
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
        self._size: tuple[int, int] | None = None  # the frame-size lock (first good frame)

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
        remembers, not how fast the steering may move. ``"service"`` (the reset a user asks
        for) also releases the frame-size lock: the next good frame sets it again.
        """
        if reason == "service":
            self._size = None
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
        """True when no frame produced a command within ``watchdog_timeout_s`` before ``now``
        (always, for a ``now`` that is not a finite time)."""
        if self._last_usable is None or not math.isfinite(now):
            return True
        return not (now - self._last_usable <= self.config.watchdog_timeout_s)

    # -- frames -------------------------------------------------------------------------------

    def prepare(
        self, msg: Any, out: np.ndarray | None = None, now: float | None = None
    ) -> PreparedFrame:
        """Check, decode and preprocess one sensor_msgs Image or CompressedImage (any object
        with their fields) into ``out`` (default: a new array). Never raises for a bad message:
        the result carries the reason. Stateless: safe to call from a reader thread.

        With a receipt time ``now`` a frame already stale then is not decoded (the car spends
        nothing on a frame it will not use); :meth:`process_prepared` reports it as stale.
        """
        begin = time.perf_counter()
        try:
            total = header_stamp_ns(msg)
        except ImageDecodeError as exc:
            return self._prepared(math.nan, None, None, str(exc), "stamp", None, begin)
        stamp = ns_to_seconds(total)
        if now is not None and now - stamp > self.config.watchdog_timeout_s:
            frame = self._prepared(stamp, total, None, "", "", None, begin)
            return dataclasses.replace(frame, stale_at=now)
        try:
            encoding = message_encoding(msg)
            if not self.model.contract.accepts_encoding(encoding):
                return self._prepared(
                    stamp, total, None,
                    f"encoding {encoding!r} is not one the model was trained for "
                    f"({', '.join(self.model.contract.input_encodings)}): subscribe to the camera's "
                    "colour stream (a depth or mono image is not a camera frame for this model)",
                    "encoding", None, begin,
                )  # fmt: skip
            image, size = decode_cropped_sized(msg, self.spec, self.config.reduced_jpeg_decode)
            if out is None:
                out = np.empty(self.spec.input_shape, np.float32)
            to_model_input(image, self.spec, out=out)
        except (ImageDecodeError, PreprocessingError) as exc:
            return self._prepared(stamp, total, None, str(exc), "undecodable", None, begin)
        except (TypeError, ValueError, OverflowError, AttributeError, IndexError) as exc:
            # A field of the wrong type that the checks above did not name: still the images
            # layer's refusal, never the caller's exception.
            error = ImageDecodeError(f"malformed camera message ({type(exc).__name__}: {exc})")
            return self._prepared(stamp, total, None, str(error), "malformed", None, begin)
        return self._prepared(stamp, total, out, "", "", size, begin)

    def prepare_rgb(
        self, rgb: np.ndarray, stamp: float, out: np.ndarray | None = None
    ) -> PreparedFrame:
        """:meth:`prepare` for a decoded H x W x 3 uint8 RGB frame (any size) stamped ``stamp``."""
        begin = time.perf_counter()
        stamp = float(stamp)
        if not math.isfinite(stamp):
            return self._prepared(
                stamp, None, None, f"stamp {stamp} is not a finite time", "stamp", None, begin
            )
        try:
            if out is None:
                out = np.empty(self.spec.input_shape, np.float32)
            to_model_input(crop_and_resize(rgb, self.spec), self.spec, out=out)
        except PreprocessingError as exc:
            return self._prepared(stamp, None, None, str(exc), "undecodable", None, begin)
        size = (int(rgb.shape[0]), int(rgb.shape[1]))
        return self._prepared(stamp, round(stamp * 1e9), out, "", "", size, begin)

    @staticmethod
    def _prepared(
        stamp: float,
        stamp_ns: int | None,
        model_input: np.ndarray | None,
        error: str,
        reason: str,
        size: tuple[int, int] | None,
        begin: float,
    ) -> PreparedFrame:
        cost = time.perf_counter() - begin
        return PreparedFrame(stamp, stamp_ns, model_input, error, reason, size, cost, _SEAL)

    def process_image(self, msg: Any, now: float | None = None) -> FrameResult:
        """One sensor_msgs Image or CompressedImage (any object with their fields)."""
        return self.process_prepared(self.prepare(msg, out=self._input, now=now), now)

    def process_frame(self, rgb: np.ndarray, stamp: float, now: float | None = None) -> FrameResult:
        """One decoded frame: H x W x 3 uint8 RGB (any size; or already the model's size)."""
        return self.process_prepared(self.prepare_rgb(rgb, stamp, out=self._input), now)

    def process_prepared(
        self,
        frame: PreparedFrame,
        now: float | None = None,
        model_input: np.ndarray | None = None,
        input_fed: bool = False,
    ) -> FrameResult:
        """A frame from :meth:`prepare` (or :meth:`prepare_rgb`): admission, resets, step, limits.

        The one path of every frame. ``model_input`` replaces the frame's input for the model
        (an offline replay's perturbed copy of ``frame.model_input``); the admission is the
        frame's. ``input_fed``: the model was fed otherwise (the replay's batched head gave it
        the frame's features), so nothing is copied into its input.
        """
        if getattr(frame, "seal", None) is not _SEAL:
            raise TypeError("process_prepared takes only what SteeringPipeline.prepare returned")
        start = time.perf_counter() - frame.preprocess_s
        self._stats.frames_in += 1
        self._dropped = 0
        if now is not None and not math.isfinite(now):
            return self._reject(
                frame.stamp,
                f"receipt time {now} is not a finite time: pass the clock's time",
                start,
                "receipt_time",
            )
        if frame.error:
            return self._reject(frame.stamp, frame.error, start, frame.reason)
        stamp = frame.stamp
        now = stamp if now is None else now
        early = self._arrive(stamp, now, start)
        if early is not None:
            return early
        if frame.stale_at is not None:  # prepared at another receipt time, when it was stale
            return self._reject(
                stamp, f"not decoded: the frame was stale at {frame.stale_at}", start, "stale"
            )
        if self._size is not None and frame.size is not None and frame.size != self._size:
            return self._reject(
                stamp,
                f"frame is {frame.size[1]} x {frame.size[0]} but this stream's frames are "
                f"{self._size[1]} x {self._size[0]}: a camera does not change size mid-drive, "
                "so the frame is damaged or from another camera (the reset service releases "
                "the lock)",
                start,
                "size_changed",
            )
        source = frame.model_input if model_input is None else model_input
        if not input_fed and source is not None and source is not self._input:
            self._input[...] = source
        result = self._run(stamp, now, start, frame.preprocess_s)
        if result.ok and self._size is None:
            self._size = frame.size
        return result

    def _reject(self, stamp: float, reason: str, start: float, kind: str) -> FrameResult:
        self._stats.frames_rejected += 1
        self._stats.rejections[kind] = self._stats.rejections.get(kind, 0) + 1
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
                "ahead",
            )
        if stamp == self._prev_stamp:
            return self._reject(
                stamp, f"stamp {stamp} repeats the previous frame's", start, "repeat"
            )
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
            reason = "backwards"  # the limiter starts the new stamp timeline from its last command
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
        command = self._limiter.command(out.curvature, stamp, autonomous, self._speed, now)
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
