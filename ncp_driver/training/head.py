"""Convolutional heads: the paper's 79,420-parameter head and the feed-forward CNN baseline.

Both take preprocessed frames NHWC ``[batch, 78, 200, 3]`` (any scale: each image is
standardised inside the network, as TensorFlow's ``per_image_standardization``) and return one
feature vector per frame.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["CNNBaselineHead", "ConvHead", "per_image_standardise", "same_padding"]

# (filters, kernel, stride) of the paper's head ('same' padding) and of the CNN baseline ('valid').
PAPER_CONVS: tuple[tuple[int, int, int], ...] = (
    (24, 5, 2),
    (36, 5, 2),
    (48, 3, 2),
    (64, 3, 1),
    (8, 3, 1),
)
BASELINE_CONVS: tuple[tuple[int, int, int], ...] = (
    (24, 5, 2),
    (36, 5, 2),
    (48, 3, 2),
    (64, 3, 1),
    (64, 3, 1),
)


def per_image_standardise(frames: torch.Tensor) -> torch.Tensor:
    """(x - mean) / max(std, 1/sqrt(n)) per image over H, W, C (NHWC in, NHWC out).

    Means are taken in two stages (over W, then over H and C): the same value, but in the
    exported graph onnxruntime's float32 reduction then stays within 1e-6 of torch's, where one
    pass over all 46,800 values drifts by about 4e-6 relative.
    """
    count = frames.shape[1] * frames.shape[2] * frames.shape[3]

    def image_mean(x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=2, keepdim=True).mean(dim=(1, 3), keepdim=True)

    mean = image_mean(frames)
    centred = frames - mean
    std = torch.sqrt(image_mean(centred * centred))
    return centred / torch.clamp(std, min=1.0 / math.sqrt(count))


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int, int]:
    """TensorFlow 'same' padding along one axis: (before, after, output size)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


def _init_conv(conv: nn.Conv2d, bias: float) -> None:
    nn.init.xavier_uniform_(conv.weight)  # Keras' glorot_uniform
    assert conv.bias is not None
    nn.init.constant_(conv.bias, bias)


class ConvHead(nn.Module):
    """The paper's head: 5 'same' convs (24/36/48/64/8, ReLU, bias 0.01), Dense(4) per channel.

    Output: ``[batch, 8 * 4]`` features; channel c's four features are ``[4c, 4c + 4)``.
    """

    def __init__(self, height: int = 78, width: int = 200, dense_units: int = 4) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        h, w = height, width
        for filters, kernel, stride in PAPER_CONVS:
            top, bottom, h = same_padding(h, kernel, stride)
            left, right, w = same_padding(w, kernel, stride)
            conv = nn.Conv2d(channels, filters, kernel, stride=stride)
            _init_conv(conv, 0.01)
            layers += [nn.ZeroPad2d((left, right, top, bottom)), conv, nn.ReLU()]
            channels = filters
        self.convs = nn.Sequential(*layers)
        self.input_shape = (height, width, 3)
        self.channels = channels
        self.spatial = h * w
        self.dense_units = dense_units
        # One Dense(4) per channel: weight [C, H*W, 4], bias [C, 1, 4] (Keras initialisers).
        bound = math.sqrt(6.0 / (self.spatial + dense_units))
        self.dense_weight = nn.Parameter(
            torch.empty(channels, self.spatial, dense_units).uniform_(-bound, bound)
        )
        self.dense_bias = nn.Parameter(torch.zeros(channels, 1, dense_units))

    @property
    def feature_count(self) -> int:
        return self.channels * self.dense_units

    def conv_maps(self, frames: torch.Tensor) -> list[torch.Tensor]:
        """The ReLU output of every conv layer (NCHW), for saliency (VisualBackProp)."""
        x = per_image_standardise(frames).permute(0, 3, 1, 2)
        maps = []
        for module in self.convs:
            x = module(x)
            if isinstance(module, nn.ReLU):
                maps.append(x)
        return maps

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = per_image_standardise(frames).permute(0, 3, 1, 2)
        x = self.convs(x)
        x = x.reshape(x.shape[0], self.channels, 1, self.spatial)  # row-major H*W per channel
        y = torch.relu(torch.matmul(x, self.dense_weight) + self.dense_bias)  # [B, C, 1, 4]
        return y.reshape(y.shape[0], self.feature_count)


class CNNBaselineHead(nn.Module):
    """The paper's feed-forward baseline up to its first dense layer.

    Five 'valid' convs 24/36/48/64/64 (ReLU), flatten, Dense(1000, ReLU). The remaining
    Dense(100)-Dense(1) are the baseline's decision layers (see ``cells.FeedForwardDecision``).
    """

    def __init__(self, height: int = 78, width: int = 200, units: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        h, w = height, width
        for filters, kernel, stride in BASELINE_CONVS:
            conv = nn.Conv2d(channels, filters, kernel, stride=stride)
            _init_conv(conv, 0.01)
            layers += [conv, nn.ReLU()]
            channels = filters
            h = (h - kernel) // stride + 1
            w = (w - kernel) // stride + 1
        self.convs = nn.Sequential(*layers)
        self.input_shape = (height, width, 3)
        self.dense = nn.Linear(channels * h * w, units)
        nn.init.xavier_uniform_(self.dense.weight)
        nn.init.zeros_(self.dense.bias)
        self.units = units

    @property
    def feature_count(self) -> int:
        return self.units

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = per_image_standardise(frames)
        x = self.convs(x.permute(0, 3, 1, 2))
        # Flatten in NHWC order, as the Keras baseline did.
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        return torch.relu(self.dense(x))
