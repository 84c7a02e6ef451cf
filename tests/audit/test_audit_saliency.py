"""VisualBackProp from the ONNX file alone, SSIM, and saliency robustness to input noise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from ncp_driver.audit import ModelGraphError, SaliencyModel, ssim, visual_backprop
from ncp_driver.audit.saliency import (
    overlay,
    plot_noise_robustness,
    plot_saliency_overlays,
    saliency_noise_robustness,
    ssim_map,
)
from ncp_driver.replay.subgraphs import cell_graph, head_graph, load_model


def test_single_layer_is_upscaled_and_min_max_normalised() -> None:
    act = np.zeros((1, 2, 4, 8), dtype=np.float32)
    act[0, 0, 1, 2] = 5.0
    mask = visual_backprop([act], size=(8, 16))
    assert mask.shape == (1, 8, 16)
    assert mask.min() == 0.0 and mask.max() == pytest.approx(1.0)
    peak = np.unravel_index(np.argmax(mask[0]), mask[0].shape)
    assert peak[0] in (2, 3) and peak[1] in (4, 5)  # pixel (1, 2) at twice the size


def test_each_channel_counts_by_its_own_maximum() -> None:
    a = np.zeros((1, 2, 12, 12), dtype=np.float32)
    a[0, 0, 2:5, 2:5] = 1000.0  # loud channel
    a[0, 1, 7:10, 7:10] = 0.001  # quiet channel, same shape of blob
    mask = visual_backprop([a], size=(12, 12))[0]
    assert mask[3, 3] == pytest.approx(1.0) and mask[8, 8] == pytest.approx(1.0)
    assert mask[0, 11] == 0.0


def test_deeper_layers_gate_the_shallower_ones() -> None:
    shallow = np.ones((1, 3, 8, 16), dtype=np.float32)
    deep = np.zeros((1, 4, 4, 8), dtype=np.float32)
    deep[:, :, :, :4] = 2.0  # only the left half is active deep in the network
    mask = visual_backprop([shallow, deep], size=(8, 16))[0]
    assert np.all(mask[:, :6] > 0.99) and np.all(mask[:, 10:] < 0.01)
    assert np.array_equal(visual_backprop([np.zeros((2, 1, 3, 3))], (6, 6)), np.zeros((2, 6, 6)))


def test_head_graph_of_the_exported_model(ncp_model: Path, make_frames: Any) -> None:
    head = head_graph(load_model(ncp_model))
    assert len(head.activations) == 5  # the paper's head: five conv layers
    frames = make_frames(3)
    model = SaliencyModel(ncp_model)
    shapes = [a.shape for a in model.activations(frames)]
    assert shapes == [
        (3, 24, 39, 100),
        (3, 36, 20, 50),
        (3, 48, 10, 25),
        (3, 64, 10, 25),
        (3, 8, 10, 25),
    ]
    # The cut head computes exactly the full model's features.
    full = ort.InferenceSession(str(ncp_model), providers=["CPUExecutionProvider"])
    sub = ort.InferenceSession(head.model.SerializeToString(), providers=["CPUExecutionProvider"])
    (features,) = sub.run(["features"], {"frame": frames})
    _, _, _, expected = full.run(
        None,
        {
            "frame": frames,
            "state": np.zeros((3, 19), np.float32),
            "elapsed_s": np.full((3, 1), 0.1, np.float32),
        },
    )
    assert np.allclose(features, expected, atol=1e-6)
    masks = model.saliency(frames)
    assert masks.shape == (3, 78, 200) and masks.dtype == np.float32
    assert np.allclose(masks.min(axis=(1, 2)), 0.0) and np.allclose(masks.max(axis=(1, 2)), 1.0)
    assert not np.allclose(masks[0], masks[1])  # the saliency depends on the image
    with pytest.raises(Exception, match=r"\(N, \(78, 200, 3\)\)"):
        model.saliency(frames[:, :70])


def _graph_without_convs(path: Path) -> Path:
    nodes = [
        helper.make_node("ReduceMean", ["frame"], ["pooled"], axes=[1, 2], keepdims=0),
        helper.make_node("Relu", ["pooled"], ["features"]),
    ]
    graph = helper.make_graph(
        nodes,
        "noconv",
        [helper.make_tensor_value_info("frame", TensorProto.FLOAT, ["b", 78, 200, 3])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["b", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


def test_graph_errors(tmp_path: Path) -> None:
    model = load_model(_graph_without_convs(tmp_path / "m.onnx"))
    with pytest.raises(ModelGraphError, match="no convolution feeding 'features'"):
        head_graph(model)
    with pytest.raises(ModelGraphError, match="not recurrent"):
        cell_graph(model)


def test_ssim_basic_properties() -> None:
    rng = np.random.default_rng(0)
    a = cv2.GaussianBlur(rng.random((40, 60)), (7, 7), 2)
    assert ssim(a, a) == pytest.approx(1.0)
    b = np.clip(a + rng.normal(0, 0.05, a.shape), 0, 1)
    c = np.clip(a + rng.normal(0, 0.2, a.shape), 0, 1)
    assert ssim(a, b) == pytest.approx(ssim(b, a))
    assert 1.0 > ssim(a, b) > ssim(a, c)
    # Two constant images: only the luminance term is left.
    c1 = 0.01**2
    expected = (2 * 0.2 * 0.6 + c1) / (0.2**2 + 0.6**2 + c1)
    assert ssim(np.full((20, 20), 0.2), np.full((20, 20), 0.6)) == pytest.approx(expected)
    with pytest.raises(Exception, match="smaller than the 11-pixel"):
        ssim(np.zeros((8, 40)), np.zeros((8, 40)))


def test_ssim_map_matches_the_windowed_definition() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.random((30, 30)), rng.random((30, 30))
    g = cv2.getGaussianKernel(11, 1.5)
    window = g @ g.T
    r, c = 15, 12  # an interior pixel: its window lies inside the image
    pa, pb = a[r - 5 : r + 6, c - 5 : c + 6], b[r - 5 : r + 6, c - 5 : c + 6]
    mu_a, mu_b = (window * pa).sum(), (window * pb).sum()
    var_a = (window * pa * pa).sum() - mu_a**2
    var_b = (window * pb * pb).sum() - mu_b**2
    cov = (window * pa * pb).sum() - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    expected = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    local = ssim_map(a, b)
    assert local.shape == (20, 20)
    assert local[r - 5, c - 5] == pytest.approx(expected, rel=1e-9)


def test_noise_robustness_on_the_exported_model(ncp_model: Path, make_frames: Any) -> None:
    model = SaliencyModel(ncp_model, batch_size=2)
    frames = make_frames(3, seed=4)
    result = saliency_noise_robustness(model, frames, levels=(0.0, 0.1, 0.3))
    assert result.ssim.shape == (3, 3)
    assert np.allclose(result.ssim[0], 1.0)
    assert np.all(result.ssim[1:] < 1.0) and np.all(result.ssim >= -1.0)
    assert result.mean()[2] < 1.0
    again = saliency_noise_robustness(model, frames, levels=(0.0, 0.1, 0.3))
    assert np.array_equal(result.ssim, again.ssim)  # seeded: reproducible
    other = saliency_noise_robustness(model, frames, levels=(0.0, 0.1, 0.3), seed=1)
    assert not np.array_equal(result.ssim[1:], other.ssim[1:])
    assert result.to_dict()["levels"] == [0.0, 0.1, 0.3]
    fig = plot_noise_robustness(result, takeovers={0.1: 2, 0.3: 5})
    assert len(fig.axes) == 2


def test_overlay_and_figure() -> None:
    frame = np.full((78, 200, 3), 0.5, dtype=np.float32)
    mask = np.zeros((78, 200), dtype=np.float32)
    mask[:, 100:] = 1.0
    image = overlay(frame, mask, alpha=0.5)
    assert image.dtype == np.uint8 and image.shape == (78, 200, 3)
    assert np.array_equal(overlay(frame, mask, alpha=0.0), np.full((78, 200, 3), 128))
    assert image[0, 150, 0] > image[0, 150, 2]  # hot (red) where the mask is 1
    assert image[0, 10, 2] > image[0, 10, 0]  # cold (blue) where it is 0
    with pytest.raises(Exception, match="does not match frame"):
        overlay(frame, mask[:10])
    fig = plot_saliency_overlays(np.stack([frame, frame]), np.stack([mask, mask]), ["a", "b"])
    assert sum(len(ax.get_images()) for ax in fig.axes) == 4
