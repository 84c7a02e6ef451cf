"""The driver node with a real exported NCP (the paper's conv head and 19-neuron LTC), untrained.

Uses a model from models/ when one is committed, else exports one with ncp_driver.export (torch;
about 30 s on two cores, hence ``slow``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ros2_rig import PERIOD, START_TIME, Rig

from ncp_driver import topics
from ncp_driver.runtime import PipelineConfig, SteeringPipeline

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ncp_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    committed = sorted((REPO / "models").glob("*ncp*.onnx"))
    if committed:
        return committed[0]
    pytest.importorskip("torch", reason="exporting a model needs torch (the train extra)")
    from ncp_driver.export import export_onnx
    from ncp_driver.training.networks import build_model

    path = tmp_path_factory.mktemp("ncp") / "ncp.onnx"
    export_onnx(build_model("ncp"), path, check=False)
    return path


@pytest.mark.slow
def test_the_node_steers_with_an_exported_ncp(ros, driver_module, ncp_model):
    rig = Rig(ros, driver_module, ncp_model)
    rig.start()
    rig.set_auto(True)
    reference = SteeringPipeline(PipelineConfig(model_path=str(ncp_model), warmup_runs=0))
    reference.set_autonomous(True)
    rng = np.random.default_rng(7)
    expected = []
    for i in range(10):
        rgb = rng.integers(0, 256, size=(120, 192, 3), dtype=np.uint8)
        msg = rig.image(START_TIME + 0.1 + i * PERIOD, rgb=rgb)
        rig.send(msg)
        expected.append(reference.process_image(msg, now=rig.ros.context.now))
    commands = rig.commands()
    assert len(commands) == 10
    assert [c.drive.steering_angle for c in commands] == [
        float(np.float32(r.command.steering_angle)) for r in expected
    ]
    neurons = rig.received[topics.NEURONS]
    assert [len(m.data) for m in neurons] == [19] * 10
    assert np.allclose(neurons[-1].data, expected[-1].neurons.reshape(-1), atol=1e-7)
