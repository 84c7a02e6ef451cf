"""Known pixel patterns packed into each raw encoding with numpy alone (no OpenCV), and a
natural-looking road scene for codec tolerances."""

from __future__ import annotations

import cv2
import numpy as np

from ncp_driver.images.messages import Header, Image, stamp_to_time


def raw_message(
    payload: np.ndarray,
    height: int,
    width: int,
    encoding: str,
    padding: int = 0,
    bigendian: int = 0,
) -> Image:
    """An Image whose rows are ``payload``'s rows (bytes), each padded with ``padding`` bytes."""
    rows = payload.reshape(payload.shape[0], -1).view(np.uint8)
    if padding:
        rows = np.hstack([rows, np.full((rows.shape[0], padding), 0xAB, np.uint8)])
    return Image(
        header=Header(stamp_to_time(12.5)),
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=bigendian,
        step=rows.shape[1],
        data=np.ascontiguousarray(rows).reshape(-1),
    )


def colour_blocks(height: int = 16, width: int = 24, seed: int = 0) -> np.ndarray:
    """Random colours in 2 x 2 blocks (so chroma subsampling and demosaicing are exact inside)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (height // 2, width // 2, 3), dtype=np.uint8)
    return np.repeat(np.repeat(blocks, 2, axis=0), 2, axis=1)


def yuv_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 limited range (what cv_bridge / OpenCV use for YUV422 and NV12)."""
    yf = 1.164 * (y.astype(np.float64) - 16.0)
    uf = u.astype(np.float64) - 128.0
    vf = v.astype(np.float64) - 128.0
    rgb = np.stack([yf + 1.596 * vf, yf - 0.813 * vf - 0.391 * uf, yf + 2.018 * uf], axis=-1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def yuv_planes(height: int, width: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Luma per pixel and chroma per 2 x 2 block, within the legal ranges."""
    rng = np.random.default_rng(seed)
    y = rng.integers(16, 236, (height, width), dtype=np.uint8)
    u = rng.integers(16, 241, (height // 2, width // 2), dtype=np.uint8)
    v = rng.integers(16, 241, (height // 2, width // 2), dtype=np.uint8)
    return y, u, v


def bayer_mosaic(rgb: np.ndarray, pattern: str) -> np.ndarray:
    """Sample ``rgb`` through a Bayer filter named like ROS (``rggb``: R at (0, 0))."""
    index = {"r": 0, "g": 1, "b": 2}
    out = np.empty(rgb.shape[:2], np.uint8)
    for k, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        out[dy::2, dx::2] = rgb[dy::2, dx::2, index[pattern[k]]]
    return out


def road_scene(height: int = 720, width: int = 1280, seed: int = 3) -> np.ndarray:
    """A camera-like RGB frame: sky, textured verge, asphalt, lane markings, trees, shadows."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    horizon = 0.45 * height
    img = np.zeros((height, width, 3), np.float32)
    sky = yy < horizon
    img[sky] = np.stack([140 + 60 * yy / horizon, 170 + 50 * yy / horizon, 230 + 0 * yy], -1)[sky]
    grass = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 2)
    img[~sky] = np.stack([60 + 25 * grass, 110 + 30 * grass, 50 + 15 * grass], -1)[~sky]
    centre = width / 2 + 0.1 * width * np.sin(yy / height * 3)
    half = (yy - horizon).clip(0) / (height - horizon) * 0.55 * width + 4
    road = (~sky) & (np.abs(xx - centre) < half)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 0.8)
    img[road] = (np.stack([95 + 12 * grain] * 3, -1) + np.array([0, 2, 6]))[road]
    for offset in (-0.9, 0.0, 0.9):
        line = road & (np.abs(xx - centre - offset * half) < 0.03 * half + 1)
        if offset == 0.0:
            line &= (yy // 40) % 2 == 0
        img[line] = 235
    for _ in range(25):
        cx, cy = rng.uniform(0, width), rng.uniform(0.2 * height, horizon + 20)
        radius = rng.uniform(15, 70)
        tree = (xx - cx) ** 2 + ((yy - cy) * 1.4) ** 2 < radius**2
        img[tree & ~road] = rng.uniform(20, 70, 3) * (1 + 0.3 * grass[tree & ~road, None])
    shadow = (~sky) & (np.abs(xx - 0.3 * width - 0.6 * (yy - horizon)) < 60)
    img[shadow] *= 0.55
    img = cv2.GaussianBlur(img, (0, 0), 0.7)
    return np.clip(img, 0, 255).astype(np.uint8)
