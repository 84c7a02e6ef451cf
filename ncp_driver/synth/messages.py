"""The drive as ROS messages (rosbags message classes), in time order, for ROS 1 or ROS 2 stores.

==========================  ======================================  ================================
topic (``ncp_driver.topics``)  type                                  content
==========================  ======================================  ================================
CAMERA_RAW                  sensor_msgs/msg/Image                   rgb8 (or bgr8) frames, frame_id
                                                                    "camera"
CAMERA_COMPRESSED           sensor_msgs/msg/CompressedImage         JPEG, format
                            (instead, with ``compressed``)          "<encoding>; jpeg compressed bgr8"
GPS                         sensor_msgs/msg/NavSatFix               fix, diagonal covariance
AUTO_MODE                   std_msgs/msg/Bool                       True while the car drives itself
HUMAN_STEERING              ackermann_msgs/msg/AckermannDriveStamped  steering_angle =
                                                                    atan(wheelbase * curvature)
==========================  ======================================  ================================

Header stamps and bag timestamps are the simulation time (ns since the epoch); Bool has no
header, so its stamp is the bag timestamp.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ncp_driver import topics
from ncp_driver.runtime.steering import curvature_to_steering_angle
from ncp_driver.synth.errors import SynthError
from ncp_driver.synth.simulate import Drive

if TYPE_CHECKING:
    from rosbags.typesys.store import Typestore

__all__ = [
    "ENCODINGS",
    "Message",
    "StreamSpec",
    "camera_message",
    "drive_messages",
    "stream_specs",
]

ENCODINGS = ("rgb8", "bgr8")


@dataclass(frozen=True)
class StreamSpec:
    """One topic of the bag: its absolute name, type and message count."""

    topic: str
    msgtype: str
    count: int


@dataclass(frozen=True)
class Message:
    """A message ready to serialise: bag timestamp (ns), absolute topic, its type, the object."""

    stamp_ns: int
    topic: str
    msgtype: str
    msg: Any


def stream_specs(drive: Drive, compressed: bool) -> list[StreamSpec]:
    """The topics a bag of ``drive`` holds, in connection order."""
    camera = topics.CAMERA_COMPRESSED if compressed else topics.CAMERA_RAW
    return [
        StreamSpec(topics.absolute(camera), topics.TYPES[camera], drive.frame_count),
        StreamSpec(topics.absolute(topics.GPS), topics.TYPES[topics.GPS], drive.gps.stamps_ns.size),
        StreamSpec(
            topics.absolute(topics.AUTO_MODE),
            topics.TYPES[topics.AUTO_MODE],
            drive.mode.stamps_ns.size,
        ),
        StreamSpec(
            topics.absolute(topics.HUMAN_STEERING),
            topics.TYPES[topics.HUMAN_STEERING],
            len(drive.steering),
        ),
    ]


class _Factory:
    """Builds messages with one type store's classes (ROS 1 headers carry ``seq``)."""

    def __init__(self, typestore: Typestore):
        self.types = typestore.types
        header = self.types["std_msgs/msg/Header"]
        self.ros1 = "seq" in getattr(header, "__dataclass_fields__", {})

    def header(self, stamp_ns: int, frame_id: str, seq: int) -> Any:
        time = self.types["builtin_interfaces/msg/Time"](
            sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000
        )
        header = self.types["std_msgs/msg/Header"]
        if self.ros1:
            return header(seq=seq, stamp=time, frame_id=frame_id)
        return header(stamp=time, frame_id=frame_id)


def drive_messages(
    drive: Drive,
    typestore: Typestore,
    render: Callable[[int], np.ndarray],
    compressed: bool = False,
    encoding: str = "rgb8",
    jpeg_quality: int = 90,
    camera: Iterable[Message] | None = None,
) -> Iterator[Message]:
    """Every message of the drive in timestamp order; frames are rendered as they come.

    ``camera``: the camera messages, made elsewhere (in time order), instead of rendering.
    """
    if encoding not in ENCODINGS:
        raise SynthError(f"encoding {encoding!r} must be one of {list(ENCODINGS)}")
    if not 1 <= jpeg_quality <= 100:
        raise SynthError(f"jpeg_quality = {jpeg_quality} must be in 1..100")
    factory = _Factory(typestore)
    specs = stream_specs(drive, compressed)
    streams = [
        iter(camera)
        if camera is not None
        else _camera(drive, factory, specs[0], render, compressed, encoding, jpeg_quality),
        _gps(drive, factory, specs[1]),
        _mode(drive, factory, specs[2]),
        _steering(drive, factory, specs[3]),
    ]
    # Ties (equal stamps) keep the stream order above: camera, GPS, flag, steering.
    merged = heapq.merge(*[_tagged(stream, order) for order, stream in enumerate(streams)])
    for _, _, message in merged:
        yield message


def _tagged(stream: Iterator[Message], order: int) -> Iterator[tuple[int, int, Message]]:
    for message in stream:
        yield message.stamp_ns, order, message


