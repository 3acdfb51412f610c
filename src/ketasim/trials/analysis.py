"""Statistics of virtual clinical trials: intervals, comparisons, models and replicate summaries.

Every function is pure (numpy arrays or pandas frames in, numbers out) and delegates the
statistics to statsmodels or scipy, whose function each docstring names. Comparisons return a
:class:`Comparison` (estimate, confidence interval, p-value); summaries over replicate trials
return a :class:`Spread` (median and percentile interval) or a power.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from numpy.typing import ArrayLike
from scipy import stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
)
from statsmodels.tools.sm_exceptions import ConvergenceWarning

NAN = float("nan")


@dataclass(frozen=True)
class Comparison:
    """An effect estimate with its confidence interval and two-sided p-value.

    Attributes
    ----------
    estimate : float
        Point estimate (difference, odds ratio or model coefficient).
    lo, hi : float
        Lower and upper confidence limits.
    p : float
        Two-sided p-value of the null hypothesis of no effect.
    """

    estimate: float
    lo: float
    hi: float
    p: float


_NAN_COMPARISON = Comparison(NAN, NAN, NAN, NAN)


@dataclass(frozen=True)
class Spread:
    """Median and percentile interval of a quantity over replicate trials.

    Attributes
    ----------
    median : float
        Median over replicates.
    lo, hi : float
        The ``(1 - level) / 2`` and ``1 - (1 - level) / 2`` percentiles.
    """

    median: float
    lo: float
    hi: float


# ---------------------------------------------------------------------------------------------
# Proportions
# ---------------------------------------------------------------------------------------------


def wilson_interval(
    k: ArrayLike, n: ArrayLike, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes out of ``n``, vectorised.

    Uses ``statsmodels.stats.proportion.proportion_confint(k, n, alpha, method="wilson")``.

    Parameters
    ----------
    k : array_like
        Numbers of successes.
    n : array_like
        Numbers of trials, broadcast against ``k``.
    alpha : float, default 0.05
        Significance level; the interval has coverage ``1 - alpha``.

    Returns
    -------
    lo, hi : numpy.ndarray
        Lower and upper limits with the broadcast shape of ``k`` and ``n`` (0-d for scalars);
        NaN where ``n == 0``.

    Raises
    ------
    ValueError
        If a count is negative or ``k > n``.
    """
    kk, nn = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(n, dtype=float))
    if np.any(kk < 0) or np.any(kk > nn):
        raise ValueError("wilson_interval needs 0 <= k <= n for every pair")
    empty = nn == 0
    lo, hi = proportion_confint(kk, np.where(empty, 1.0, nn), alpha=alpha, method="wilson")
    lo = np.where(empty, np.nan, np.asarray(lo, dtype=float))
    hi = np.where(empty, np.nan, np.asarray(hi, dtype=float))
    return lo, hi


def _check_counts(k1: int, n1: int, k0: int, n0: int) -> bool:
    """Validate two binomial arms; ``False`` when an arm is empty (nothing to compare)."""
    for k, n in ((k1, n1), (k0, n0)):
        if n < 0 or k < 0 or k > n:
            raise ValueError(f"counts need 0 <= k <= n, got k={k}, n={n}")
    return n1 > 0 and n0 > 0


def _fisher_p(k1: int, n1: int, k0: int, n0: int) -> float:
    """Two-sided ``scipy.stats.fisher_exact`` p-value of the 2x2 table of two arms."""
    table = np.array([[k1, n1 - k1], [k0, n0 - k0]])
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def risk_difference(k1: int, n1: int, k0: int, n0: int, alpha: float = 0.05) -> Comparison:
    """Difference of two proportions ``k1/n1 - k0/n0`` with Newcombe's interval.

    The interval is ``statsmodels.stats.proportion.confint_proportions_2indep(k1, n1, k0, n0,
    compare="diff", method="newcomb")`` (hybrid Wilson score); the p-value is the two-sided
    ``scipy.stats.fisher_exact`` test, exact because virtual trial arms are small.

    Parameters
    ----------
    k1, n1 : int
        Successes and patients in the treated arm.
    k0, n0 : int
        Successes and patients in the comparator arm.
    alpha : float, default 0.05
        Significance level of the interval.

    Returns
    -------
    Comparison
        All NaN when an arm has no patients.

    Raises
    ------
    ValueError
        If a count is negative or exceeds its arm size.
    """
    if not _check_counts(k1, n1, k0, n0):
        return _NAN_COMPARISON
    lo, hi = confint_proportions_2indep(
        k1, n1, k0, n0, compare="diff", method="newcomb", alpha=alpha
    )
    return Comparison(k1 / n1 - k0 / n0, float(lo), float(hi), _fisher_p(k1, n1, k0, n0))


