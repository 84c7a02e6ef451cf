"""replay.mcap: one MCAP file with the original topics (as CDR) plus one command and curvature
message per commanded frame, neurons and features per model step, saliency images and the model
as metadata records; from a ROS 2 sqlite3 bag and from a ROS 1 bag. Read back with the project's
reader, rosbags' AnyReader and the PyPI ``mcap`` reader."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mcap.reader import make_reader
from replay_helpers import CAMERA, COMMAND, CURVATURE, NEURONS, copy_bag
from rosbags.highlevel import AnyReader

from ncp_driver.bags import Recording, make_typestore
from ncp_driver.images import image_stamp
from ncp_driver.replay.engine import ReplaySettings, replay
from ncp_driver.replay.outputs import write_mcap
from ncp_driver.topics import SALIENCY, SENSORY, TYPES, absolute

DAMAGED_FRAME = 50


def plain(value: Any) -> Any:
    """A message as nested plain values; ROS 1's ``Header.seq`` (absent in ROS 2) left out."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: plain(getattr(value, k)) for k in value.__dataclass_fields__ if k != "seq"}
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def read_all(bag: Path) -> tuple[dict[str, str], dict[str, list[tuple[int, Any]]]]:
    """Topic types, and (record ns, message) per topic."""
    per_topic: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    with Recording([bag]) as recording:
        types = {name: info.msgtype or "" for name, info in recording.topics.items()}
        for message in recording.messages(list(types)):
            per_topic[message.topic].append((message.stamp_ns, message.message))
        assert not recording.skipped
    return types, per_topic


