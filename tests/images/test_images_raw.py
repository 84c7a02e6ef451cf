"""Raw sensor_msgs/Image: every encoding decodes to the right pixels; bad messages say why."""

from __future__ import annotations

import array

import numpy as np
import pytest
from images_patterns import bayer_mosaic, colour_blocks, raw_message, yuv_planes, yuv_to_rgb

from ncp_driver import errors
from ncp_driver.images import RAW_ENCODINGS, ImageDecodeError, decode_image, image_stamp
from ncp_driver.images.messages import image_message

H, W = 16, 24


def packed_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(encoding, payload rows, expected RGB) for the packed 8- and 16-bit encodings."""
    rgb = colour_blocks(H, W)
    alpha = np.full((H, W, 1), 77, np.uint8)
    grey = rgb[..., 1]
    cases = [
        ("rgb8", rgb, rgb),
        ("bgr8", rgb[..., ::-1], rgb),
        ("rgba8", np.concatenate([rgb, alpha], -1), rgb),
        ("bgra8", np.concatenate([rgb[..., ::-1], alpha], -1), rgb),
        ("mono8", grey, np.repeat(grey[..., None], 3, -1)),
        ("8UC1", grey, np.repeat(grey[..., None], 3, -1)),
    ]
    # 16-bit: high byte = the expected 8-bit value, low byte = noise that must be ignored.
    low = np.random.default_rng(1).integers(0, 256, (H, W, 4)).astype(np.uint16)
    wide = rgb.astype(np.uint16) * 256 + low[..., :3]
    wide_a = np.concatenate([wide, alpha.astype(np.uint16) * 256 + low[..., 3:]], -1)
    cases += [
        ("rgb16", wide.astype("<u2"), rgb),
        ("bgr16", wide[..., ::-1].astype("<u2"), rgb),
        ("rgba16", wide_a.astype("<u2"), rgb),
        ("bgra16", np.concatenate([wide[..., ::-1], wide_a[..., 3:]], -1).astype("<u2"), rgb),
        ("mono16", wide[..., 1].astype("<u2"), np.repeat(grey[..., None], 3, -1)),
        ("16UC1", wide[..., 1].astype("<u2"), np.repeat(grey[..., None], 3, -1)),
    ]
    return cases


@pytest.mark.parametrize("padding", [0, 5])
@pytest.mark.parametrize(("encoding", "payload", "expected"), packed_cases())
def test_packed_encodings_decode_exactly(
    encoding: str, payload: np.ndarray, expected: np.ndarray, padding: int
) -> None:
    msg = raw_message(np.ascontiguousarray(payload), H, W, encoding, padding)
    rgb = decode_image(msg)
    assert rgb.shape == (H, W, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb, expected)
    assert rgb.flags.c_contiguous and rgb.flags.writeable


def test_big_endian_16_bit_keeps_the_high_byte() -> None:
    values = np.arange(H * W, dtype=np.uint16).reshape(H, W) * 150
    msg = raw_message(values.astype(">u2"), H, W, "mono16", bigendian=1)
    np.testing.assert_array_equal(decode_image(msg)[..., 0], (values >> 8).astype(np.uint8))
    little = raw_message(values.astype("<u2"), H, W, "mono16", bigendian=0)
    np.testing.assert_array_equal(decode_image(little), decode_image(msg))


@pytest.mark.parametrize("padding", [0, 6])
@pytest.mark.parametrize(
    ("encoding", "order"),
    [("yuv422", "uyvy"), ("uyvy", "uyvy"), ("yuv422_yuy2", "yuyv"), ("yuyv", "yuyv")],
)
def test_yuv422_matches_bt601(encoding: str, order: str, padding: int) -> None:
    y, u, v = yuv_planes(H, W)
    u_row, v_row = np.repeat(u, 2, 0), np.repeat(v, 2, 0)  # 4:2:2 keeps chroma on every row
    packed = np.empty((H, W // 2, 4), np.uint8)
    slots = {"y0": y[:, 0::2], "y1": y[:, 1::2], "u": u_row, "v": v_row}
    names = ["u", "y0", "v", "y1"] if order == "uyvy" else ["y0", "u", "y1", "v"]
    for k, name in enumerate(names):
        packed[..., k] = slots[name]
    rgb = decode_image(raw_message(packed, H, W, encoding, padding))
    expected = yuv_to_rgb(y, np.repeat(u_row, 2, 1), np.repeat(v_row, 2, 1))
    assert np.abs(rgb.astype(int) - expected).max() <= 2


@pytest.mark.parametrize("padding", [0, 4])
@pytest.mark.parametrize("encoding", ["nv12", "nv21"])
def test_nv12_nv21_match_bt601(encoding: str, padding: int) -> None:
    y, u, v = yuv_planes(H, W)
    chroma = np.stack([u, v] if encoding == "nv12" else [v, u], -1).reshape(H // 2, W)
    msg = raw_message(np.vstack([y, chroma]), H, W, encoding, padding)
    rgb = decode_image(msg)
    expected = yuv_to_rgb(
        y, np.kron(u, np.ones((2, 2), np.uint8)), np.kron(v, np.ones((2, 2), np.uint8))
    )
    assert rgb.shape == (H, W, 3)
    assert np.abs(rgb.astype(int) - expected).max() <= 2


@pytest.mark.parametrize("padding", [0, 3])
@pytest.mark.parametrize("pattern", ["rggb", "bggr", "gbrg", "grbg"])
@pytest.mark.parametrize("bits", [8, 16])
def test_bayer_patterns_recover_flat_colours(pattern: str, bits: int, padding: int) -> None:
    # Four flat quadrants: bilinear demosaicing is exact away from their edges.
    colours = np.array([[[200, 40, 10], [20, 180, 60]], [[30, 70, 220], [250, 250, 250]]], np.uint8)
    rgb = np.kron(colours, np.ones((16, 16, 1), np.uint8))
    mosaic = bayer_mosaic(rgb, pattern)
    payload = mosaic if bits == 8 else (mosaic.astype(np.uint16) * 256 + 99).astype("<u2")
    out = decode_image(raw_message(payload, 32, 32, f"bayer_{pattern}{bits}", padding))
    for qy in (0, 1):
        for qx in (0, 1):
            inner = out[qy * 16 + 3 : qy * 16 + 13, qx * 16 + 3 : qx * 16 + 13]
            assert np.abs(inner.astype(int) - colours[qy, qx]).max() <= 1, (qy, qx)


def test_every_listed_encoding_is_tested() -> None:
    tested = {case[0] for case in packed_cases()}
    tested |= {"yuv422", "uyvy", "yuv422_yuy2", "yuyv", "nv12", "nv21"}
    tested |= {f"bayer_{p}{b}" for p in ("rggb", "bggr", "gbrg", "grbg") for b in (8, 16)}
    assert tested == set(RAW_ENCODINGS)


@pytest.mark.parametrize(
    "wrap", [bytes, bytearray, lambda b: array.array("B", b), list, lambda b: memoryview(b)]
)
def test_data_may_be_any_byte_container(wrap: object) -> None:
    rgb = colour_blocks(H, W)
    msg = image_message(rgb, 1.0, "bgr8", row_padding=2)
    msg.data = wrap(msg.data.tobytes())  # type: ignore[operator]
    np.testing.assert_array_equal(decode_image(msg), rgb)


def test_rosbags_messages_decode_after_a_cdr_round_trip() -> None:
    typestore = pytest.importorskip("ncp_driver.bags.typestore").make_typestore()
    Image = typestore.types["sensor_msgs/msg/Image"]
    Header = typestore.types["std_msgs/msg/Header"]
    Time = typestore.types["builtin_interfaces/msg/Time"]
    rgb = colour_blocks(H, W)
    msg = Image(
        header=Header(stamp=Time(sec=7, nanosec=250_000_000), frame_id="cam"),
        height=H, width=W, encoding="bgr8", is_bigendian=0, step=W * 3,
        data=np.ascontiguousarray(rgb[..., ::-1]).reshape(-1),
    )  # fmt: skip
    raw = typestore.serialize_cdr(msg, "sensor_msgs/msg/Image")
    back = typestore.deserialize_cdr(raw, "sensor_msgs/msg/Image")
    np.testing.assert_array_equal(decode_image(back), rgb)
    assert image_stamp(back) == pytest.approx(7.25)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"encoding": "32FC1"}, "unknown image encoding '32FC1'"),
        ({"encoding": "hsv8"}, "unknown image encoding"),
        ({"step": W * 3 - 1}, "step 71 is smaller than width x bytes per pixel"),
        ({"height": H + 1}, "needs step x rows"),
        ({"data": np.zeros(10, np.uint8)}, "data holds 10 bytes"),
        ({"width": 0}, "empty"),
        ({"data": np.zeros(H * W * 3, np.float32)}, "dtype float32"),
    ],
)
def test_bad_messages_are_rejected_with_the_reason(change: dict[str, object], match: str) -> None:
    msg = image_message(colour_blocks(H, W), 1.0, "rgb8")
    for name, value in change.items():
        setattr(msg, name, value)
    with pytest.raises(ImageDecodeError, match=match) as info:
        decode_image(msg)
    # One ImageDecodeError (the images layer's), under the core's base class: no second class
    # of the same name in ncp_driver.errors that a caller could catch instead.
    assert isinstance(info.value, errors.NcpDriverError)
    assert not hasattr(errors, "ImageDecodeError")


def test_yuv_needs_even_sizes() -> None:
    msg = raw_message(np.zeros((4, 6), np.uint8), 4, 3, "yuv422")
    with pytest.raises(ImageDecodeError, match="even width"):
        decode_image(msg)
    msg = raw_message(np.zeros((4, 4), np.uint8), 3, 4, "nv12")
    with pytest.raises(ImageDecodeError, match="even height"):
        decode_image(msg)


def test_objects_without_image_fields_are_rejected() -> None:
    with pytest.raises(ImageDecodeError, match="neither sensor_msgs/Image"):
        decode_image(object())
    with pytest.raises(ImageDecodeError, match=r"no header\.stamp"):
        image_stamp(object())


def test_stamp_is_seconds_plus_nanoseconds() -> None:
    msg = image_message(colour_blocks(H, W), 1_700_000_000.123456789)
    assert msg.header.stamp.sec == 1_700_000_000
    assert image_stamp(msg) == pytest.approx(1_700_000_000.123456789, abs=1e-6)
