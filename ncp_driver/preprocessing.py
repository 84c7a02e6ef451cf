"""THE preprocessing: one definition used by training, export, the car and the replay.

A camera frame (H x W x 3, RGB, uint8, any resolution) is cropped to a band below the
horizon given *relative* to the frame, resized with OpenCV to the model's input size, and
scaled to [0, 1] float32. The network itself standardises each image (subtract the mean,
divide by max(std, 1/sqrt(num_values))), so the scale is a convention, not a normalisation
that could drift between users.

The specification travels inside the exported ONNX file (see ``ncp_driver.contract``); a
runtime reads it from there with :meth:`Preprocessing.from_dict`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from ncp_driver.errors import PreprocessingError

__all__ = [
    "PAPER_PREPROCESSING",
    "CropBox",
    "Preprocessing",
    "crop_and_resize",
    "preprocess",
    "to_model_input",
]

_INTERPOLATIONS: dict[str, int] = {
    "linear": cv2.INTER_LINEAR,
    "area": cv2.INTER_AREA,
    "nearest": cv2.INTER_NEAREST,
    "cubic": cv2.INTER_CUBIC,
}


@dataclass(frozen=True)
class CropBox:
    """A pixel box ``[y0, y1) x [x0, x1)`` in one particular frame size."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def width(self) -> int:
        return self.x1 - self.x0


@dataclass(frozen=True)
class Preprocessing:
    """How a camera frame becomes the model's input.

    Crop edges are fractions of the frame's width (x) and height (y), so one model works at
    any camera resolution with the same field of view. The defaults are the paper's: the
    920 x 360 band x in [520, 1440) / 1920, y in [590, 950) / 1208, resized to 200 x 78.
    """

    crop_x0: float = 520 / 1920
    crop_x1: float = 1440 / 1920
    crop_y0: float = 590 / 1208
    crop_y1: float = 950 / 1208
    out_width: int = 200
    out_height: int = 78
    interpolation: str = "linear"
    channel_order: str = "RGB"
    scale: float = 1.0 / 255.0
    layout: str = "NHWC"
    standardisation: str = "per_image_in_graph"

    def __post_init__(self) -> None:
        if not (
            0.0 <= self.crop_x0 < self.crop_x1 <= 1.0 and 0.0 <= self.crop_y0 < self.crop_y1 <= 1.0
        ):
            raise PreprocessingError(
                f"crop box x [{self.crop_x0}, {self.crop_x1}), y [{self.crop_y0}, {self.crop_y1}) "
                "must lie within [0, 1] and be non-empty: give the edges as fractions of the frame"
            )
        if self.out_width <= 0 or self.out_height <= 0:
            raise PreprocessingError(
                f"output size {self.out_width} x {self.out_height} must be positive"
            )
        if self.interpolation not in _INTERPOLATIONS:
            raise PreprocessingError(
                f"interpolation {self.interpolation!r} is not one of {sorted(_INTERPOLATIONS)}"
            )
        if self.channel_order != "RGB" or self.layout != "NHWC":
            raise PreprocessingError(
                f"only RGB / NHWC input is supported, got {self.channel_order} / {self.layout}"
            )

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Shape of one preprocessed frame: (height, width, 3)."""
        return (self.out_height, self.out_width, 3)

    def crop_box(self, height: int, width: int) -> CropBox:
        """The pixel crop box in a frame of ``height`` x ``width``."""
        if height <= 0 or width <= 0:
            raise PreprocessingError(f"frame size {width} x {height} is empty")
        box = CropBox(
            y0=round(self.crop_y0 * height),
            y1=round(self.crop_y1 * height),
            x0=round(self.crop_x0 * width),
            x1=round(self.crop_x1 * width),
        )
        if box.height <= 0 or box.width <= 0:
            raise PreprocessingError(
                f"the crop box is empty in a {width} x {height} frame: the frame is too small"
            )
        return box

    def downscale_factor(self, height: int, width: int) -> float:
        """How many source pixels per output pixel the crop shrinks by (the smaller axis)."""
        box = self.crop_box(height, width)
        return min(box.width / self.out_width, box.height / self.out_height)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise PreprocessingError(
                f"unknown preprocessing fields {sorted(unknown)}: this model was exported by a "
                "newer ncp_driver; upgrade ncp_driver"
            )
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Preprocessing:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PreprocessingError(f"preprocessing metadata is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise PreprocessingError("preprocessing metadata must be a JSON object")
        return cls.from_dict(data)


PAPER_PREPROCESSING = Preprocessing()


def crop_and_resize(frame: np.ndarray, spec: Preprocessing = PAPER_PREPROCESSING) -> np.ndarray:
    """Crop ``frame`` (H x W x 3 uint8 RGB) and resize it: returns out_height x out_width x 3 uint8.

    A frame already of the output size is returned unchanged (as training sets may hold
    preprocessed frames).
    """
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise PreprocessingError(f"expected an H x W x 3 frame, got shape {frame.shape}")
    if frame.dtype != np.uint8:
        raise PreprocessingError(f"expected uint8 pixels, got {frame.dtype}: cast or decode first")
    height, width = frame.shape[:2]
    if (height, width) == (spec.out_height, spec.out_width):
        return frame
    box = spec.crop_box(height, width)
    crop = frame[box.y0 : box.y1, box.x0 : box.x1]
    return cv2.resize(
        crop, (spec.out_width, spec.out_height), interpolation=_INTERPOLATIONS[spec.interpolation]
    )


def to_model_input(
    image: np.ndarray, spec: Preprocessing = PAPER_PREPROCESSING, out: np.ndarray | None = None
) -> np.ndarray:
    """Scale a preprocessed uint8 image (or a batch of them) to float32, into ``out`` if given."""
    if image.shape[-3:] != spec.input_shape:
        raise PreprocessingError(f"expected {spec.input_shape} images, got shape {image.shape}")
    if out is None:
        out = np.empty(image.shape, dtype=np.float32)
    np.multiply(image, np.float32(spec.scale), out=out, casting="unsafe")
    return out


def preprocess(frame: np.ndarray, spec: Preprocessing = PAPER_PREPROCESSING) -> np.ndarray:
    """Full camera frame (H x W x 3 uint8 RGB) to one model input (out_h x out_w x 3 float32)."""
    return to_model_input(crop_and_resize(frame, spec), spec)