def odds_ratio(k1: int, n1: int, k0: int, n0: int, alpha: float = 0.05) -> Comparison:
    """Odds ratio of the treated versus the comparator arm.

    The estimate is ``(a d) / (b c)`` of the table ``[[k1, n1 - k1], [k0, n0 - k0]]``, with the
    Haldane correction (0.5 added to every cell) only when a cell is 0. The interval is
    ``statsmodels.stats.proportion.confint_proportions_2indep(k1, n1, k0, n0,
    compare="odds-ratio", method="logit-adjusted")``; the p-value is the two-sided
    ``scipy.stats.fisher_exact`` test.

    Parameters
    ----------
    k1, n1 : int
        Successes and patients in the treated arm.
    k0, n0 : int
        Successes and patients in the comparator arm.
    alpha : float, default 0.05
        Significance level of the interval.

    Returns
    -------
    Comparison
        All NaN when an arm has no patients.

    Raises
    ------
    ValueError
        If a count is negative or exceeds its arm size.
    """
    if not _check_counts(k1, n1, k0, n0):
        return _NAN_COMPARISON
    a, b, c, d = float(k1), float(n1 - k1), float(k0), float(n0 - k0)
    if min(a, b, c, d) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    lo, hi = confint_proportions_2indep(
        k1, n1, k0, n0, compare="odds-ratio", method="logit-adjusted", alpha=alpha
    )
    return Comparison((a * d) / (b * c), float(lo), float(hi), _fisher_p(k1, n1, k0, n0))


# ---------------------------------------------------------------------------------------------
# Continuous outcomes
# ---------------------------------------------------------------------------------------------


def _coefficient(result: Any, index: int) -> Comparison:
    """One coefficient of a fitted statsmodels regression with its 95 % CI and t-test p."""
    ci = np.asarray(result.conf_int(alpha=0.05))
    return Comparison(
        float(np.asarray(result.params)[index]),
        float(ci[index, 0]),
        float(ci[index, 1]),
        float(np.asarray(result.pvalues)[index]),
    )


def ancova(change: ArrayLike, baseline: ArrayLike, treated: ArrayLike) -> Comparison:
    """ANCOVA of change from baseline on treatment, adjusting for baseline.

    Fits ``change ~ 1 + treated + baseline`` by ordinary least squares with
    ``statsmodels.api.OLS(change, statsmodels.api.add_constant(...))``. Patients with a
    non-finite value in any of the three arrays are left out.

    Parameters
    ----------
    change : array_like
        Change from baseline per patient.
    baseline : array_like
        Baseline score per patient.
    treated : array_like
        1 for the treated arm, 0 for the comparator.

    Returns
    -------
    Comparison
        The treatment coefficient, its 95 % confidence interval and its t-test p-value.

    Raises
    ------
    ValueError
        If the arrays differ in length, fewer than 4 patients remain, or only one arm is
        present.
    """
    y = np.asarray(change, dtype=float).ravel()
    x0 = np.asarray(baseline, dtype=float).ravel()
    t = np.asarray(treated, dtype=float).ravel()
    if not y.size == x0.size == t.size:
        raise ValueError(
            f"ancova needs arrays of equal length, got change {y.size}, "
            f"baseline {x0.size}, treated {t.size}"
        )
    ok = np.isfinite(y) & np.isfinite(x0) & np.isfinite(t)
    y, x0, t = y[ok], x0[ok], t[ok]
    if y.size < 4:
        raise ValueError(f"ancova needs at least 4 patients with data, got {y.size}")
    if np.unique(t).size < 2:
        raise ValueError("ancova needs patients in both arms (treated 0 and 1), got a single arm")
    X = sm.add_constant(np.column_stack([t, x0]), has_constant="add")
    return _coefficient(sm.OLS(y, X).fit(), 1)


