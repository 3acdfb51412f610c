"""Meta-analysis: statsmodels' documented examples, hand-checked cases, and the rules
(overlapping samples pooled once, DerSimonian-Laird truncated at zero, predictions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketasim.errors import KetasimInputError
from ketasim.evidence.meta import logit_rate, meta_analysis, pool, selected, two_arm
from ketasim.evidence.schema import read_file
from ketasim.evidence.store import outcome_frame, shipped_files

# Kacker (2004), Table 1 first row, the example statsmodels documents its tau estimators with
# (statsmodels/stats/tests/test_meta.py, TestMetaK1): Paule-Mandel tau 0.8399, DL tau 0.5359.
KACKER_EFF = np.array([61.00, 61.40, 62.21, 62.30, 62.34, 62.60, 62.70, 62.84, 65.90])
KACKER_VAR = np.array([0.2025, 1.2100, 0.0900, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225])


def test_kacker_tau_paule_mandel_and_dersimonian_laird() -> None:
    assert np.sqrt(pool(KACKER_EFF, KACKER_VAR, "pm").tau2) == pytest.approx(0.8399, abs=6e-5)
    assert np.sqrt(pool(KACKER_EFF, KACKER_VAR, "dl").tau2) == pytest.approx(0.5359, abs=1e-3)


def _dl_by_hand(y: np.ndarray, v: np.ndarray) -> tuple[float, float, float, float]:
    """DerSimonian and Laird (1986) written out: Q, tau^2, the pooled mean and its SE."""
    w = 1.0 / v
    mu_fe = (w * y).sum() / w.sum()
    q = (w * (y - mu_fe) ** 2).sum()
    c = w.sum() - (w**2).sum() / w.sum()
    tau2 = max(0.0, (q - (len(y) - 1)) / c)
    w_re = 1.0 / (v + tau2)
    mu = (w_re * y).sum() / w_re.sum()
    return q, tau2, mu, float(np.sqrt(1.0 / w_re.sum()))


def test_dersimonian_laird_matches_the_formula() -> None:
    y, v = np.array([0.2, 1.1, -0.4, 0.9]), np.array([0.04, 0.09, 0.05, 0.2])
    q, tau2, mu, se = _dl_by_hand(y, v)
    got = pool(y, v, "dl")
    assert got.q == pytest.approx(q)
    assert got.tau2 == pytest.approx(tau2)
    assert got.random == pytest.approx((mu, se))
    assert got.i2 == pytest.approx((q - 3) / q)


def test_dl_tau2_is_truncated_at_zero() -> None:
    # two nearly equal studies: Q < df, so the DL estimate is 0 and random = fixed
    y, v = logit_rate(np.array([7, 6]), np.array([16, 14]))
    got = pool(y, v, "dl")
    assert got.tau2 == 0.0
    assert got.random == got.fixed
    assert got.i2 == 0.0


def test_fixed_effect_of_equal_variances_is_the_mean() -> None:
    got = pool(np.array([0.1, 0.5, 0.3]), np.array([0.02, 0.02, 0.02]), "fe")
    assert got.fixed[0] == pytest.approx(0.3)
    assert got.fixed[1] == pytest.approx(np.sqrt(0.02 / 3))


def test_logit_rate_and_zero_cells() -> None:
    eff, var = logit_rate(np.array([30, 0]), np.array([47, 8]))
    assert eff[0] == pytest.approx(np.log(30 / 17))
    assert var[0] == pytest.approx(1 / 30 + 1 / 17)
    assert eff[1] == pytest.approx(np.log(0.5 / 8.5))
    assert var[1] == pytest.approx(1 / 0.5 + 1 / 8.5)


def test_odds_ratio_corrects_only_studies_with_a_zero_cell() -> None:
    log_or, var = two_arm(
        "or", np.array([30, 0]), np.array([47, 10]), np.array([7, 3]), np.array([25, 10])
    )
    assert log_or[0] == pytest.approx(np.log((30 / 17) / (7 / 18)))
    assert log_or[1] == pytest.approx(np.log((0.5 / 10.5) / (3.5 / 7.5)))
    assert var[1] == pytest.approx(1 / 0.5 + 1 / 10.5 + 1 / 3.5 + 1 / 7.5)


def test_two_arm_effects_of_murrough_2013a() -> None:
    log_or, var = two_arm("or", np.array([30]), np.array([47]), np.array([7]), np.array([25]))
    assert log_or[0] == pytest.approx(np.log((30 / 17) / (7 / 18)))
    assert var[0] == pytest.approx(1 / 30 + 1 / 17 + 1 / 7 + 1 / 18)
    rd, var = two_arm("rd", np.array([30]), np.array([47]), np.array([7]), np.array([25]))
    assert rd[0] == pytest.approx(30 / 47 - 7 / 25)
    assert var[0] == pytest.approx((30 / 47) * (17 / 47) / 47 + (7 / 25) * (18 / 25) / 25)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """The shipped studies' outcomes, read from their files (the store is tested apart)."""
    return outcome_frame([s for f in shipped_files() for s in read_file(f)])


