"""A closed-loop run as a ROS 2 bag with the topics a real car records.

Written through the bag tools' writer (:class:`ncp_driver.bags.BagWriter`) with the synthetic
bags' message builders (:mod:`ncp_driver.synth.messages`): the camera (the frames the model
saw, every ``every``-th, JPEG or raw), GPS (the true track plus the synthetic GPS noise), the
auto-mode flag, the steering the car did (``vehicle/steering``); plus the odometry of the true
vehicle state (``/odom``: pose, ``twist.linear.x`` = speed, ``twist.angular.z`` = yaw rate) and
the driver node's outputs (``ncp/steering_cmd``, ``ncp/curvature``, ``ncp/neurons``) for every
commanded frame. So ``ncp-bag takeovers``, ``ncp-bag discomfort``, ``ncp-replay`` and the
report read it like a car's bag.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver import topics
from ncp_driver.bags import BagWriter
from ncp_driver.runtime.commands import (
    MessageTypes,
    command_message,
    float32_message,
    neurons_message,
)
from ncp_driver.sim.figures import flag_samples, odometry_samples
from ncp_driver.sim.loop import RunRecord
from ncp_driver.synth.config import DriveConfig
from ncp_driver.synth.messages import Message, drive_messages
from ncp_driver.synth.schedule import ModeSchedule
from ncp_driver.synth.simulate import Drive, ModeTrack, Trajectory, gps_track
from ncp_driver.takeover import find_takeovers

__all__ = ["as_drive", "write_run_bag"]


def _stamps(end_ns: int, hz: float) -> np.ndarray:
    stamps = np.round(np.arange(0, end_ns * 1e-9 * hz + 1e-9) * (1e9 / hz)).astype(np.int64)
    return stamps[stamps <= end_ns]


def as_drive(run: RunRecord, gps_hz: float, mode_hz: float, steering_hz: float) -> Drive:
    """The run as a synthetic :class:`~ncp_driver.synth.Drive` (what its bag writers take)."""
    cfg: DriveConfig = run.world.config
    start = run.start_ns
    sim = Trajectory(
        stamps_ns=start + run.tick_ns,
        x=run.x,
        y=run.y,
        heading=run.heading,
        speed=run.speed,
        curvature=run.curvature,
        lateral_error=run.lateral_error,
        heading_error=run.heading_error,
        road_s=run.road_s,
        auto=run.auto,
    )
    end = int(run.tick_ns[-1])
    gps_rng = np.random.default_rng(np.random.SeedSequence(cfg.seed).spawn(5)[3])
    gps = gps_track(cfg, sim, start + _stamps(end, gps_hz), gps_rng)
    flag_ns, flags = flag_samples(run, mode_hz)
    mode = ModeTrack(stamps_ns=start + flag_ns, auto=flags)
    takeovers = find_takeovers(flag_ns * 1e-9, flags)
    frame_ns = np.array([m.stamp_ns for m in run.camera], dtype=np.int64)
    return Drive(
        config=cfg,
        road=run.world.road,
        schedule=ModeSchedule(tuple(run.engage_s), tuple(run.takeover_s)),
        sim=sim,
        camera=sim.sample(frame_ns) if frame_ns.size else sim.sample(sim.stamps_ns[:0]),
        steering=sim.sample(start + _stamps(end, steering_hz)),
        gps=gps,
        mode=mode,
        takeover_stamps_ns=mode.stamps_ns[takeovers],
        takeover_indices=takeovers,
    )


def _odometry(run: RunRecord, store: Any, hz: float) -> Iterator[Message]:
    odo = odometry_samples(run, hz)
    types = store.types
    odometry, header, stamp = (
        types["nav_msgs/msg/Odometry"],
        types["std_msgs/msg/Header"],
        types["builtin_interfaces/msg/Time"],
    )
    pose_cov, twist_cov = (
        types["geometry_msgs/msg/PoseWithCovariance"],
        types["geometry_msgs/msg/TwistWithCovariance"],
    )
    pose, point, quat = (
        types["geometry_msgs/msg/Pose"],
        types["geometry_msgs/msg/Point"],
        types["geometry_msgs/msg/Quaternion"],
    )
    twist, vector = types["geometry_msgs/msg/Twist"], types["geometry_msgs/msg/Vector3"]
    topic = topics.absolute(topics.VEHICLE_ODOMETRY)
    zeros = np.zeros(36, dtype=np.float64)
    for i in range(odo["ns"].size):
        ns = run.start_ns + int(odo["ns"][i])
        yaw = float(odo["heading"][i])
        msg = odometry(
            header=header(stamp=stamp(sec=ns // 10**9, nanosec=ns % 10**9), frame_id="odom"),
            child_frame_id="base_link",
            pose=pose_cov(
                pose=pose(
                    position=point(x=float(odo["x"][i]), y=float(odo["y"][i]), z=0.0),
                    orientation=quat(x=0.0, y=0.0, z=math.sin(0.5 * yaw), w=math.cos(0.5 * yaw)),
                ),
                covariance=zeros.copy(),
            ),
            twist=twist_cov(
                twist=twist(
                    linear=vector(x=float(odo["speed"][i]), y=0.0, z=0.0),
                    angular=vector(x=0.0, y=0.0, z=float(odo["yaw_rate"][i])),
                ),
                covariance=zeros.copy(),
            ),
        )
        yield Message(ns, topic, topics.ODOMETRY, msg)


def _predictions(run: RunRecord, store: Any) -> Iterator[Message]:
    """The driver node's outputs for every commanded frame, built by the node's own functions
    (:mod:`ncp_driver.runtime.commands`), as ``ncp-replay`` writes them."""
    types = MessageTypes.from_store(store)
    log = run.frames
    for i, ns in enumerate(log.stamp_ns):
        if not math.isfinite(log.curvature[i]):
            continue
        sec, nanosec = divmod(ns, 10**9)
        command = command_message(types, log.steering_angle[i], sec, nanosec)
        yield Message(ns, topics.absolute(topics.COMMAND), topics.TYPES[topics.COMMAND], command)
        curvature = float32_message(types, log.curvature[i])
        yield Message(
            ns, topics.absolute(topics.CURVATURE), topics.TYPES[topics.CURVATURE], curvature
        )
        values = log.neurons[i]
        if values is not None:
            neurons = neurons_message(types, values)
            yield Message(
                ns, topics.absolute(topics.NEURONS), topics.TYPES[topics.NEURONS], neurons
            )


def _tagged(stream: Iterator[Message], order: int) -> Iterator[tuple[int, int, Message]]:
    for message in stream:
        yield message.stamp_ns, order, message


def write_run_bag(
    run: RunRecord,
    path: Path,
    gps_hz: float,
    mode_hz: float,
    steering_hz: float,
    odometry_hz: float,
    storage: str = "mcap",
) -> dict[str, int]:
    """Write the run's bag folder at ``path``; the message count per topic."""
    drive = as_drive(run, gps_hz, mode_hz, steering_hz)
    counts: dict[str, int] = {}
    with BagWriter(path, storage) as bag:
        store = bag.typestore
        streams = [
            drive_messages(drive, store, lambda i: np.empty(0), camera=run.camera),
            _odometry(run, store, odometry_hz),
            _predictions(run, store),
        ]
        merged = heapq.merge(*[_tagged(s, order) for order, s in enumerate(streams)])
        for _, _, message in merged:
            bag.write(message.topic, message.msgtype, message.stamp_ns, message.msg)
            counts[message.topic] = counts.get(message.topic, 0) + 1
    return counts
