"""Meta-analysis of stored outcomes, and of simulated trials beside them (statsmodels).

Rates are pooled on the logit scale (``measure="rate"``: one entry per treatment arm, with
1/2 added to both cells of an arm with 0 or n events, as metafor's ``escalc("PLO")`` does);
two-arm comparisons as log odds ratios or risk differences (``"or"``, ``"rd"``: statsmodels'
``effectsize_2proportions``, with 1/2 added to every cell of a study with a zero cell). The
pooling is ``statsmodels.stats.meta_analysis.combine_effects``: fixed effect and random
effects with DerSimonian-Laird (``"dl"``) or Paule-Mandel (``"pm"``) between-study variance,
Cochran's Q, I^2 and tau^2. Studies that share patients (``overlaps``) are never pooled
twice: of a group that reports the same outcome, the largest is kept and the others are listed
as excluded with the reason.

Predictions come as replicate simulated counts per study arm (``replicates``, from
:mod:`ketasim.evidence.predict`): each replicate is a set of virtual trials of the published
sizes, analysed exactly like the published ones; the median and the 2.5 and 97.5 percentiles
over replicates are the predicted estimate and its 95 % prediction interval.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.stats.meta_analysis import combine_effects, effectsize_2proportions

from ketasim.errors import KetasimInputError
from ketasim.units import parse_time_h

Measure = Literal["rate", "or", "rd"]
Method = Literal["dl", "pm", "fe"]
MEASURES: tuple[str, ...] = ("rate", "or", "rd")
METHODS: tuple[str, ...] = ("dl", "pm", "fe")
SUBGROUPS: tuple[str, ...] = ("diagnosis", "route", "drug", "design", "course")
#: Replicate counts per (study, arm) for predictions.
Replicates = Mapping[tuple[str, str], np.ndarray]


@dataclass(frozen=True)
class Estimate:
    estimate: float
    lo: float
    hi: float

    def to_json(self) -> dict[str, float | None]:
        return {"estimate": _r(self.estimate), "lo": _r(self.lo), "hi": _r(self.hi)}


def _r(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


@dataclass(frozen=True)
class StudyEffect:
    """One study's entry: its counts, its estimate with 95 % CI, and its weights."""

    study: str
    arm: str
    k: int
    n: int
    k0: float | None
    n0: float | None
    effect: float  # on the pooling scale (logit, log OR or RD)
    variance: float
    observed: Estimate  # on the natural scale
    weight_fe: float = float("nan")
    weight_re: float = float("nan")
    groups: dict[str, str] = field(default_factory=dict)
    predicted: Estimate | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "study": self.study,
            "arm": self.arm,
            "k": self.k,
            "n": self.n,
            **self.observed.to_json(),
            "weight_re": _r(self.weight_re),
            **self.groups,
        }
        if self.k0 is not None:
            out["k_control"], out["n_control"] = _r(self.k0), _r(self.n0 or 0.0)
        out["predicted"] = None if self.predicted is None else self.predicted.to_json()
        return out


@dataclass(frozen=True)
class MetaResult:
    """A pooled analysis; ``pooled`` is the random-effects estimate (fixed when ``fe``)."""

    endpoint: str
    time: str
    after: str
    measure: str
    method: str
    studies: tuple[StudyEffect, ...]
    fixed: Estimate
    pooled: Estimate
    tau2: float
    i2: float
    q: float
    q_p: float
    excluded: tuple[tuple[str, str], ...] = ()
    predicted: Estimate | None = None
    by: str | None = None
    subgroups: dict[str, MetaResult] = field(default_factory=dict)
    subgroup_test: dict[str, float] = field(default_factory=dict)

    @property
    def k_studies(self) -> int:
        return len(self.studies)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "endpoint": self.endpoint,
            "time": self.time,
            "after": self.after,
            "measure": self.measure,
            "method": self.method,
            "k_studies": self.k_studies,
            "pooled": self.pooled.to_json(),
            "fixed": self.fixed.to_json(),
            "i2": _r(self.i2),
            "tau2": _r(self.tau2),
            "q": _r(self.q),
            "q_p": _r(self.q_p),
            "predicted": None if self.predicted is None else self.predicted.to_json(),
            "studies": [s.to_json() for s in self.studies],
            "excluded": [{"study": s, "reason": r} for s, r in self.excluded],
        }
        if self.by is not None:
            out["by"] = self.by
            out["subgroups"] = {k: v.to_json() for k, v in self.subgroups.items()}
            out["subgroup_test"] = {k: _r(v) for k, v in self.subgroup_test.items()}
        return out


# --- effect sizes --------------------------------------------------------------------------


