"""The result in words follows the numbers, whichever model they favour, and says when a
difference is not clear (overlapping intervals, fold spreads)."""

from __future__ import annotations

from ncp_driver.compare import rank
from ncp_driver.schemas import (
    Active,
    ActiveResult,
    CompareFold,
    CompareModel,
    ComparePassive,
    CompareSize,
    Spread,
)


def _model(name: str, kind: str, mae: float, std: float, parameters: int) -> CompareModel:
    size = CompareSize(parameters, "model card", None, 19, 19, 1000, 1.0, 1.2, 10, "one step")
    fold = CompareFold(0, ["d.h5"], 100, mae, mae, 0.5)
    passive = ComparePassive([fold], Spread(mae, std), Spread(mae, std), Spread(0.5, 0.0))
    return CompareModel(name, f"{name}.onnx", "0" * 64, kind, None, size, passive)


def _result(model: str, noise: float | None, per_km: float, lo: float, hi: float) -> ActiveResult:
    return ActiveResult(
        model=model, noise_std=noise, roads=3, takeovers=round(per_km * 10), autonomous_km=10.0,
        autonomous_s=600.0, takeovers_per_km=per_km, takeovers_per_km_95=[lo, hi],
        takeovers_per_100km=per_km * 100, takeovers_per_100km_95=[lo * 100, hi * 100],
        lateral_offset_mean_m=0.2, lateral_offset_max_m=0.5, a_lat_rms=None, a_lat_max=None,
        jerk_rms=None, jerk_max=None, runs=[],
    )  # fmt: skip


def _active(results: list[ActiveResult]) -> Active:
    return Active(takeover_rule="rule", settings={}, roads=[], models=[], results=results)


def test_the_ranking_names_whoever_has_the_better_number() -> None:
    models = [
        _model("ncp", "ncp", 0.010, 0.001, 80_000),
        _model("lstm", "lstm", 0.004, 0.001, 200_000),
    ]
    active = _active(
        [_result("ncp", 0.0, 2.0, 1.5, 2.6), _result("lstm", 0.0, 0.5, 0.3, 0.8),
         _result("expert", None, 0.0, 0.0, 0.3)]
    )  # fmt: skip
    by = {s.figure: s for s in rank(models, active)}
    assert by["takeovers_per_km@0"].best == ["lstm"]
    assert by["takeovers_per_km@0"].text.startswith("lowest takeovers/km at noise 0: lstm")
    assert "overlap" not in by["takeovers_per_km@0"].text  # 0.3-0.8 against 1.5-2.6
    assert (
        by["passive_mae"].best == ["lstm"]
        and "within the fold spread" not in by["passive_mae"].text
    )
    assert by["parameters"].best == ["ncp"]
    assert by["expert_takeovers_per_km"].value == 0.0


def test_overlapping_intervals_and_fold_spreads_are_said() -> None:
    models = [
        _model("ncp", "ncp", 0.0050, 0.002, 80_000),
        _model("cnn", "cnn", 0.0052, 0.002, 90_000),
    ]
    active = _active([_result("ncp", 0.2, 1.0, 0.5, 1.8), _result("cnn", 0.2, 1.2, 0.6, 2.0)])
    by = {s.figure: s for s in rank(models, active)}
    assert by["takeovers_per_km@0.2"].best == ["ncp"]
    assert "intervals of cnn overlap" in by["takeovers_per_km@0.2"].text
    assert "cnn within the fold spread" in by["passive_mae"].text
