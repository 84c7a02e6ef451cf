"""Reading bags: every format, split and combined bags, message types, and bad input."""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import bags_scenario as sc
import numpy as np
import pytest
from ruamel.yaml import YAML

from ncp_driver.bags import (
    BagError,
    BagWriter,
    MessageTypeError,
    Recording,
    load_auto_and_gps,
    read_messages,
)
from ncp_driver.bags.reader import bag_inputs

SMALL_TOPICS = [sc.GPS, sc.AUTO]


def _stamps_and_topics(paths: list[Path], topics: list[str]) -> list[tuple[int, str]]:
    with Recording(paths) as rec:
        return [(m.stamp_ns, m.topic) for m in rec.messages(topics)]


def test_every_format_reads_the_same_messages(scenario_bags: dict[str, Path]) -> None:
    reference = None
    for name, path in scenario_bags.items():
        with Recording([path]) as rec:
            assert rec.message_count == 120 + 600 + 600 + 1200 + 1200 + 3000, name
            assert rec.start_ns == sc.ns(0.0)
            assert rec.end_ns == sc.ns(59.98)
            topics = {t.name: (t.msgtype, t.msgcount) for t in rec.topics.values()}
            fixes = [
                (m.stamp_ns, m.message.latitude, m.message.longitude)
                for m in rec.messages([sc.GPS])
            ]
        assert topics[sc.CAMERA] == ("sensor_msgs/msg/Image", 120)
        assert topics[sc.STEERING] == ("ackermann_msgs/msg/AckermannDriveStamped", 1200)
        assert len(fixes) == 600
        if reference is None:
            reference = fixes
        assert fixes == reference, name
    assert reference is not None
    assert reference[10] == (sc.ns(1.0), *sc.latlon(1.0))


def test_formats_are_named(scenario_bags: dict[str, Path]) -> None:
    expected = {
        "rosbag1-bz2": ["rosbag1 (bz2 chunks)"],
        "rosbag1-lz4": ["rosbag1 (lz4 chunks)"],
        "sqlite3": ["rosbag2 sqlite3"],
        "mcap": ["rosbag2 mcap"],
    }
    for name, path in scenario_bags.items():
        with Recording([path]) as rec:
            assert rec.formats == expected[name]


def _split(source: Path, tmp: Path, fmt: str, name: str, cut_s: float) -> tuple[Path, Path]:
    """Copy camera, GPS and auto flag of ``source`` into two ``fmt`` bags split at ``cut_s``."""
    parts = []
    for index, (lo, hi) in enumerate(((None, sc.ns(cut_s)), (sc.ns(cut_s), None))):
        suffix = ".bag" if fmt == "rosbag1" else ""
        path = tmp / f"{name}_{index}{suffix}"
        with Recording([source]) as rec, BagWriter(path, fmt) as out:
            for msg in rec.messages([sc.CAMERA, *SMALL_TOPICS], start_ns=lo, stop_ns=hi):
                out.write(msg.topic, msg.msgtype, msg.stamp_ns, _convert(msg.message, out))
        parts.append(path)
    return parts[0], parts[1]


def _convert(message: object, out: BagWriter) -> object:
    """Rebuild a message for another format's type store (ROS 1 headers have a seq)."""
    msgtype = message.__msgtype__  # type: ignore[attr-defined]
    fields = {}
    for name in out.typestore.fielddefs[msgtype][1]:
        key = name[0]
        value = getattr(message, key, None)
        if value is not None and hasattr(value, "__msgtype__"):
            value = _convert(value, out)
        fields[key] = value
    return out.message(msgtype, **fields)


def test_several_bags_of_different_formats_read_as_one_recording(
    scenario_bags: dict[str, Path], tmp_path: Path
) -> None:
    first, _ = _split(scenario_bags["sqlite3"], tmp_path, "rosbag1", "a", 30.0)
    _, second = _split(scenario_bags["sqlite3"], tmp_path, "mcap", "b", 30.0)
    # Given in reverse order: the recording is still in time order.
    merged = _stamps_and_topics([second, first], SMALL_TOPICS)
    whole = _stamps_and_topics([scenario_bags["sqlite3"]], SMALL_TOPICS)
    assert merged == whole
    with Recording([second, first]) as rec:
        assert rec.topics[sc.GPS].msgcount == 600
        assert rec.start_ns == sc.ns(0.0)
        assert rec.end_ns == sc.ns(59.9)  # the last fix and flag (the copies hold no IMU)


