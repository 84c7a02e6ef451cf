"""The model contract in ONNX metadata: round trip and refusals."""

from __future__ import annotations

import pytest

from ncp_driver.contract import META_PREFIX, ModelContract
from ncp_driver.errors import ModelContractError
from ncp_driver.preprocessing import PAPER_PREPROCESSING


def _card(kind: str = "ncp", state: int = 19) -> ModelContract:
    return ModelContract(
        kind=kind,
        state_size=state,
        neuron_count=19,
        feature_count=32,
        preprocessing=PAPER_PREPROCESSING,
        wiring={"inter": 12},
        training_data={"files": ["a.h5"]},
        exporter="test",
        frame_period_s=0.05,
    )


def test_card_round_trips_through_metadata() -> None:
    contract = _card()
    meta = contract.to_metadata()
    assert all(k.startswith(META_PREFIX) and isinstance(v, str) for k, v in meta.items())
    assert ModelContract.from_metadata(meta) == contract


def test_io_names_depend_on_statefulness() -> None:
    assert _card().input_names() == ("frame", "state", "elapsed_s")
    assert _card("cnn", 0).input_names() == ("frame",)
    assert "state_out" not in _card("cnn", 0).output_names()


def test_foreign_model_is_refused() -> None:
    with pytest.raises(ModelContractError, match="not an ncp_driver steering model"):
        ModelContract.from_metadata({"producer": "someone"}, source="x.onnx")


def test_missing_keys_are_named() -> None:
    meta = _card().to_metadata()
    del meta[META_PREFIX + "state_size"]
    with pytest.raises(ModelContractError, match="state_size"):
        ModelContract.from_metadata(meta)


def test_stateful_kind_without_state_is_refused() -> None:
    meta = _card(state=0).to_metadata()
    with pytest.raises(ModelContractError, match="must carry its state"):
        ModelContract.from_metadata(meta)


def test_other_contract_version_is_refused() -> None:
    meta = _card().to_metadata()
    meta[META_PREFIX + "contract_version"] = "99"
    with pytest.raises(ModelContractError, match="Re-export"):
        ModelContract.from_metadata(meta)