def paired_crossover(
    on_drug: ArrayLike, on_placebo: ArrayLike, period_of_drug: ArrayLike
) -> Comparison:
    """Two-period crossover analysis of the drug effect with a period effect.

    The within-patient difference ``on_drug - on_placebo`` is regressed by
    ``statsmodels.api.OLS`` on an intercept and the sequence, coded +0.5 when the drug came in
    period 1 (``period_of_drug == 1``) and -0.5 otherwise (0 or 2). With that coding the
    intercept is the treatment effect averaged over the two sequences, free of the period
    effect; its 95 % interval and t-test p-value are returned.

    When every patient has the same sequence (a non-counterbalanced design) the period effect
    cannot be separated from the treatment effect: the function then falls back to a one-sample
    t-test of the differences (``scipy.stats.ttest_1samp``), whose estimate is the mean
    difference and which carries any period effect with it.

    Parameters
    ----------
    on_drug, on_placebo : array_like
        Per-patient outcome under drug and under placebo.
    period_of_drug : array_like
        1 if the patient received the drug in period 1, anything else (0 or 2) if in period 2.

    Returns
    -------
    Comparison
        Mean drug minus placebo difference, 95 % interval and two-sided p-value.

    Raises
    ------
    ValueError
        If the arrays differ in length or fewer than 2 patients have finite outcomes under
        both conditions. (With two sequences but only 2 patients, the regression has no degrees
        of freedom left and the one-sample t-test is used.)
    """
    a = np.asarray(on_drug, dtype=float).ravel()
    b = np.asarray(on_placebo, dtype=float).ravel()
    first = np.asarray(period_of_drug, dtype=float).ravel() == 1
    if not a.size == b.size == first.size:
        raise ValueError(
            f"paired_crossover needs arrays of equal length, got {a.size}, {b.size}, {first.size}"
        )
    ok = np.isfinite(a) & np.isfinite(b)
    diff, first = a[ok] - b[ok], first[ok]
    if diff.size < 2:
        raise ValueError(f"paired_crossover needs at least 2 patients, got {diff.size}")
    if np.unique(first).size < 2 or diff.size < 3:
        test = stats.ttest_1samp(diff, 0.0)
        ci = test.confidence_interval(confidence_level=0.95)
        return Comparison(float(diff.mean()), float(ci.low), float(ci.high), float(test.pvalue))
    sequence = np.where(first, 0.5, -0.5)
    X = sm.add_constant(sequence[:, None], has_constant="add")
    return _coefficient(sm.OLS(diff, X).fit(), 0)


def locf(scores: np.ndarray) -> np.ndarray:
    """Last observation carried forward along the visits.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(patients, visits)`` array with NaN for missing visits.

    Returns
    -------
    numpy.ndarray
        Float copy with every NaN replaced by the patient's last earlier observation; NaNs
        before a patient's first observation stay NaN.

    Raises
    ------
    ValueError
        If ``scores`` is not two-dimensional.
    """
    x = np.asarray(scores, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"locf needs a (patients, visits) array, got shape {x.shape}")
    if x.size == 0:
        return x.copy()
    cols = np.where(np.isfinite(x), np.arange(x.shape[1])[None, :], 0)
    last = np.maximum.accumulate(cols, axis=1)
    return np.take_along_axis(x, last, axis=1)


def _visit_levels(visit: pd.Series) -> list[Any]:
    """Observed visit levels in order: category order if categorical, else sorted."""
    if isinstance(visit.dtype, pd.CategoricalDtype):
        present = set(visit.dropna().unique())
        return [c for c in visit.cat.categories if c in present]
    return sorted(visit.dropna().unique())


def _ancova_locf(frame: pd.DataFrame, levels: list[Any]) -> Comparison:
    """ANCOVA at the last visit with last observation carried forward (mixed-model fallback)."""
    wide = frame.pivot_table(index="patient", columns="visit", values="score", dropna=False)
    wide = wide.reindex(columns=levels)
    last = locf(wide.to_numpy(dtype=float))[:, -1]
    per_patient = frame.groupby("patient")[["baseline", "treated"]].first().loc[wide.index]
    base = per_patient["baseline"].to_numpy(dtype=float)
    return ancova(last - base, base, per_patient["treated"].to_numpy(dtype=float))