def truncate_one_frame(index: int, topic: str, message: Any) -> Any:
    """The frame DAMAGED_FRAME with half its pixel bytes: it cannot be decoded."""
    if topic == CAMERA and index == DAMAGED_FRAME:
        message.data = message.data[: message.data.size // 2].copy()
        return message
    return None


@pytest.fixture(params=["ros2-sqlite3", "ros2-sqlite3-bad-frame", "ros1"])
def source_bag(
    request: pytest.FixtureRequest, ros2_bag: Path, ros1_bag: Path, tmp_path: Path
) -> tuple[Path, bool]:
    """The drive as written by the generator, or a copy with one undecodable frame (so that
    one frame commands nothing); with whether it has that frame."""
    if request.param == "ros1":
        return ros1_bag, False
    if request.param == "ros2-sqlite3":
        return ros2_bag, False
    return copy_bag(ros2_bag, tmp_path / "damaged", edit=truncate_one_frame), True


def test_mcap_holds_the_bag_and_the_predictions(
    source_bag: tuple[Path, bool], replay_model: Path, tmp_path: Path
) -> None:
    bag, damaged = source_bag
    result = replay([bag], ReplaySettings(model=replay_model))
    out = tmp_path / "replay.mcap"
    write_mcap(result, out)

    original_types, original = read_all(bag)
    types, written = read_all(out)
    assert out.is_file()  # one file, not a rosbag2 folder

    # Every original topic, message for message (ROS 1 converted to CDR), with its record time.
    new_topics = {COMMAND: TYPES["ncp/steering_cmd"], CURVATURE: TYPES["ncp/curvature"]}
    new_topics[NEURONS] = TYPES["ncp/neurons"]
    new_topics[absolute(SENSORY)] = TYPES[SENSORY]
    assert types == {**original_types, **new_topics}
    assert new_topics == {
        COMMAND: "ackermann_msgs/msg/AckermannDriveStamped",
        CURVATURE: "std_msgs/msg/Float32",
        NEURONS: "std_msgs/msg/Float32MultiArray",
        absolute(SENSORY): "std_msgs/msg/Float32MultiArray",
    }
    for topic, messages in original.items():
        assert [t for t, _ in written[topic]] == [t for t, _ in messages], topic
        assert [plain(m) for _, m in written[topic]] == [plain(m) for _, m in messages], topic

    # One command per commanded frame, stamped with the frame's own image stamp.
    log = result.clean
    frames = original[CAMERA]
    commanded = [i for i in range(len(log)) if math.isfinite(log.curvature[i])]
    assert len(frames) == len(log)
    assert len(commanded) == len(frames) - (1 if damaged else 0)
    if damaged:
        assert log.status[DAMAGED_FRAME] == "rejected"
        assert DAMAGED_FRAME not in commanded
    commands, curvatures, neurons = written[COMMAND], written[CURVATURE], written[NEURONS]
    assert len(written[absolute(SENSORY)]) == len(neurons)
    assert len(commands) == len(curvatures) == len(neurons) == len(commanded)
    by_row = dict(zip(log.model_rows, log.neurons, strict=True))
    for k, i in enumerate(commanded):
        record_ns, frame = frames[i]
        ns, command = commands[k]
        assert ns == record_ns
        assert command.header.stamp.sec == frame.header.stamp.sec
        assert command.header.stamp.nanosec == frame.header.stamp.nanosec
        assert image_stamp(frame) == pytest.approx(log.stamp[i], abs=1e-9)
        assert command.drive.steering_angle == pytest.approx(log.steering_angle[i], abs=1e-6)
        assert curvatures[k][0] == ns and neurons[k][0] == ns
        assert curvatures[k][1].data == pytest.approx(log.curvature[i], abs=1e-6)
        np.testing.assert_allclose(neurons[k][1].data, by_row[i], rtol=0, atol=1e-6)
        assert neurons[k][1].layout.dim[0].size == by_row[i].size == 19


def test_mcap_without_images_leaves_the_camera_out(
    ros2_bag: Path, replay_model: Path, tmp_path: Path
) -> None:
    result = replay([ros2_bag], ReplaySettings(model=replay_model))
    write_mcap(result, tmp_path / "replay.mcap", images=False)
    types, written = read_all(tmp_path / "replay.mcap")
    assert CAMERA not in types
    assert len(written[COMMAND]) == result.frames


def test_mcap_is_one_file_with_saliency_and_the_model_for_foxglove(
    ros2_bag: Path, replay_model: Path, tmp_path: Path
) -> None:
    result = replay([ros2_bag], ReplaySettings(model=replay_model))
    out = tmp_path / "replay.mcap"
    seen: list[np.ndarray] = []

    def saliency(crop: np.ndarray) -> np.ndarray:  # a stand-in image that records its input
        seen.append(crop)
        return np.full_like(crop, len(seen))

    write_mcap(result, out, saliency=saliency, saliency_hz=2.0)
    assert out.is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["replay.mcap"]

    # The PyPI mcap reader: ROS 2 profile, CDR, ros2msg schemas, the model's metadata records.
    with out.open("rb") as stream:
        reader = make_reader(stream)
        header = reader.get_header()
        summary = reader.get_summary()
        records = {m.name: m.metadata for m in reader.iter_metadata()}
    assert header.profile == "ros2" and summary is not None
    assert {c.message_encoding for c in summary.channels.values()} == {"cdr"}
    assert {s.encoding for s in summary.schemas.values()} == {"ros2msg"}
    model = records["ncp_model"]
    assert model["sha256"] == result.model_info["model_sha256"] and model["kind"] == "ncp"
    assert result.preprocessing is not None
    assert records["ncp_preprocessing"]["out_width"] == str(result.preprocessing.out_width)
    assert absolute(SALIENCY) in records["ncp_replay"]["outputs"]

    # rosbags opens the bare file; the saliency images carry the camera frames' headers.
    with AnyReader([out], default_typestore=make_typestore()) as bag:
        by_topic = {c.topic: c for c in bag.connections}
        cams = [
            (ns, bag.deserialize(raw, c.msgtype)) for c, ns, raw in bag.messages([by_topic[CAMERA]])
        ]
        maps = [
            (ns, bag.deserialize(raw, c.msgtype))
            for c, ns, raw in bag.messages([by_topic[absolute(SALIENCY)]])
        ]
    duration_s = (cams[-1][0] - cams[0][0]) * 1e-9
    assert len(maps) == len(seen) and abs(len(maps) - 2.0 * duration_s) <= 2
    cam_by_ns = dict(cams)
    for k, (ns, image) in enumerate(maps):
        frame = cam_by_ns[ns]  # at a camera frame's record time ...
        assert image.header.stamp == frame.header.stamp  # ... with its stamp and frame_id
        assert image.header.frame_id == frame.header.frame_id
        assert (image.height, image.width, image.encoding) == (*seen[k].shape[:2], "rgb8")
        assert set(np.unique(image.data).tolist()) == {k + 1}