def test_split_ros2_folder_with_metadata(scenario_bags: dict[str, Path], tmp_path: Path) -> None:
    first, second = _split(scenario_bags["mcap"], tmp_path, "sqlite3", "part", 20.0)
    split = tmp_path / "split"
    split.mkdir()
    yaml = YAML(typ="safe")
    meta_a = yaml.load((first / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    meta_b = yaml.load((second / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    shutil.copy(first / "part_0.db3", split / "split_0.db3")
    shutil.copy(second / "part_1.db3", split / "split_1.db3")
    counts = Counter()
    for meta in (meta_a, meta_b):
        for entry in meta["topics_with_message_count"]:
            counts[entry["topic_metadata"]["name"]] += entry["message_count"]
    merged = dict(meta_a)
    merged["relative_file_paths"] = ["split_0.db3", "split_1.db3"]
    merged["files"] = [
        dict(meta_a["files"][0], path="split_0.db3"),
        dict(meta_b["files"][0], path="split_1.db3"),
    ]
    merged["message_count"] = meta_a["message_count"] + meta_b["message_count"]
    merged["duration"] = {
        "nanoseconds": meta_b["starting_time"]["nanoseconds_since_epoch"]
        + meta_b["duration"]["nanoseconds"]
        - meta_a["starting_time"]["nanoseconds_since_epoch"]
    }
    for entry in merged["topics_with_message_count"]:
        entry["message_count"] = counts[entry["topic_metadata"]["name"]]
    with (split / "metadata.yaml").open("w") as stream:
        yaml.dump({"rosbag2_bagfile_information": merged}, stream)

    assert _stamps_and_topics([split], SMALL_TOPICS) == _stamps_and_topics(
        [scenario_bags["mcap"]], SMALL_TOPICS
    )
    with Recording([split]) as rec:
        assert rec.topics[sc.CAMERA].msgcount == 120
        assert rec.formats == ["rosbag2 sqlite3"]


def test_db3_without_metadata(scenario_bags: dict[str, Path], tmp_path: Path) -> None:
    bare = tmp_path / "bare.db3"
    shutil.copy(scenario_bags["sqlite3"] / "drive.db3", bare)
    folder = tmp_path / "no_metadata"
    folder.mkdir()
    shutil.copy(scenario_bags["sqlite3"] / "drive.db3", folder / "drive.db3")
    whole = _stamps_and_topics([scenario_bags["sqlite3"]], SMALL_TOPICS)
    assert _stamps_and_topics([bare], SMALL_TOPICS) == whole
    assert _stamps_and_topics([folder], SMALL_TOPICS) == whole
    assert bag_inputs(folder) == ("ros2", [folder / "drive.db3"])


def test_db3_without_metadata_or_definitions_uses_the_built_in_types(
    scenario_bags: dict[str, Path], tmp_path: Path
) -> None:
    """An old sqlite3 bag (no message_definitions table, no metadata.yaml) still reads."""
    bare = tmp_path / "old.db3"
    shutil.copy(scenario_bags["sqlite3"] / "drive.db3", bare)
    with sqlite3.connect(bare) as con:
        con.execute("DROP TABLE message_definitions")
        con.execute("DROP TABLE schema")
    with Recording([bare]) as rec:
        steering = [m.message.drive.steering_angle for m in rec.messages([sc.STEERING])]
    assert len(steering) == 1200
    assert steering[0] == pytest.approx(sc.STEERING_ANGLE, abs=1e-7)


def _custom_bag(tmp_path: Path) -> tuple[Path, Path]:
    """A bag of a vehicle's own type whose definition is not stored in the bag."""
    msgs = tmp_path / "msgs"
    (msgs / "my_msgs" / "msg").mkdir(parents=True)
    (msgs / "my_msgs" / "msg" / "Mode.msg").write_text("bool autonomous\nstring reason\n")
    bag = tmp_path / "custom"
    with BagWriter(bag, "sqlite3", msg_dirs=[msgs]) as w:
        for k, auto in enumerate([False, True, True, True, False, False]):
            mode = w.message("my_msgs/msg/Mode", autonomous=auto, reason=f"r{k}")
            w.write("/vehicle/mode", "my_msgs/msg/Mode", sc.ns(k), mode)
    with sqlite3.connect(bag / "custom.db3") as con:
        con.execute("DELETE FROM message_definitions WHERE topic_type = 'my_msgs/msg/Mode'")
    return bag, msgs


def test_unknown_type_asks_for_msg_dir_and_reads_with_it(tmp_path: Path) -> None:
    bag, msgs = _custom_bag(tmp_path)
    with Recording([bag]) as rec, pytest.raises(MessageTypeError) as info:
        list(rec.messages(["/vehicle/mode"]))
    assert str(bag) in str(info.value)
    assert "--msg-dir" in str(info.value)
    assert "my_msgs/msg/Mode.msg" in str(info.value)
    with Recording([bag], [msgs]) as rec:
        reasons = [m.message.reason for m in rec.messages(["/vehicle/mode"])]
    assert reasons == ["r0", "r1", "r2", "r3", "r4", "r5"]


def test_type_defined_in_the_bag_needs_no_msg_dir(tmp_path: Path) -> None:
    msgs = tmp_path / "msgs"
    (msgs / "my_msgs" / "msg").mkdir(parents=True)
    (msgs / "my_msgs" / "msg" / "Mode.msg").write_text("bool autonomous\n")
    for fmt, name in (("rosbag1", "own.bag"), ("mcap", "own")):
        with BagWriter(tmp_path / name, fmt, msg_dirs=[msgs]) as w:
            w.write(
                "/mode",
                "my_msgs/msg/Mode",
                sc.ns(0),
                w.message("my_msgs/msg/Mode", autonomous=True),
            )
        with Recording([tmp_path / name]) as rec:
            assert [m.message.autonomous for m in rec.messages(["/mode"])] == [True]


@pytest.mark.parametrize("fmt", ["sqlite3", "rosbag1", "mcap"])
def test_bad_message_is_skipped_and_counted(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / ("bad.bag" if fmt == "rosbag1" else "bad")
    with BagWriter(path, fmt) as w:
        for k in range(6):
            if k == 3:
                w.write_raw(sc.GPS, sc.ns(k), b"\x00\x01\x00\x00\x05")
            else:
                fix = w.message("sensor_msgs/msg/NavSatFix", latitude=float(k))
                w.write(sc.GPS, "sensor_msgs/msg/NavSatFix", sc.ns(k), fix)
    with Recording([path]) as rec:
        latitudes = [m.message.latitude for m in rec.messages([sc.GPS])]
        assert latitudes == [0.0, 1.0, 2.0, 4.0, 5.0]
        assert rec.skipped == Counter({sc.GPS: 1})
        assert "skipped 1 message(s) on /gps/fix" in rec.skip_summary()
    skipped: Counter[str] = Counter()
    assert len(list(read_messages([path], [sc.GPS], skipped=skipped))) == 5
    assert skipped[sc.GPS] == 1


def test_truncated_ros1_bag(scenario_bags: dict[str, Path], tmp_path: Path) -> None:
    data = scenario_bags["rosbag1-lz4"].read_bytes()
    cut = tmp_path / "cut.bag"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(BagError) as info:
        Recording([cut]).open()
    text = str(info.value)
    assert str(cut) in text
    assert "truncated" in text
    assert f"rosbag reindex {cut}" in text


def test_damaged_chunk_stops_reading_with_the_file_named(
    scenario_bags: dict[str, Path], tmp_path: Path
) -> None:
    data = bytearray(scenario_bags["rosbag1-bz2"].read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # inside a bz2 chunk: its CRC no longer matches
    damaged = tmp_path / "damaged.bag"
    damaged.write_bytes(bytes(data))
    with Recording([damaged]) as rec, pytest.raises(BagError) as info:
        for _ in rec.messages([sc.GPS]):
            pass
    assert str(damaged) in str(info.value)
    assert "reading stopped part-way" in str(info.value)
    assert "rosbag reindex" in str(info.value)


def test_unindexed_ros1_bag(tmp_path: Path) -> None:
    """A recording killed before closing: chunks on disk, no index."""
    writer = BagWriter(tmp_path / "killed.bag", "rosbag1")
    noise = np.arange(300_000, dtype=np.uint8)
    for k in range(8):  # > 1 MiB: rosbags writes chunks as it goes
        img = writer.message(
            "sensor_msgs/msg/Image",
            height=1,
            width=300_000,
            encoding="mono8",
            step=300_000,
            data=noise,
        )
        writer.write(sc.CAMERA, "sensor_msgs/msg/Image", sc.ns(k), img)
    inner = writer._writer
    inner.bio.flush()  # type: ignore[union-attr]
    killed = tmp_path / "copy.bag"
    shutil.copy(inner.path, killed)
    writer.abort()
    assert killed.stat().st_size > 1_000_000
    with pytest.raises(BagError) as info:
        Recording([killed]).open()
    assert str(killed) in str(info.value)
    assert "not closed properly (no index)" in str(info.value)
    assert f"rosbag reindex {killed}" in str(info.value)


def test_active_ros1_bag_is_named(tmp_path: Path) -> None:
    active = tmp_path / "drive.bag.active"
    active.write_bytes(b"#ROSBAG V2.0\n")
    with pytest.raises(BagError, match="never closed"):
        Recording([active])


def test_mcap_cut_short(scenario_bags: dict[str, Path], tmp_path: Path) -> None:
    data = (scenario_bags["mcap"] / "drive.mcap").read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BagError) as info:
        Recording([cut]).open()
    assert str(cut) in str(info.value)
    assert f"mcap recover {cut}" in str(info.value)


def test_metadata_naming_a_missing_file(scenario_bags: dict[str, Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(scenario_bags["sqlite3"] / "metadata.yaml", broken / "metadata.yaml")
    with pytest.raises(BagError) as info:
        Recording([broken]).open()
    assert str(broken) in str(info.value)
    assert "give the .db3/.mcap files themselves" in str(info.value)


def test_not_a_bag(tmp_path: Path) -> None:
    with pytest.raises(BagError, match="does not exist"):
        Recording([tmp_path / "missing.bag"])
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(BagError, match="unknown bag format"):
        Recording([text])
    (tmp_path / "empty").mkdir()
    with pytest.raises(BagError, match=r"neither metadata\.yaml nor"):
        Recording([tmp_path / "empty"])
    with pytest.raises(BagError, match="no bag given"):
        Recording([])


def test_load_auto_and_gps(scenario_bags: dict[str, Path]) -> None:
    auto, gps = load_auto_and_gps([scenario_bags["mcap"]])
    assert auto.topic == sc.AUTO and gps.topic == sc.GPS
    assert len(auto) == len(gps) == 600
    expected = [sc.autonomous(k * 0.1) for k in range(600)]
    assert auto["autonomous"].astype(bool).tolist() == expected
    assert gps.stamp_ns[123] == sc.ns(12.3)
    assert gps["latitude"][123] == sc.latlon(12.3)[0]
    assert gps["altitude"][123] == pytest.approx(101.23)


def test_ros2_camera_frames_are_read_by_the_cars_cdr_reader(scenario_bag):
    """ROS 2 bags: camera messages come from ncp_driver.images.read_image (what the node reads
    live with), pixels as a read-only view; ROS 1 bags: rosbags' deserialiser. Same pixels."""
    from ncp_driver.images.messages import Image

    with Recording([scenario_bag]) as rec:
        first = next(iter(rec.messages([sc.CAMERA])))
    message = first.message
    ros2 = scenario_bag.suffix != ".bag"
    assert isinstance(message, Image) == ros2
    assert message.__msgtype__ == "sensor_msgs/msg/Image"
    assert (message.height, message.width, message.encoding) == (30, 40, "rgb8")
    pixels = np.asarray(message.data).reshape(30, 40, 3)
    assert np.array_equal(pixels, sc.frame_pixels(0))
    if ros2:
        assert not message.data.flags.writeable
