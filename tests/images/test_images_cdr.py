"""Camera messages read from their CDR bytes: the same fields as rosbags' deserialiser, no copy."""

from __future__ import annotations

import numpy as np
import pytest

from ncp_driver.bags.typestore import make_typestore
from ncp_driver.images import (
    CorruptImage,
    ImageDecodeError,
    decode_cropped,
    read_image,
)
from ncp_driver.preprocessing import Preprocessing

STORE = make_typestore()


def _ros_image(height: int, width: int, frame_id: str = "cam", encoding: str = "rgb8"):
    types = STORE.types
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, height * width * 3, dtype=np.uint8)
    header = types["std_msgs/msg/Header"](
        stamp=types["builtin_interfaces/msg/Time"](sec=1700000000, nanosec=123456789),
        frame_id=frame_id,
    )
    return types["sensor_msgs/msg/Image"](
        header=header, height=height, width=width, encoding=encoding, is_bigendian=0,
        step=width * 3, data=pixels,
    )  # fmt: skip


@pytest.mark.parametrize("little_endian", [True, False])
@pytest.mark.parametrize("frame_id", ["", "c", "camera_front"])  # every string padding
def test_an_image_reads_as_rosbags_reads_it(little_endian, frame_id):
    msg = _ros_image(7, 5, frame_id)
    data = bytes(STORE.serialize_cdr(msg, "sensor_msgs/msg/Image", little_endian=little_endian))
    got = read_image(data, "sensor_msgs/msg/Image")
    want = STORE.deserialize_cdr(data, "sensor_msgs/msg/Image")
    assert (got.header.stamp.sec, got.header.stamp.nanosec) == (1700000000, 123456789)
    assert got.header.frame_id == want.header.frame_id == frame_id
    for name in ("height", "width", "encoding", "is_bigendian", "step"):
        assert getattr(got, name) == getattr(want, name), name
    assert np.array_equal(got.data, want.data)


def test_the_pixels_are_a_view_of_the_bytes_not_a_copy():
    data = bytes(STORE.serialize_cdr(_ros_image(1208, 1920), "sensor_msgs/msg/Image"))
    got = read_image(data, "sensor_msgs/msg/Image")
    assert got.data.size == 1208 * 1920 * 3
    assert np.shares_memory(got.data, np.frombuffer(data, np.uint8))
    assert not got.data.flags.writeable


def test_a_compressed_image_reads_and_decodes():
    import cv2

    types = STORE.types
    ok, jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))
    assert ok
    msg = types["sensor_msgs/msg/CompressedImage"](
        header=types["std_msgs/msg/Header"](
            stamp=types["builtin_interfaces/msg/Time"](sec=3, nanosec=4), frame_id="cam"
        ),
        format="rgb8; jpeg compressed bgr8",
        data=jpeg.reshape(-1),
    )
    data = bytes(STORE.serialize_cdr(msg, "sensor_msgs/msg/CompressedImage"))
    got = read_image(memoryview(data), "sensor_msgs/msg/CompressedImage")
    assert got.format == "rgb8; jpeg compressed bgr8"
    assert np.array_equal(got.data, jpeg.reshape(-1))
    assert decode_cropped(got, Preprocessing()).shape[2] == 3


def test_damaged_bytes_are_named_not_garbled():
    data = bytes(STORE.serialize_cdr(_ros_image(4, 4), "sensor_msgs/msg/Image"))
    with pytest.raises(ImageDecodeError, match="truncated: data"):
        read_image(data[:-1], "sensor_msgs/msg/Image")
    with pytest.raises(ImageDecodeError, match=r"truncated: header\.frame_id"):
        read_image(data[:14], "sensor_msgs/msg/Image")
    with pytest.raises(ImageDecodeError, match="encapsulation"):
        read_image(b"\x00\x07\x00\x00" + data[4:], "sensor_msgs/msg/Image")
    with pytest.raises(ImageDecodeError, match="no encapsulation header"):
        read_image(b"\x00", "sensor_msgs/msg/Image")
    with pytest.raises(ImageDecodeError, match="not 'std_msgs/msg/Bool'"):
        read_image(data, "std_msgs/msg/Bool")
    with pytest.raises(ImageDecodeError, match="broken"):
        CorruptImage("broken").header  # noqa: B018