def mixed_model(frame: pd.DataFrame) -> Comparison:
    """Repeated-measures mixed model (MMRM-style); treatment effect at the last visit.

    Fits ``statsmodels.formula.api.mixedlm("score ~ baseline + C(visit) * treated", frame,
    groups=frame["patient"]).fit(reml=True)`` (random intercept per patient) on all observed
    rows; rows with a missing score are dropped, so every observed visit contributes. The
    effect at the last visit is the ``treated`` coefficient plus the ``treated`` x last-visit
    interaction; its variance is ``c' V c`` with ``V`` the covariance matrix of the fixed
    effects, and the interval and p-value are normal (Wald). Statsmodels'
    ``ConvergenceWarning`` is silenced.

    If the fit fails entirely (an exception, or a non-finite estimate or standard error), the
    function falls back to :func:`ancova` of the last visit with missing visits carried
    forward by :func:`locf` (patients with no observed visit left out).

    Parameters
    ----------
    frame : pandas.DataFrame
        Long format with columns ``patient``, ``visit`` (categorical-like; the last visit is
        the last category of an ordered/categorical column, else the largest value),
        ``treated`` (0/1, constant within patient), ``baseline`` and ``score`` (NaN when
        missing).

    Returns
    -------
    Comparison
        Treated minus control at the last visit, adjusted for baseline, with a 95 % interval.

    Raises
    ------
    ValueError
        If a column is missing, or if the fallback ANCOVA has too few patients or one arm.
    """
    missing = {"patient", "visit", "treated", "baseline", "score"} - set(frame.columns)
    if missing:
        raise ValueError(f"mixed_model frame lacks column(s) {sorted(missing)}")
    levels = _visit_levels(frame.loc[frame["score"].notna(), "visit"])
    if not levels:
        raise ValueError("mixed_model needs at least one observed score")
    try:
        result = _mixed_fit(frame, levels)
    except Exception:
        result = None
    return result if result is not None else _ancova_locf(frame, levels)


def _mixed_fit(frame: pd.DataFrame, levels: list[Any]) -> Comparison | None:
    """The mixed-model fit of :func:`mixed_model`; ``None`` when it gives no finite answer."""
    data = frame.loc[frame["score"].notna()].copy()
    data = data.loc[data[["baseline", "treated"]].notna().all(axis=1)]
    # Recode visits as zero-padded labels in visit order so the coefficient names are known.
    width = len(str(len(levels)))
    codes = [f"v{i:0{width}d}" for i in range(len(levels))]
    data["visit"] = pd.Categorical(
        data["visit"].map(dict(zip(levels, codes, strict=True))), categories=codes, ordered=True
    )
    data = data.reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = smf.mixedlm("score ~ baseline + C(visit) * treated", data, groups=data["patient"])
        fit = model.fit(reml=True)
    names = list(fit.fe_params.index)
    contrast = pd.Series(0.0, index=names)
    contrast["treated"] = 1.0
    if len(codes) > 1:
        contrast[f"C(visit)[T.{codes[-1]}]:treated"] = 1.0
    if list(contrast.index) != names:  # a name was missing: the design is not as expected
        return None
    c = contrast.to_numpy()
    cov = np.asarray(fit.cov_params().loc[names, names], dtype=float)
    estimate = float(c @ np.asarray(fit.fe_params, dtype=float))
    se = float(np.sqrt(c @ cov @ c))
    if not (np.isfinite(estimate) and np.isfinite(se) and se > 0):
        return None
    z = float(stats.norm.ppf(0.975))
    p = float(2.0 * stats.norm.sf(abs(estimate) / se))
    return Comparison(estimate, estimate - z * se, estimate + z * se, p)


# ---------------------------------------------------------------------------------------------
# Summaries over replicate trials
# ---------------------------------------------------------------------------------------------


def spread(values: ArrayLike, level: float = 0.95) -> Spread:
    """Median and central percentile interval over replicates, ignoring NaN.

    Uses ``numpy.nanpercentile`` (linear interpolation).

    Parameters
    ----------
    values : array_like
        One value per replicate trial.
    level : float, default 0.95
        Coverage of the interval, in (0, 1).

    Returns
    -------
    Spread
        Median and the ``(1 - level) / 2`` and ``1 - (1 - level) / 2`` percentiles; all NaN
        when no value is finite.

    Raises
    ------
    ValueError
        If ``level`` is not in (0, 1).
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"spread needs 0 < level < 1, got {level}")
    v = np.asarray(values, dtype=float).ravel()
    v = v[~np.isnan(v)]
    if v.size == 0:
        return Spread(NAN, NAN, NAN)
    tail = 100.0 * (1.0 - level) / 2.0
    lo, median, hi = np.percentile(v, [tail, 50.0, 100.0 - tail])
    return Spread(float(median), float(lo), float(hi))


def power(p_values: ArrayLike, alpha: float = 0.05) -> float:
    """Share of replicate trials with ``p < alpha``; a NaN p-value counts as not significant.

    Parameters
    ----------
    p_values : array_like
        One p-value per replicate trial.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    float
        Estimated power; NaN when there are no replicates.
    """
    p = np.asarray(p_values, dtype=float).ravel()
    if p.size == 0:
        return NAN
    with np.errstate(invalid="ignore"):
        return float(np.mean(p < alpha))


__all__ = [
    "Comparison",
    "Spread",
    "ancova",
    "locf",
    "mixed_model",
    "odds_ratio",
    "paired_crossover",
    "power",
    "risk_difference",
    "spread",
    "wilson_interval",
]
