"""Unit tests of ketasim.trials.analysis: the statistics of virtual trials."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ketasim.trials import analysis
from ketasim.trials.analysis import (
    Comparison,
    ancova,
    locf,
    mixed_model,
    odds_ratio,
    paired_crossover,
    power,
    risk_difference,
    spread,
    wilson_interval,
)

Z975 = 1.959963984540054  # standard normal 97.5 % quantile


def wilson_closed_form(k: int, n: int, z: float = Z975) -> tuple[float, float]:
    """Wilson (1927) score interval written out."""
    centre = (k + z**2 / 2) / (n + z**2)
    half = z / (n + z**2) * math.sqrt(k * (n - k) / n + z**2 / 4)
    return centre - half, centre + half


# --- Wilson interval --------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(30, 47), (7, 25)])
def test_wilson_matches_closed_form(k: int, n: int) -> None:
    lo, hi = wilson_interval(k, n)
    want_lo, want_hi = wilson_closed_form(k, n)
    assert abs(float(lo) - want_lo) < 1e-10
    assert abs(float(hi) - want_hi) < 1e-10


def test_wilson_vectorised_equals_scalar_calls() -> None:
    k = np.array([30, 7, 0, 12])
    n = np.array([47, 25, 10, 12])
    lo, hi = wilson_interval(k, n, alpha=0.1)
    assert lo.shape == hi.shape == (4,)
    for i in range(4):
        lo_i, hi_i = wilson_interval(int(k[i]), int(n[i]), alpha=0.1)
        assert abs(lo[i] - float(lo_i)) < 1e-12
        assert abs(hi[i] - float(hi_i)) < 1e-12


def test_wilson_n_zero_is_nan() -> None:
    lo, hi = wilson_interval(0, 0)
    assert np.isnan([lo, hi]).all()
    lo2, hi2 = wilson_interval(np.array([0, 3]), np.array([0, 10]))
    assert np.isnan([lo2[0], hi2[0]]).all()
    assert np.isfinite([lo2[1], hi2[1]]).all()


# --- Two proportions --------------------------------------------------------------------------


def test_risk_difference_estimate_and_fisher_p() -> None:
    c = risk_difference(30, 47, 7, 25)
    assert isinstance(c, Comparison)
    assert abs(c.estimate - (30 / 47 - 7 / 25)) < 1e-12
    want_p = stats.fisher_exact([[30, 17], [7, 18]], alternative="two-sided").pvalue
    assert abs(c.p - want_p) < 1e-12
    assert c.lo < c.estimate < c.hi
    assert -1.0 <= c.lo < c.hi <= 1.0


def test_risk_difference_empty_arm_is_nan() -> None:
    c = risk_difference(0, 0, 3, 10)
    assert np.isnan([c.estimate, c.lo, c.hi, c.p]).all()


def test_odds_ratio_without_zero_cells() -> None:
    a, n1, c_, n0 = 30, 47, 7, 25
    b, d = n1 - a, n0 - c_
    c = odds_ratio(a, n1, c_, n0)
    assert abs(c.estimate - (a * d) / (b * c_)) < 1e-12
    want_p = stats.fisher_exact([[a, b], [c_, d]]).pvalue
    assert abs(c.p - want_p) < 1e-12
    assert 0 < c.lo < c.estimate < c.hi


def test_odds_ratio_with_zero_cell_is_finite_haldane() -> None:
    c = odds_ratio(5, 10, 0, 10)
    assert np.isfinite([c.estimate, c.lo, c.hi]).all()
    assert abs(c.estimate - (5.5 * 10.5) / (5.5 * 0.5)) < 1e-12
    assert 0 < c.lo < c.hi


# --- ANCOVA -----------------------------------------------------------------------------------


def _ancova_data(seed: int = 20240611, n: int = 400) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    treated = rng.permutation(np.repeat([0.0, 1.0], n // 2))
    baseline = rng.normal(24.0, 4.0, n)
    change = -5.0 * treated + 0.3 * baseline + rng.normal(0.0, 3.0, n)
    return change, baseline, treated


def test_ancova_recovers_known_effect() -> None:
    change, baseline, treated = _ancova_data()
    c = ancova(change, baseline, treated)
    assert abs(c.estimate - (-5.0)) < 0.6
    assert c.p < 1e-6
    assert c.lo < c.estimate < c.hi


def test_ancova_equals_direct_least_squares() -> None:
    change, baseline, treated = _ancova_data(seed=7, n=60)
    X = np.column_stack([np.ones_like(change), treated, baseline])
    coef, *_ = np.linalg.lstsq(X, change, rcond=None)
    assert abs(ancova(change, baseline, treated).estimate - coef[1]) < 1e-10


def test_ancova_rejects_too_few_patients_and_single_arm() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        ancova([1.0, 2.0, 3.0], [20.0, 21.0, 22.0], [0, 1, 1])
    with pytest.raises(ValueError, match="single arm"):
        ancova([1.0, 2.0, 3.0, 4.0], [20.0, 21.0, 22.0, 23.0], [1, 1, 1, 1])


# --- Crossover --------------------------------------------------------------------------------


def _crossover_data(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    first = np.r_[np.ones(30), np.zeros(18)]  # unbalanced sequences: 30 drug-first, 18 second
    subject = rng.normal(20.0, 5.0, first.size)
    on_placebo = subject + rng.normal(0.0, 2.0, first.size)
    on_drug = subject - 4.0 + rng.normal(0.0, 2.0, first.size)
    return on_drug, on_placebo, first


def test_paired_crossover_recovers_effect() -> None:
    on_drug, on_placebo, first = _crossover_data()
    c = paired_crossover(on_drug, on_placebo, first)
    assert abs(c.estimate - (-4.0)) < 1.2
    assert c.p < 1e-6
    assert c.lo < c.estimate < c.hi


def test_paired_crossover_period_effect_does_not_bias() -> None:
    on_drug, on_placebo, first = _crossover_data()
    before = paired_crossover(on_drug, on_placebo, first)
    # +3 on every period-1 value: the drug's when it came first, the placebo's otherwise.
    drug_p = on_drug + 3.0 * (first == 1)
    placebo_p = on_placebo + 3.0 * (first != 1)
    after = paired_crossover(drug_p, placebo_p, first)
    assert abs(after.estimate - before.estimate) < 1e-9
    # The naive mean difference is biased by the unbalanced sequences, so the test has teeth.
    assert abs(np.mean(drug_p - placebo_p) - np.mean(on_drug - on_placebo)) > 0.5


def test_paired_crossover_accepts_period_numbers() -> None:
    on_drug, on_placebo, first = _crossover_data()
    periods = np.where(first == 1, 1.0, 2.0)
    a = paired_crossover(on_drug, on_placebo, first)
    b = paired_crossover(on_drug, on_placebo, periods)
    assert abs(a.estimate - b.estimate) < 1e-12
    assert abs(a.p - b.p) < 1e-12


def test_paired_crossover_non_counterbalanced_falls_back_to_t_test() -> None:
    on_drug, on_placebo, _ = _crossover_data()
    first = np.ones(on_drug.size)
    c = paired_crossover(on_drug, on_placebo, first)
    diff = on_drug - on_placebo
    assert abs(c.p - stats.ttest_1samp(diff, 0.0).pvalue) < 1e-12
    assert abs(c.estimate - diff.mean()) < 1e-12


# --- Mixed model ------------------------------------------------------------------------------


def _mmrm_frame(seed: int = 11, per_arm: int = 100, missing: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 2 * per_arm
    treated = np.repeat([0, 1], per_arm)
    baseline = rng.normal(25.0, 4.0, n)
    patient_effect = rng.normal(0.0, 3.0, n)
    rows = []
    for v, (placebo_change, drug_effect) in enumerate([(-2.0, -2.0), (-3.0, -4.0), (-4.0, -6.0)]):
        score = (
            baseline
            + placebo_change
            + drug_effect * treated
            + patient_effect
            + rng.normal(0.0, 3.0, n)
        )
        if v > 0 and missing > 0:
            score[rng.random(n) < missing] = np.nan
        rows.append(
            pd.DataFrame(
                {
                    "patient": np.arange(n),
                    "visit": v + 1,
                    "treated": treated,
                    "baseline": baseline,
                    "score": score,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _locf_ancova(frame: pd.DataFrame) -> Comparison:
    """ANCOVA of the last visit with LOCF, computed independently of mixed_model."""
    wide = frame.pivot(index="patient", columns="visit", values="score").to_numpy()
    last = locf(wide)[:, -1]
    per_patient = frame.groupby("patient")[["baseline", "treated"]].first()
    base = per_patient["baseline"].to_numpy()
    return ancova(last - base, base, per_patient["treated"].to_numpy())


def test_mixed_model_recovers_last_visit_effect() -> None:
    c = mixed_model(_mmrm_frame())
    assert abs(c.estimate - (-6.0)) < 1.5
    assert c.p < 0.01
    assert c.lo < c.estimate < c.hi
    assert all(isinstance(v, float) for v in (c.estimate, c.lo, c.hi, c.p))


def test_mixed_model_with_missing_later_visits() -> None:
    frame = _mmrm_frame(missing=0.2)
    assert frame["score"].isna().mean() > 0.1
    c = mixed_model(frame)
    assert np.isfinite([c.estimate, c.lo, c.hi, c.p]).all()
    assert abs(c.estimate - (-6.0)) < 1.5
    assert c.p < 0.01
    # The mixed model itself answered, not the LOCF fallback.
    assert abs(c.estimate - _locf_ancova(frame).estimate) > 1e-3


def test_mixed_model_falls_back_to_locf_ancova(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _mmrm_frame(seed=5, per_arm=30, missing=0.2)

    def broken(*args: object, **kwargs: object) -> None:
        raise np.linalg.LinAlgError("singular")

    monkeypatch.setattr(analysis.smf, "mixedlm", broken)
    c = mixed_model(frame)
    want = _locf_ancova(frame)
    assert abs(c.estimate - want.estimate) < 1e-10
    assert abs(c.p - want.p) < 1e-12


# --- LOCF, spread, power ----------------------------------------------------------------------


def test_locf_hand_array() -> None:
    nan = np.nan
    scores = np.array(
        [
            [10.0, nan, 8.0, nan],
            [nan, nan, 5.0, nan],
            [nan, nan, nan, nan],
            [1.0, 2.0, 3.0, 4.0],
        ]
    )
    want = np.array(
        [
            [10.0, 10.0, 8.0, 8.0],
            [nan, nan, 5.0, 5.0],
            [nan, nan, nan, nan],
            [1.0, 2.0, 3.0, 4.0],
        ]
    )
    got = locf(scores)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(scores[0, 1])  # input left untouched


def test_spread_of_0_to_100() -> None:
    s = spread(np.arange(101.0))
    assert abs(s.median - 50.0) < 1e-12
    assert abs(s.lo - 2.5) < 1e-12
    assert abs(s.hi - 97.5) < 1e-12


def test_spread_ignores_nan_and_all_nan_is_nan() -> None:
    s = spread(np.r_[np.arange(101.0), np.nan, np.nan])
    assert abs(s.median - 50.0) < 1e-12
    empty = spread([np.nan, np.nan])
    assert np.isnan([empty.median, empty.lo, empty.hi]).all()


def test_power_counts_nan_as_not_significant() -> None:
    assert power(np.array([0.01, 0.2, np.nan, 0.04])) == pytest.approx(0.5)
    assert power([0.01, 0.2, np.nan, 0.04], alpha=0.02) == pytest.approx(0.25)
