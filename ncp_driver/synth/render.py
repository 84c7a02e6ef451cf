"""Camera frames of the drive: a pinhole camera looking at a flat world, drawn per pixel.

Camera: at ``camera_height_m`` above the ground, ``camera_forward_m`` ahead of the rear axle,
looking along the vehicle's heading, pitched down so that the horizon lies at row
``horizon * height``; the focal length gives ``hfov_deg`` across the frame width. Every pixel
below the horizon is cast onto the ground: its row fixes the distance ahead, its column the
offset to the side. The road centreline ahead (with its real curvature, seen from the car's
actual pose, so with its lateral offset and heading error) is found per row, and each ground
pixel is coloured by its position across the road (asphalt, markings, shoulder, verge) and
along it (dashes, texture, tree shadows). Above the horizon: sky and a skyline fixed in
compass direction. Then global lighting, vignetting, sensor noise and the car's bonnet.

The scene is drawn at ``render_scale`` of the frame size and resized (bilinear) to the frame
size: the crop band is later shrunk 4.6x to 200 x 78, so half resolution loses nothing the
model sees.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ncp_driver.preprocessing import Preprocessing
from ncp_driver.synth.config import DriveConfig
from ncp_driver.synth.errors import SynthError
from ncp_driver.synth.road import Road
from ncp_driver.synth.scenery import SHADOW_CELL_M, TEXTURE_CELL_M, Scenery, make_scenery
from ncp_driver.synth.simulate import Drive
from ncp_driver.synth.vehicle import Pose

__all__ = ["Renderer", "render_frame"]

_MAX_RANGE_M = 2000.0
_ROAD_AHEAD_M = 250.0
_ROAD_STEP = 5  # road samples (of ds) per centreline point used by the camera
_TREE_MAX_DEG = 6.0


class Renderer:
    """Draws the camera frame of a drive as H x W x 3 RGB uint8, from any pose, in any order.

    ``render(i)`` draws frame ``i`` of ``drive``; ``render_pose(pose, t, i)`` draws the view
    from any :class:`~ncp_driver.synth.vehicle.Pose` on the road at ``t`` seconds after the
    start (the lighting's time; ``i`` picks the sensor-noise window). A renderer for a road
    without a precomputed drive takes ``config`` and ``road`` instead of ``drive``.

    With ``crop`` (a model's preprocessing), only the rendered pixels that the upscaled frame's
    crop band is interpolated from are computed; the rest of the frame is black. The band's
    pixels are the same as in a full frame (they come from the same per-pixel arithmetic and
    the same resize), so the model sees what it would see in a full frame.

    Each pixel is a weighted sum of a few palette colours (asphalt, paint, verge, sky, ...):
    the weights carry geometry, texture, shadows, haze and vignetting, the palette carries the
    frame's lighting, and one matrix product makes the image.
    """

    def __init__(
        self,
        drive: Drive | None = None,
        height: int | None = None,
        width: int | None = None,
        render_scale: float | None = None,
        *,
        config: DriveConfig | None = None,
        road: Road | None = None,
        crop: Preprocessing | None = None,
    ):
        if drive is not None:
            config, road = drive.config, drive.road
        if config is None or road is None:
            raise SynthError("a Renderer needs a drive, or a config and a road")
        cfg = config
        self.drive = drive
        self.config = config
        self.road = road
        self.height = int(height or cfg.height)
        self.width = int(width or cfg.width)
        scale = float(render_scale or cfg.render_scale)
        if self.height < 16 or self.width < 16:
            raise SynthError(f"frame size {self.width} x {self.height} is too small: use >= 16 px")
        if not 0 < scale <= 1:
            raise SynthError(f"render_scale = {scale} must be in (0, 1]")
        self.rh = max(8, round(self.height * scale))
        self.rw = max(8, round(self.width * scale))
        self.start_ns = round(cfg.start_epoch_s * 1e9)
        seeds = np.random.SeedSequence(cfg.seed).spawn(5)
        scenery_rng = np.random.default_rng(seeds[4])
        self.scenery: Scenery = make_scenery(scenery_rng, road.length)
        self._setup_camera()
        self._setup_static(scenery_rng)
        self.window: tuple[int, int, int, int] | None = None
        if crop is not None:
            self._restrict(crop)

    # -- fixed geometry -------------------------------------------------------------------

    def _setup_camera(self) -> None:
        cfg = self.config
        rh, rw = self.rh, self.rw
        self.focal = (rw / 2.0) / math.tan(math.radians(cfg.hfov_deg) / 2.0)
        cx, cy = (rw - 1) / 2.0, (rh - 1) / 2.0
        self.horizon_row = cfg.horizon * rh - 0.5
        self.pitch = math.atan((cy - self.horizon_row) / self.focal)
        yn = (np.arange(rh) - cy) / self.focal
        self.xn = ((np.arange(rw) - cx) / self.focal).astype(np.float32)
        denom = math.sin(self.pitch) + yn * math.cos(self.pitch)
        ground = denom > cfg.camera_height_m / _MAX_RANGE_M
        self.g0 = int(np.argmax(ground)) if ground.any() else rh
        # Rows from g1 down show only the bonnet.
        self.g1 = max(self.g0, min(rh, math.ceil(float(_hood_top(rh, rw).max()) + 0.5)))
        rows = slice(self.g0, self.g1)
        ray = cfg.camera_height_m / denom[rows]
        # Per ground row: distance ahead on the ground, and metres per pixel (lateral or along).
        self.row_ahead = ray * (math.cos(self.pitch) - yn[rows] * math.sin(self.pitch))
        along_foot = np.abs(np.gradient(self.row_ahead))
        foot = np.maximum(ray / self.focal, along_foot)
        # Per row, the blur level of the along-road tables (shadows, dashes): 4x per level.
        levels = np.log(np.maximum(along_foot / SHADOW_CELL_M, 1.0)) / math.log(4.0)
        self.row_level = np.clip(np.round(levels), 0, _LEVELS - 1).astype(np.int32)[:, None]
        self.dash_fade = np.clip(along_foot / 1.0 - 0.5, 0.0, 1.0).astype(np.float32)[:, None]
        self.inv_foot = (1.0 / foot).astype(np.float32)[:, None]
        self.detail = np.clip(TEXTURE_CELL_M / foot, 0.0, 1.0).astype(np.float32)[:, None]
        self.lateral = (-self.xn[None, :] * ray[:, None]).astype(np.float32)

    def _setup_static(self, rng: np.random.Generator) -> None:
        sc = self.scenery
        rh, rw, g0, g1 = self.rh, self.rw, self.g0, self.g1
        yy, xx = np.mgrid[0:rh, 0:rw].astype(np.float32)
        r2 = ((xx - rw / 2) / (rw / 2)) ** 2 + ((yy - rh / 2) / (rh / 2)) ** 2
        vignette = 1.0 - 0.11 * r2
        # Bonnet: a gently curved edge near the bottom (below the paper's crop band).
        top = _hood_top(rh, rw)
        hood = np.clip(yy - top[None, :] + 0.5, 0.0, 1.0)
        hood_shade = hood * vignette * (1.0 - 0.25 * (yy - top[None, :]) / (0.12 * rh)).clip(0.6)
        haze = (1.0 - np.exp(-self.row_ahead / 400.0)).astype(np.float32)[:, None]
        self.ground_light = (vignette[g0:g1] * (1.0 - hood[g0:g1]) * (1.0 - haze)).ravel()
        # Sky: a gradient to the horizon colour (which the distance haze also tends to).
        fade = np.clip(np.arange(g0) / max(self.horizon_row, 1.0), 0.0, 1.0) ** 0.7
        self.sky_top = (vignette[:g0] * (1.0 - fade[:, None])).ravel()
        self.sky_low = (vignette[:g0] * fade[:, None]).ravel()
        self.sky_vignette = vignette[:g0].ravel()
        max_px = self.focal * math.tan(math.radians(_TREE_MAX_DEG))
        self.tree_r0 = max(0, int(self.horizon_row - max_px))
        self.tree_up = (self.horizon_row - np.arange(self.tree_r0, g0, dtype=np.float32))[:, None]
        self.col_azimuth = np.degrees(np.arctan(self.xn)).astype(np.float32)
        # Sensor noise: a frame-sized window into a larger fixed field, moved every frame.
        self.noise = (rng.standard_normal((2 * rh, 2 * rw)) * 2.5).astype(np.float32)
        # Tables in the layout the per-pixel lookups want.
        tex = sc.texture
        self.tex_cols = tex.shape[1]
        self.tex_mask = (tex.shape[0] - 1, tex.shape[1] - 1)
        self.tex_road = np.ascontiguousarray(tex[..., 0]).ravel()
        self.tex_verge = np.ascontiguousarray(tex[..., 1]).ravel()
        self.shadows = [
            _levels(d + 1j * r) if d.any() else None
            for d, r in zip(sc.shadow_dark, sc.shadow_reach, strict=True)
        ]
        self.shadow_size = sc.shadow_dark[0].size
        self.row_level *= self.shadow_size
        # The weights: one plane per palette colour, for the ground and for the sky.
        # Haze and bonnet weights never change; below g1 only the bonnet (and noise) shows.
        self.ground_w = np.zeros((len(_GROUND), (rh - g0) * rw), dtype=np.float32)
        self.ground_w[5, : (g1 - g0) * rw] = (vignette[g0:g1] * (1.0 - hood[g0:g1]) * haze).ravel()
        self.ground_w[6] = hood_shade[g0:].ravel()
        self.sky_w = np.empty((len(_SKY), g0 * rw), dtype=np.float32)
        self.planes = np.empty((3, rh * rw), dtype=np.float32)

    def _restrict(self, crop: Preprocessing) -> None:
        """Compute only the window of rendered pixels that the frame's crop band needs."""
        box = crop.crop_box(self.height, self.width)

        def span(lo: int, hi: int, full: int, rendered: int) -> tuple[int, int]:
            # Bilinear upscale: output pixel p samples rendered pixels floor(q) and floor(q) + 1
            # with q = (p + 0.5) * rendered / full - 0.5; one pixel of margin on each side.
            ratio = rendered / full
            first = math.floor((lo + 0.5) * ratio - 0.5) - 1
            last = math.floor((hi - 1 + 0.5) * ratio - 0.5) + 2
            return max(0, first), min(rendered, last + 1)

        a, b = span(box.y0, box.y1, self.height, self.rh)
        c, d = span(box.x0, box.x1, self.width, self.rw)
        g0, g1, rw = self.g0, self.g1, self.rw
        if a < g0:  # the band reaches the sky: not worth a window, draw everything
            return
        self.window = (a, b, c, d)
        top, bottom = a - g0, min(b, g1) - g0  # computed ground rows of the window
        for name in ("row_ahead", "row_level", "dash_fade", "inv_foot", "detail"):
            setattr(self, name, getattr(self, name)[top : max(top, bottom)])
        self.lateral = np.ascontiguousarray(self.lateral[top : max(top, bottom), c:d])
        light = self.ground_light.reshape(g1 - g0, rw)[top : max(top, bottom), c:d]
        self.ground_light = np.ascontiguousarray(light).ravel()
        weights = self.ground_w.reshape(len(_GROUND), -1, rw)[:, a - g0 : b - g0, c:d]
        self.ground_w = np.ascontiguousarray(weights).reshape(len(_GROUND), -1)
        self.planes = np.empty((3, (b - a) * (d - c)), dtype=np.float32)
        self._canvas = np.zeros((self.rh, self.rw, 3), dtype=np.uint8)
        # The upscale is done on whole rows but only on the columns around the window, cut
        # where rendered and frame columns line up exactly (x * width / rw an integer), so
        # the frame's pixels there are those of the whole frame's resize.
        unit = self.rw // math.gcd(self.rw, self.width)
        self._columns = (c // unit * unit, min(self.rw, -(-d // unit) * unit))

    # -- per frame -----------------------------------------------------------------------

    def render(self, i: int) -> np.ndarray:
        """Frame ``i`` (0 <= i < frame_count) of the drive at the frame size, RGB uint8."""
        if self.drive is None:
            raise SynthError("this renderer has no drive: use render_pose")
        cam = self.drive.camera
        if not 0 <= i < len(cam):
            raise SynthError(f"frame {i} is outside the drive's {len(cam)} frames")
        t = float(cam.stamps_ns[i] - self.drive.start_ns) * 1e-9
        pose = Pose(float(cam.x[i]), float(cam.y[i]), float(cam.heading[i]), float(cam.road_s[i]))
        return self.render_pose(pose, t, i)

    def render_pose(self, pose: Pose, t: float, index: int = 0) -> np.ndarray:
        """The camera frame from ``pose`` at ``t`` s after the start; ``index`` moves the noise."""
        ground_palette, sky_palette = self._palettes(t)
        if self.window is not None:
            a, b, c, d = self.window
            self._ground_weights(pose, self._noise(index, self.window))
            np.matmul(ground_palette.T, self.ground_w, out=self.planes)
            np.clip(self.planes, 0.0, 255.0, out=self.planes)
            channels = self.planes.astype(np.uint8).reshape(3, b - a, d - c)
            self._canvas[a:b, c:d] = cv2.merge([channels[0], channels[1], channels[2]])
            if (self.rh, self.rw) == (self.height, self.width):
                return self._canvas.copy()
            left, right = self._columns
            x0, x1 = left * self.width // self.rw, right * self.width // self.rw
            frame = np.zeros((self.height, self.width, 3), dtype=np.uint8)
            frame[:, x0:x1] = cv2.resize(
                self._canvas[:, left:right], (x1 - x0, self.height), interpolation=cv2.INTER_LINEAR
            )
            return frame
        n_sky = self.g0 * self.rw
        noise = self._noise(index)
        if self.g0 < self.rh:
            self._ground_weights(pose, noise[n_sky:])
            np.matmul(ground_palette.T, self.ground_w, out=self.planes[:, n_sky:])
        if self.g0 > 0:
            self._sky_weights(pose.heading, noise[:n_sky])
            np.matmul(sky_palette.T, self.sky_w, out=self.planes[:, :n_sky])
        np.clip(self.planes, 0.0, 255.0, out=self.planes)
        channels = self.planes.astype(np.uint8).reshape(3, self.rh, self.rw)
        small = cv2.merge([channels[0], channels[1], channels[2]])
        if (self.rh, self.rw) == (self.height, self.width):
            return small
        return cv2.resize(small, (self.width, self.height), interpolation=cv2.INTER_LINEAR)

    def _palettes(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """The colours under this frame's lighting (contrast about mid grey, gain, tint)."""
        sc = self.scenery
        gain, contrast, tint = sc.lighting.at(t)

        def lit(*colours: np.ndarray) -> np.ndarray:
            rows = np.stack(colours).astype(np.float32)
            return ((rows - 110.0) * contrast + 110.0) * (gain * tint)

        ones = np.ones((1, 3), np.float32)
        ground = np.concatenate(
            (
                lit(sc.grass, sc.gravel, sc.asphalt, sc.paint, sc.centre_paint, sc.sky_horizon),
                lit(sc.hood),
                ones,
            )
        )
        sky = np.concatenate((lit(sc.sky_top, sc.sky_horizon, sc.tree_colour), ones))
        return ground, sky

    def _noise(self, i: int, window: tuple[int, int, int, int] | None = None) -> np.ndarray:
        oy = (i * 7919) % self.rh
        ox = (i * 104729) % self.rw
        if window is not None:
            a, b, c, d = window
            return self.noise[oy + a : oy + b, ox + c : ox + d].ravel()
        return self.noise[oy : oy + self.rh, ox : ox + self.rw].ravel()

    def _centreline_rows(self, pose: Pose) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per ground row: centreline offset, its relative heading, arc length, and validity."""
        cfg, road = self.config, self.road
        psi = pose.heading
        c, s = math.cos(psi), math.sin(psi)
        px = pose.x + cfg.camera_forward_m * c
        py = pose.y + cfg.camera_forward_m * s
        s_cam = pose.road_s + cfg.camera_forward_m
        a, b = road.index(s_cam - 8.0), road.index(s_cam + _ROAD_AHEAD_M)
        sel = slice(int(a), int(b) + 1, _ROAD_STEP)
        dx, dy = road.x[sel] - px, road.y[sel] - py
        ahead = dx * c + dy * s
        left = -dx * s + dy * c
        rel = road.heading[sel] - psi
        arc = road.s[sel]
        # Keep the stretch that moves away from the camera and turns less than _MAX_TURN:
        # one road point per row (further on, the road is left out and verge is drawn).
        stop = np.flatnonzero((np.diff(ahead) <= 0) | (np.abs(rel[1:]) > _MAX_TURN))
        end = int(stop[0]) + 1 if stop.size else ahead.size
        ahead, left, rel, arc = ahead[:end], left[:end], rel[:end], arc[:end]
        rows = self.row_ahead
        valid = (rows >= ahead[0]) & (rows <= ahead[-1])
        return (
            np.interp(rows, ahead, left).astype(np.float32),
            np.interp(rows, ahead, rel).astype(np.float32),
            np.interp(rows, ahead, arc).astype(np.float32),
            valid,
        )

    def _ground_weights(self, pose: Pose, noise: np.ndarray) -> None:
        sc = self.scenery
        c_left, c_rel, c_arc, valid = self._centreline_rows(pose)
        cos_rel = np.where(valid, np.cos(c_rel), 0.0).astype(np.float32)[:, None]
        sin_rel = np.sin(c_rel)[:, None]
        far = np.where(valid, 0.0, 1e3).astype(np.float32)[:, None]
        shape = self.lateral.shape
        d = self.lateral - c_left[:, None]
        across = d * cos_rel
        across += far
        along = d * sin_rel
        along += c_arc[:, None]

        # World-fixed texture: asphalt and verge brightness.
        ts = (along * (1.0 / TEXTURE_CELL_M)).astype(np.int32)
        ts &= self.tex_mask[0]
        ts *= self.tex_cols
        tu = (across * (1.0 / TEXTURE_CELL_M)).astype(np.int32)
        tu &= self.tex_mask[1]
        ts += tu
        tex_road = np.take(self.tex_road, ts).reshape(shape)
        tex_verge = np.take(self.tex_verge, ts).reshape(shape)
        bright_road = tex_road * self.detail
        bright_road += 1.0
        bright_verge = tex_verge * self.detail
        bright_verge += 1.0

        # Across the road: asphalt, edge lines, dashed centre line, shoulder, verge.
        half = 0.5 * self.road.width
        dist = np.abs(across)
        on_road = _ramp(half - dist, self.inv_foot)
        on_shoulder = _ramp(half + sc.shoulder_m - dist, self.inv_foot)
        on_shoulder -= on_road
        period = sc.dash_m + sc.gap_m
        phase = along * (1.0 / period)
        phase -= np.floor(phase)
        duty = sc.dash_m / period
        dashes = (phase < duty).astype(np.float32)
        dashes -= duty  # far away, where rows are longer than a dash, fade to the mean
        dashes *= 1.0 - self.dash_fade
        dashes += duty
        centre = _ramp(0.06 - dist, self.inv_foot)
        centre *= dashes
        paint = tex_road * (0.5 * sc.paint_strength)
        paint += sc.paint_strength
        centre *= paint
        if sc.edge_lines:
            edge = np.abs(dist - (half - 0.3))
            np.subtract(0.075, edge, out=edge)
            edge = _ramp(edge, self.inv_foot)
            edge *= paint
        else:
            edge = np.zeros_like(dist)

        # Tree shadows from both sides, fixed on the ground (darkness, reach across).
        light = np.ones_like(dist)
        for table, slope, sign in zip(self.shadows, sc.shadow_slope, (1.0, -1.0), strict=True):
            if table is None:
                continue
            k = across * slope
            k += along
            k *= 1.0 / SHADOW_CELL_M
            idx = k.astype(np.int32)
            np.clip(idx, 0, self.shadow_size - 1, out=idx)
            idx += self.row_level  # blurred copies for distant rows (no aliasing)
            hit = np.take(table, idx)
            covered = across * sign
            covered -= half + 2.0
            covered += hit.imag  # metres inside the shadow's reach, softened like an edge
            dark = hit.real * _ramp(covered, self.inv_foot)
            np.minimum(light, 1.0 - dark, out=light)

        # Weights of the palette colours (see _GROUND), lit by the shadows, haze and vignette.
        w = self.ground_w
        n = dist.size
        lit = light.ravel()
        lit *= self.ground_light
        verge = 1.0 - on_road - on_shoulder
        np.multiply((verge * bright_verge).ravel(), lit, out=w[0, :n])
        np.multiply((on_shoulder * bright_road).ravel(), lit, out=w[1, :n])
        asphalt = 1.0 - edge - centre
        asphalt *= on_road
        asphalt *= bright_road
        np.multiply(asphalt.ravel(), lit, out=w[2, :n])
        np.multiply(edge.ravel(), lit, out=w[3, :n])
        np.multiply(centre.ravel(), lit, out=w[4, :n])
        w[7] = noise

    def _sky_weights(self, psi: float, noise: np.ndarray) -> None:
        sc = self.scenery
        w = self.sky_w
        w[0] = self.sky_top
        w[1] = self.sky_low
        w[2] = 0.0
        w[3] = noise
        if self.tree_r0 >= self.g0:
            return
        azimuth = math.degrees(psi) - self.col_azimuth
        k = (np.mod(azimuth, 360.0) * 10.0).astype(np.int32) % sc.trees.size
        height_px = self.focal * np.tan(np.radians(sc.trees[k]))
        tree = np.clip(height_px[None, :] - self.tree_up + 0.5, 0.0, 1.0).ravel()
        band = slice(self.tree_r0 * self.rw, self.g0 * self.rw)
        w[2, band] = tree * self.sky_vignette[band]
        keep = 1.0 - tree
        w[0, band] *= keep
        w[1, band] *= keep


_GROUND = ("grass", "gravel", "asphalt", "paint", "centre_paint", "haze", "hood", "noise")
_SKY = ("sky_top", "sky_horizon", "trees", "noise")
_MAX_TURN = 1.2  # rad: the road drawn per row up to where it turns this far from the camera


_LEVELS = 5


def _hood_top(rh: int, rw: int) -> np.ndarray:
    """Per column, the row where the bonnet starts (a gently curved edge near the bottom)."""
    return rh * (0.885 + 0.05 * np.linspace(-1.0, 1.0, rw) ** 2)


def _levels(table: np.ndarray) -> np.ndarray:
    """The table and box-blurred copies (1, 4, 16, ... cells wide), concatenated."""
    out = [table]
    for level in range(1, _LEVELS):
        width = 4**level
        kernel = np.ones(width) / width
        out.append(
            np.convolve(table.real, kernel, mode="same")
            + 1j * np.convolve(table.imag, kernel, mode="same")
        )
    return np.concatenate(out).astype(np.complex64)


def _ramp(distance_inside: np.ndarray, inv_foot: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage 0..1 of a pixel by a region, from its signed distance inside (m)."""
    out = distance_inside * inv_foot
    out += 0.5
    return np.clip(out, 0.0, 1.0, out=out)


_CACHE: dict[tuple[int, int, int], Renderer] = {}


def render_frame(drive: Drive, i: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """Frame ``i`` of ``drive`` at ``size`` = (height, width) (default: the config's), RGB uint8.

    The last renderer is cached, so consecutive calls for one drive are cheap.
    """
    height, width = size or (drive.config.height, drive.config.width)
    key = (id(drive), height, width)
    renderer = _CACHE.get(key)
    if renderer is None or renderer.drive is not drive:
        _CACHE.clear()
        renderer = _CACHE[key] = Renderer(drive, height, width)
    return renderer.render(i)