def test_pooled_24h_response_of_single_infusions(frame: pd.DataFrame) -> None:
    result = meta_analysis(frame, "response", "24 h", filters={"course": "single"})
    assert [s.study for s in result.studies] == [
        "berman-2000",
        "zarate-2006a",
        "diazgranados-2010b",
        "valentine-2011",
        "zarate-2012",
        "murrough-2013a",
    ]
    y, v = logit_rate(np.array([2, 12, 7, 2, 6, 30]), np.array([8, 17, 16, 10, 14, 47]))
    q, tau2, mu, se = _dl_by_hand(y, v)
    assert result.tau2 == pytest.approx(tau2)
    assert result.pooled.estimate == pytest.approx(1 / (1 + np.exp(-mu)))
    assert result.pooled.lo == pytest.approx(1 / (1 + np.exp(-(mu - 1.959964 * se))), rel=1e-5)
    assert result.q == pytest.approx(q)
    doc = result.to_json()
    assert {"k_studies", "pooled", "i2", "tau2", "predicted", "studies"} <= set(doc)
    assert doc["k_studies"] == 6
    assert doc["predicted"] is None


def test_overlapping_studies_are_pooled_once(frame: pd.DataFrame) -> None:
    result = meta_analysis(frame, "response", "24 h", after="final")
    studies = [s.study for s in result.studies]
    assert "murrough-2013b" in studies
    assert "aan-het-rot-2010" not in studies
    assert result.excluded[0][0] == "aan-het-rot-2010"
    assert "murrough-2013b" in result.excluded[0][1]


def test_subgroups_and_their_difference(frame: pd.DataFrame) -> None:
    result = meta_analysis(frame, "response", "24 h", by="diagnosis")
    assert set(result.subgroups) == {"MDD", "BDep", "MDD-and-BDep"}
    assert sum(g.k_studies for g in result.subgroups.values()) == result.k_studies
    assert result.subgroups["BDep"].k_studies == 2
    assert 0.0 <= result.subgroup_test["p"] <= 1.0
    assert result.subgroup_test["df"] == 2


def test_odds_ratio_needs_a_control_arm(frame: pd.DataFrame) -> None:
    result = meta_analysis(frame, "response", "24 h", measure="or")
    assert [s.study for s in result.studies] == ["murrough-2013a"]
    assert result.pooled.estimate == pytest.approx((30 / 17) / (7 / 18))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"endpoint": "cure"}, "--endpoint"),
        ({"time": "3 parsecs"}, "--time"),
        ({"time": "3 h"}, "--endpoint/--time"),
        ({"measure": "hr"}, "--measure"),
        ({"method": "reml"}, "--method"),
        ({"by": "age"}, "--by"),
    ],
)
def test_bad_options_name_the_field(
    frame: pd.DataFrame, kwargs: dict[str, str], field: str
) -> None:
    args = {"endpoint": "response", "time": "24 h", **kwargs}
    with pytest.raises(KetasimInputError, match=f"^{field}"):
        meta_analysis(frame, **args)


def test_replicates_equal_to_the_data_predict_the_observed_pooling(frame: pd.DataFrame) -> None:
    """A prediction is the same analysis run on each replicate: replicates that reproduce
    the published counts exactly must give the published pooled estimate."""
    rows = selected(frame, "response", "24 h", filters={"course": "single"})
    same = {(r.study, r.arm): np.full(50, r.k) for r in rows.itertuples()}
    result = meta_analysis(frame, "response", "24 h", filters={"course": "single"}, replicates=same)
    assert result.predicted is not None
    assert result.predicted.estimate == pytest.approx(result.pooled.estimate)
    for s in result.studies:
        assert s.predicted is not None
        assert s.predicted.estimate == pytest.approx(s.k / s.n)


def test_replicates_spread_into_a_prediction_interval(frame: pd.DataFrame) -> None:
    rows = selected(frame, "response", "24 h", filters={"course": "single"})
    rng = np.random.default_rng(1)
    reps = {(r.study, r.arm): rng.binomial(int(r.n), 0.5, size=400) for r in rows.itertuples()}
    result = meta_analysis(frame, "response", "24 h", filters={"course": "single"}, replicates=reps)
    assert result.predicted is not None
    assert result.predicted.lo < 0.5 < result.predicted.hi
    assert result.predicted.estimate == pytest.approx(0.5, abs=0.03)


def test_cached_predictions_are_keyed_by_the_model_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a changed mechanism file is a new model: its cached predictions must not be reused
    import shutil

    from ketasim.calibration.fit import study_specs
    from ketasim.data.library import calibration_path
    from ketasim.evidence import predict

    data = calibration_path().parents[1]
    for part in ("calibrated", "mechanism", "drugs"):
        shutil.copytree(data / part, tmp_path / part)
    shutil.copy(data / "population.yaml", tmp_path / "population.yaml")
    monkeypatch.setattr(predict, "calibration_path", lambda: tmp_path / "calibrated/human.yaml")
    spec = study_specs()["zarate-2006a"]
    before = predict._key(spec, 120, 0)
    assert predict._key(spec, 120, 0) == before
    mechanism = tmp_path / "mechanism/human.yaml"
    mechanism.write_text(mechanism.read_text() + "\n# edited\n")
    assert predict._key(spec, 120, 0) != before
