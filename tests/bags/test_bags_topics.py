"""Finding topics by type: defaults, ambiguity, absence, overrides."""

from __future__ import annotations

import pytest

from ncp_driver.bags import TopicError, TopicInfo
from ncp_driver.bags.topics import find_topic, find_topic_optional, split_field

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
BOOL = "std_msgs/msg/Bool"


def bag(**topics: str) -> dict[str, TopicInfo]:
    """Topics from keyword pairs: name (underscores for slashes) -> type."""
    out = {}
    for key, msgtype in topics.items():
        name = "/" + key.replace("__", "/")
        out[name] = TopicInfo(name, msgtype, 10)
    return out


def test_single_candidate_is_found() -> None:
    topics = bag(front__image=IMAGE, fix="sensor_msgs/msg/NavSatFix")
    assert find_topic(topics, "camera") == "/front/image"
    assert find_topic(topics, "gps") == "/fix"


def test_raw_camera_wins_over_its_own_compressed_republication() -> None:
    topics = bag(cam__image=IMAGE, cam__image__compressed=COMPRESSED)
    assert find_topic(topics, "camera") == "/cam/image"


def test_project_default_name_wins() -> None:
    topics = bag(camera__image_raw=IMAGE, other__image=IMAGE, mono__image=COMPRESSED)
    assert find_topic(topics, "camera") == "/camera/image_raw"
    steering = bag(
        vehicle__steering="ackermann_msgs/msg/AckermannDriveStamped",
        ncp__steering_cmd="ackermann_msgs/msg/AckermannDriveStamped",
    )
    assert find_topic(steering, "steering") == "/vehicle/steering"


def test_ambiguous_choice_lists_candidates_and_flag() -> None:
    topics = bag(left__image=IMAGE, right__image=COMPRESSED, fix="sensor_msgs/msg/NavSatFix")
    with pytest.raises(TopicError) as info:
        find_topic(topics, "camera", source="run.bag")
    text = str(info.value)
    assert text.startswith("run.bag: several topics could be camera images")
    assert "/left/image (sensor_msgs/msg/Image)" in text
    assert "/right/image (sensor_msgs/msg/CompressedImage)" in text
    assert "--camera TOPIC" in text


def test_missing_topic_lists_what_the_bag_has() -> None:
    topics = bag(fix="sensor_msgs/msg/NavSatFix", enabled=BOOL)
    with pytest.raises(TopicError) as info:
        find_topic(topics, "auto", source="run.bag")
    text = str(info.value)
    assert "run.bag has no topic for the auto-mode flag" in text
    assert "whose name contains 'auto'" in text
    assert "/enabled (std_msgs/msg/Bool, 10 msgs)" in text
    assert "/fix (sensor_msgs/msg/NavSatFix, 10 msgs)" in text
    assert "--auto TOPIC" in text
    assert find_topic_optional(topics, "auto") is None


def test_auto_flag_is_a_bool_named_auto_or_autonomous() -> None:
    topics = bag(enabled=BOOL, car__Autonomous_mode=BOOL)
    assert find_topic(topics, "auto") == "/car/Autonomous_mode"
    assert find_topic(bag(dbw__auto=BOOL, brake=BOOL), "auto") == "/dbw/auto"


def test_given_topic_must_exist_and_have_the_right_type() -> None:
    topics = bag(fix="sensor_msgs/msg/NavSatFix", front=IMAGE)
    assert find_topic(topics, "camera", "/front") == "/front"
    with pytest.raises(TopicError, match="has no topic '/rear' \\(--camera\\)"):
        find_topic(topics, "camera", "/rear")
    with pytest.raises(TopicError, match="--gps /front is sensor_msgs/msg/Image"):
        find_topic(topics, "gps", "/front")


def test_field_syntax_for_auto_and_steering_only() -> None:
    topics = bag(vehicle__status="my_msgs/msg/Status")
    assert split_field("/vehicle/status:mode.autonomous") == ("/vehicle/status", "mode.autonomous")
    assert split_field("/fix") == ("/fix", None)
    assert find_topic(topics, "auto", "/vehicle/status:autonomous") == "/vehicle/status"
    assert find_topic(topics, "steering", "/vehicle/status:angle") == "/vehicle/status"
    with pytest.raises(TopicError, match="TOPIC:FIELD works only for --auto, --steering"):
        find_topic(topics, "gps", "/vehicle/status:fix")