def logit_rate(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logit of k/n and its variance, with 1/2 added to both cells when k is 0 or n."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    c = np.where((k == 0) | (k == n), 0.5, 0.0)
    a, b = k + c, n - k + c
    return np.log(a / b), 1.0 / a + 1.0 / b


def two_arm(
    measure: Measure, k1: np.ndarray, n1: np.ndarray, k0: np.ndarray, n0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Log odds ratio or risk difference (treatment minus control) and their variances."""
    statistic = "odds-ratio" if measure == "or" else "diff"
    k1, n1, k0, n0 = (np.asarray(x, dtype=float) for x in (k1, n1, k0, n0))
    if measure == "or":
        # 1/2 added to every cell of a study with a zero cell, and only there: statsmodels
        # 0.15's zero_correction adds it to the counts of every study once any has a zero.
        zero = (k1 == 0) | (k1 == n1) | (k0 == 0) | (k0 == n0)
        c = np.where(zero, 0.5, 0.0)
        k1, n1, k0, n0 = k1 + c, n1 + 2 * c, k0 + c, n0 + 2 * c
    eff, var = effectsize_2proportions(k1, n1, k0, n0, statistic=statistic)
    return np.asarray(eff, dtype=float), np.asarray(var, dtype=float)


def to_natural(measure: str, x: np.ndarray | float) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if measure == "rate":
        return np.asarray(special.expit(x))
    if measure == "or":
        return np.exp(x)
    return x


@dataclass(frozen=True)
class Pooled:
    fixed: tuple[float, float]  # estimate, standard error (pooling scale)
    random: tuple[float, float]
    tau2: float
    i2: float
    q: float
    q_p: float
    weights_fe: np.ndarray
    weights_re: np.ndarray


def pool(effect: np.ndarray, variance: np.ndarray, method: Method = "dl") -> Pooled:
    """Fixed- and random-effects pooling of ``effect`` with ``variance`` (statsmodels)."""
    effect = np.asarray(effect, dtype=float)
    variance = np.asarray(variance, dtype=float)
    if effect.size == 1:
        se = float(np.sqrt(variance[0]))
        one = np.ones(1)
        nan = float("nan")
        return Pooled((effect[0], se), (effect[0], se), 0.0, nan, nan, nan, one, one)
    with warnings.catch_warnings():
        # statsmodels takes the square root of a negative DL variance before we truncate it
        warnings.simplefilter("ignore", RuntimeWarning)
        res = combine_effects(effect, variance, method_re="pm" if method == "pm" else "dl")
    q = float(res.q)
    df = effect.size - 1
    fixed = (float(res.mean_effect_fe), float(res.sd_eff_w_fe))
    tau2 = float(res.tau2)
    # DerSimonian-Laird truncates tau^2 at 0 (statsmodels 0.15 returns (Q - df) / c as it is,
    # negative when Q < df); with tau^2 = 0 the random-effects estimate is the fixed one.
    homogeneous = method == "fe" or tau2 <= 0.0
    random = fixed if homogeneous else (float(res.mean_effect_re), float(res.sd_eff_w_re))
    weights_re = res.weights_rel_fe if homogeneous else res.weights_rel_re
    return Pooled(
        fixed,
        random,
        0.0 if homogeneous else tau2,
        max(0.0, (q - df) / q) if q > 0 else 0.0,
        q,
        float(stats.chi2.sf(q, df)),
        np.asarray(res.weights_rel_fe, dtype=float),
        np.asarray(weights_re, dtype=float),
    )


def _ci(measure: str, est: float, se: float) -> Estimate:
    z = stats.norm.isf(0.025)
    lo, mid, hi = to_natural(measure, np.array([est - z * se, est, est + z * se]))
    return Estimate(float(mid), float(lo), float(hi))


# --- selecting what to pool ----------------------------------------------------------------


def _course(doses: Any) -> str:
    if doses is None or (isinstance(doses, float) and np.isnan(doses)):
        return "unknown"
    return "single" if int(doses) == 1 else "repeated"


def select(
    frame: pd.DataFrame,
    endpoint: str,
    time: str,
    after: str = "first",
    filters: Mapping[str, str | None] | None = None,
) -> pd.DataFrame:
    """The rate outcomes at ``endpoint``/``time``/``after`` that pass ``filters``
    (drug, route, diagnosis, design, course: single or repeated)."""
    if endpoint not in ("response", "remission"):
        raise KetasimInputError("--endpoint", endpoint, "response or remission")
    if after not in ("first", "final"):
        raise KetasimInputError("--after", after, "first or final")
    hours = parse_time_h(time, "--time")
    if frame.empty:
        return frame
    sel = frame[
        (frame["endpoint"] == endpoint)
        & (frame["after"] == after)
        & np.isclose(frame["time_h"].astype(float).fillna(-1.0), hours)
    ].copy()
    sel["course"] = [_course(d) for d in sel["doses"]]
    for key, value in (filters or {}).items():
        if value is None:
            continue
        if key not in SUBGROUPS:
            raise KetasimInputError("filter", key, f"one of {', '.join(SUBGROUPS)}")
        sel = sel[sel[key].astype(str) == value]
    return sel


def _overlap_groups(frame: pd.DataFrame) -> list[set[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for study, overlaps in zip(frame["study"], frame["overlaps"], strict=True):
        for other in overlaps:
            parent[find(study)] = find(other)
    groups: dict[str, set[str]] = {}
    for study in frame["study"]:
        groups.setdefault(find(study), set()).add(study)
    return list(groups.values())


def _drop_overlaps(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    size = frame.groupby("study")["n"].sum()
    excluded = []
    for group in _overlap_groups(frame):
        if len(group) < 2:
            continue
        keep = max(sorted(group), key=lambda s: int(size[s]))
        for s in sorted(group - {keep}):
            excluded.append((s, f"shares patients with {keep}, which is larger and kept"))
    dropped = {s for s, _ in excluded}
    return frame[~frame["study"].isin(dropped)], excluded


def selected(
    frame: pd.DataFrame,
    endpoint: str,
    time: str,
    after: str = "first",
    filters: Mapping[str, str | None] | None = None,
    measure: str = "rate",
) -> pd.DataFrame:
    """The rows a meta-analysis pools (overlapping studies removed; for a comparison, only
    studies with a control arm): predict these."""
    rows = _drop_overlaps(select(frame, endpoint, time, after, filters))[0]
    if measure != "rate":
        controlled = set(rows.loc[rows["control"].astype(bool), "study"])
        rows = rows[rows["study"].isin(controlled)]
    return rows


def _entries(frame: pd.DataFrame, measure: Measure) -> list[dict[str, Any]]:
    """One entry per treatment arm (rates) or treatment-control pair (comparisons)."""
    out = []
    for study, rows in frame.groupby("study", sort=False):
        treated = rows[~rows["control"].astype(bool)]
        control = rows[rows["control"].astype(bool)]
        if measure != "rate" and control.empty:
            continue
        for _, t in treated.iterrows():
            entry: dict[str, Any] = {
                "study": study,
                "arm": t["arm"],
                "k": int(t["k"]),
                "n": int(t["n"]),
                "k0": None,
                "n0": None,
                "control_arm": None,
                "share": 1,
                "groups": {
                    g: str(t[g]) for g in ("diagnosis", "route", "drug", "design", "course")
                },
            }
            if measure != "rate":
                c = control.iloc[0]
                share = len(treated)  # a control shared by several arms is split between them
                entry.update(
                    k0=float(c["k"]) / share,
                    n0=float(c["n"]) / share,
                    control_arm=c["arm"],
                    share=share,
                )
            out.append(entry)
    return out


def _effects(
    entries: list[dict[str, Any]], measure: Measure, ks: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Effects for the entries; ``ks`` (entries x 2 x replicates) replaces the counts."""
    n = np.array([e["n"] for e in entries], dtype=float)
    if measure == "rate":
        k = np.array([e["k"] for e in entries], dtype=float) if ks is None else ks[:, 0]
        return logit_rate(k, n[:, None] if ks is not None else n)
    n0 = np.array([e["n0"] for e in entries], dtype=float)
    if ks is None:
        k1 = np.array([e["k"] for e in entries], dtype=float)
        k0 = np.array([e["k0"] for e in entries], dtype=float)
        return two_arm(measure, k1, n, k0, n0)
    reps = ks.shape[2]
    return two_arm(
        measure, ks[:, 0], np.repeat(n[:, None], reps, 1), ks[:, 1], np.repeat(n0[:, None], reps, 1)
    )


def _replicate_counts(entries: list[dict[str, Any]], replicates: Replicates) -> np.ndarray | None:
    rows = []
    for e in entries:
        k1 = replicates.get((e["study"], e["arm"]))
        if k1 is None:
            return None
        if e["control_arm"] is None:
            rows.append(np.stack([k1, np.zeros_like(k1)]))
            continue
        k0 = replicates.get((e["study"], e["control_arm"]))
        if k0 is None:
            return None
        rows.append(np.stack([k1, k0 / e["share"]]))
    return np.stack(rows).astype(float)


def meta_analysis(
    frame: pd.DataFrame,
    endpoint: str = "response",
    time: str = "24 h",
    after: str = "first",
    *,
    measure: str = "rate",
    method: str = "dl",
    by: str | None = None,
    filters: Mapping[str, str | None] | None = None,
    replicates: Replicates | None = None,
) -> MetaResult:
    """Pool the stored outcomes (``frame``: :meth:`EvidenceStore.outcomes`) at one time.

    ``replicates``: simulated counts per (study, arm), one per replicate trial, at the
    published sizes; when given, each study and the pooled estimate carry a prediction."""
    if measure not in MEASURES:
        raise KetasimInputError("--measure", measure, f"one of {', '.join(MEASURES)}")
    if method not in METHODS:
        raise KetasimInputError("--method", method, f"one of {', '.join(METHODS)}")
    if by is not None and by not in SUBGROUPS:
        raise KetasimInputError("--by", by, f"one of {', '.join(SUBGROUPS)}")
    m: Measure = measure  # type: ignore[assignment]
    how: Method = method  # type: ignore[assignment]
    sel = select(frame, endpoint, time, after, filters)
    if sel.empty:
        raise KetasimInputError(
            "--endpoint/--time",
            f"{endpoint} at {time} after the {after} dose",
            "an outcome some stored study reports (see `ketasim evidence list`)",
        )
    sel, excluded = _drop_overlaps(sel)
    entries = _entries(sel, m)
    if not entries:
        raise KetasimInputError(
            "--measure", measure, "rate, or a study with a control arm for or/rd"
        )
    result = _analyse(entries, m, how, endpoint, time, after, replicates)
    result = replace(result, excluded=tuple(excluded))
    if by is None:
        return result
    subgroups = {}
    for level in sorted({e["groups"][by] for e in entries}):
        part = [e for e in entries if e["groups"][by] == level]
        subgroups[level] = _analyse(part, m, how, endpoint, time, after, replicates)
    return replace(result, by=by, subgroups=subgroups, subgroup_test=_between(subgroups, m))


def _analyse(
    entries: list[dict[str, Any]],
    measure: Measure,
    method: Method,
    endpoint: str,
    time: str,
    after: str,
    replicates: Replicates | None,
) -> MetaResult:
    eff, var = _effects(entries, measure)
    pooled = pool(eff, var, method)
    predicted = None
    study_pred: list[Estimate | None] = [None] * len(entries)
    if replicates is not None:
        for i, e in enumerate(entries):
            one = _replicate_counts([e], replicates)
            if one is not None:
                r_eff, _ = _effects([e], measure, one)
                study_pred[i] = _percentiles(to_natural(measure, r_eff[0]))
        ks = _replicate_counts(entries, replicates)
        if ks is not None:  # the pooled prediction needs every study predicted
            r_eff, r_var = _effects(entries, measure, ks)
            reps = range(ks.shape[2])
            per_rep = [pool(r_eff[:, j], r_var[:, j], method).random[0] for j in reps]
            predicted = _percentiles(to_natural(measure, np.array(per_rep)))
    studies = tuple(
        StudyEffect(
            e["study"],
            e["arm"],
            e["k"],
            e["n"],
            e["k0"],
            e["n0"],
            float(eff[i]),
            float(var[i]),
            _ci(measure, float(eff[i]), float(np.sqrt(var[i]))),
            float(pooled.weights_fe[i]),
            float(pooled.weights_re[i]),
            e["groups"],
            study_pred[i],
        )
        for i, e in enumerate(entries)
    )
    return MetaResult(
        endpoint,
        time,
        after,
        measure,
        method,
        studies,
        _ci(measure, *pooled.fixed),
        _ci(measure, *pooled.random),
        pooled.tau2,
        pooled.i2,
        pooled.q,
        pooled.q_p,
        predicted=predicted,
    )


def _percentiles(x: np.ndarray) -> Estimate:
    lo, mid, hi = np.percentile(x, [2.5, 50.0, 97.5])
    return Estimate(float(mid), float(lo), float(hi))


def _between(subgroups: Mapping[str, MetaResult], measure: str) -> dict[str, float]:
    """Test of subgroup differences: Q between the subgroups' pooled estimates."""
    if len(subgroups) < 2:
        return {}
    est, w = [], []
    for g in subgroups.values():
        theta = _to_scale(measure, g.pooled.estimate)
        se = (_to_scale(measure, g.pooled.hi) - _to_scale(measure, g.pooled.lo)) / (
            2 * stats.norm.isf(0.025)
        )
        est.append(theta)
        w.append(1.0 / se**2)
    e, wt = np.array(est), np.array(w)
    mean = float((wt * e).sum() / wt.sum())
    q = float((wt * (e - mean) ** 2).sum())
    df = len(est) - 1
    return {"q": q, "df": float(df), "p": float(stats.chi2.sf(q, df))}


def _to_scale(measure: str, x: float) -> float:
    if measure == "rate":
        return float(special.logit(x))
    if measure == "or":
        return float(np.log(x))
    return float(x)
