"""The pipeline's outputs equal the torch model's, frame by frame, over a 200-frame drive.

Uses this project's networks and exporter (the paper's conv head + LTC on the NCP wiring);
skipped where torch is not installed (the car).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch parity test needs torch (not on the car)")
networks = pytest.importorskip("ncp_driver.training.networks", reason="needs ncp_driver.training")
export = pytest.importorskip("ncp_driver.export", reason="needs ncp_driver.export")

from ncp_driver.images.messages import image_message  # noqa: E402
from ncp_driver.preprocessing import crop_and_resize, to_model_input  # noqa: E402
from ncp_driver.runtime import PipelineConfig, SteeringPipeline  # noqa: E402

TOL = 1e-5  # the steering output, in training units (inverse_r x 1000)
AUDIT_TOL = 1e-5  # neurons, features, state (the head's two-stage image mean keeps ORT within it)


@pytest.fixture(scope="module")
def paper_ncp(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    model = networks.build_model("ncp", seed=20190120)
    path = tmp_path_factory.mktemp("export") / "ncp.onnx"
    export.export_onnx(model, path, check=False)
    return model.eval(), path


def drive(count: int, seed: int = 0) -> list[np.ndarray]:
    """A camera panning over a textured scene, with a passing bright patch (240 x 400)."""
    rng = np.random.default_rng(seed)
    world = rng.integers(0, 256, (300, 900, 3), dtype=np.uint8)
    world = np.asarray(
        torch.nn.functional.avg_pool2d(
            torch.from_numpy(world).permute(2, 0, 1).float()[None], 5, 1, 2
        )[0]
        .permute(1, 2, 0)
        .numpy(),
        dtype=np.uint8,
    )
    frames = []
    for i in range(count):
        x = (i * 2) % 500
        frame = world[30:270, x : x + 400].copy()
        frame[100:160, (i * 7) % 340 : (i * 7) % 340 + 60] = 240
        frames.append(frame)
    return frames


@pytest.mark.slow
def test_pipeline_equals_torch_over_200_frames(paper_ncp: tuple[object, Path]) -> None:
    model, path = paper_ncp
    config = PipelineConfig(
        model_path=str(path), max_curvature=10.0, max_curvature_rate=1e6, manual_mode="shadow"
    )
    pipe = SteeringPipeline(config)
    gaps = np.random.default_rng(1).uniform(0.02, 0.06, 200)
    gaps[120] = 2.0  # a camera stall: the pipeline resets, torch must be reset too
    stamps = 1000.0 + np.cumsum(gaps)
    state = model.initial_state(1)  # type: ignore[attr-defined]
    worst = {"curvature": 0.0, "neurons": 0.0, "features": 0.0, "state": 0.0}
    with torch.no_grad():
        for rgb, stamp in zip(drive(200), stamps, strict=True):
            result = pipe.process_image(image_message(rgb, float(stamp), "bgr8"))
            assert result.status == "ok" and result.command is not None
            if result.reset_reason is not None:
                state = model.initial_state(1)  # type: ignore[attr-defined]
            frame = torch.from_numpy(to_model_input(crop_and_resize(rgb)))[None]
            elapsed = torch.tensor([[result.elapsed_s]], dtype=torch.float32)
            curvature, state, neurons, features = model.step(frame, state, elapsed)  # type: ignore[attr-defined]
            assert result.neurons is not None and result.features is not None
            scale = model.training_scale  # type: ignore[attr-defined]
            worst["curvature"] = max(
                worst["curvature"],
                abs(result.command.raw_curvature - float(curvature[0, 0])) * scale,
            )
            worst["neurons"] = max(
                worst["neurons"], float(np.abs(result.neurons - neurons[0].numpy()).max())
            )
            worst["features"] = max(
                worst["features"], float(np.abs(result.features - features[0].numpy()).max())
            )
            worst["state"] = max(
                worst["state"], float(np.abs(pipe.model.state - state[0].numpy()).max())
            )
    assert pipe.stats.resets == {"start": 1, "gap": 1}
    assert worst["curvature"] <= TOL, worst
    assert max(worst["neurons"], worst["features"], worst["state"]) <= AUDIT_TOL, worst