def _camera(
    drive: Drive,
    factory: _Factory,
    spec: StreamSpec,
    render: Callable[[int], np.ndarray],
    compressed: bool,
    encoding: str,
    quality: int,
) -> Iterator[Message]:
    stamps = drive.camera.stamps_ns
    for i in range(stamps.size):
        stamp = int(stamps[i])
        msg = _image(factory, render(i), stamp, i, compressed, encoding, quality)
        yield Message(stamp, spec.topic, spec.msgtype, msg)


def camera_message(
    typestore: Typestore,
    rgb: np.ndarray,
    stamp_ns: int,
    seq: int = 0,
    compressed: bool = False,
    encoding: str = "rgb8",
    jpeg_quality: int = 90,
) -> Message:
    """One camera frame (H x W x 3 RGB uint8) as the synthetic bags carry it: a
    sensor_msgs/Image (``encoding`` rgb8 or bgr8) or, ``compressed``, a CompressedImage (JPEG)."""
    if encoding not in ENCODINGS:
        raise SynthError(f"encoding {encoding!r} must be one of {list(ENCODINGS)}")
    camera = topics.CAMERA_COMPRESSED if compressed else topics.CAMERA_RAW
    msg = _image(_Factory(typestore), rgb, stamp_ns, seq, compressed, encoding, jpeg_quality)
    return Message(stamp_ns, topics.absolute(camera), topics.TYPES[camera], msg)


def _image(
    factory: _Factory,
    rgb: np.ndarray,
    stamp: int,
    seq: int,
    compressed: bool,
    encoding: str,
    quality: int,
) -> Any:
    header = factory.header(stamp, "camera", seq)
    if compressed:
        ok, jpeg = cv2.imencode(
            ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
        )
        if not ok:  # pragma: no cover - OpenCV failure
            raise SynthError(f"JPEG encoding of frame {seq} failed")
        return factory.types[topics.COMPRESSED_IMAGE](
            header=header,
            format=f"{encoding}; jpeg compressed bgr8",
            data=jpeg.reshape(-1),
        )
    pixels = rgb if encoding == "rgb8" else rgb[..., ::-1]
    height, width = pixels.shape[:2]
    return factory.types[topics.IMAGE](
        header=header,
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=0,
        step=width * 3,
        data=np.ascontiguousarray(pixels).reshape(-1),
    )


def _gps(drive: Drive, factory: _Factory, spec: StreamSpec) -> Iterator[Message]:
    gps = drive.gps
    fix: Any = factory.types[topics.NAVSATFIX]
    status: Any = factory.types["sensor_msgs/msg/NavSatStatus"]
    var = gps.std_m**2
    covariance = np.array([var, 0, 0, 0, var, 0, 0, 0, 4 * var], dtype=np.float64)
    for k in range(gps.stamps_ns.size):
        stamp = int(gps.stamps_ns[k])
        msg = fix(
            header=factory.header(stamp, "gps", k),
            status=status(status=status.STATUS_FIX, service=status.SERVICE_GPS),
            latitude=float(gps.latitude[k]),
            longitude=float(gps.longitude[k]),
            altitude=float(gps.altitude[k]),
            position_covariance=covariance.copy(),
            position_covariance_type=fix.COVARIANCE_TYPE_DIAGONAL_KNOWN,
        )
        yield Message(stamp, spec.topic, spec.msgtype, msg)


def _mode(drive: Drive, factory: _Factory, spec: StreamSpec) -> Iterator[Message]:
    boolean = factory.types[topics.BOOL]
    for stamp, auto in zip(drive.mode.stamps_ns, drive.mode.auto, strict=True):
        yield Message(int(stamp), spec.topic, spec.msgtype, boolean(data=bool(auto)))


def _steering(drive: Drive, factory: _Factory, spec: StreamSpec) -> Iterator[Message]:
    """What the car did: road-wheel angle from the driven curvature (bicycle model)."""
    wheelbase = drive.config.wheelbase_m
    sim = drive.sim
    t = (sim.stamps_ns - sim.stamps_ns[0]) * 1e-9
    angle = curvature_to_steering_angle(sim.curvature, wheelbase)
    # Rates as magnitudes, as ackermann_msgs defines them.
    q = (drive.steering.stamps_ns - sim.stamps_ns[0]) * 1e-9
    angle_rate = np.abs(np.interp(q, t, np.gradient(angle, t)))
    accel = np.abs(np.interp(q, t, np.gradient(sim.speed, t)))
    stamped = factory.types[topics.ACKERMANN_STAMPED]
    drive_msg = factory.types[topics.ACKERMANN]
    steer = drive.steering
    for k in range(len(steer)):
        stamp = int(steer.stamps_ns[k])
        msg = stamped(
            header=factory.header(stamp, "base_link", k),
            drive=drive_msg(
                steering_angle=curvature_to_steering_angle(float(steer.curvature[k]), wheelbase),
                steering_angle_velocity=float(angle_rate[k]),
                speed=float(steer.speed[k]),
                acceleration=float(accel[k]),
                jerk=0.0,
            ),
        )
        yield Message(stamp, spec.topic, spec.msgtype, msg)
