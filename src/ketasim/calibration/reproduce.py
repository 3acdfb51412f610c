"""``ketasim reproduce``: every published outcome beside ketasim's prediction for it.

For each study (``data/trials/*.yaml``) a virtual cohort is simulated once with the
calibrated parameters; each outcome's prediction is then the distribution of what a trial of
the published size would observe: for a rate, ``k ~ Binomial(n, expit(logit p + u))`` with
``p`` the cohort's expected rate under a posterior draw of the calibrated parameters and
``u ~ N(0, tau^2)`` the between-study random effect (never the study's own estimate). The
median and the 2.5 and 97.5 percentiles of ``k / n`` are the prediction and its 95 %
prediction interval; ``consistent`` says whether the observation falls inside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import special

from ketasim.calibration.cohort import (
    ClinicalValues,
    Cohort,
    _endpoint,
    noise_of,
    relapse_survival,
)
from ketasim.calibration.fit import Cell, build_cohorts, cells, study_specs
from ketasim.data.library import load_calibration_run
from ketasim.symptoms.scales import load_scales
from ketasim.trials import analysis
from ketasim.trials.spec import TrialSpec

#: Posterior draws used for prediction intervals, and binomial samples per draw.
DRAWS, SAMPLES = 40, 100


@dataclass(frozen=True)
class Row:
    study: str
    arm: str
    endpoint: str
    time: str
    k: int | None
    n: int | None
    observed: float
    predicted: float
    lo: float
    hi: float
    consistent: bool | None
    role: str
    counted: bool
    note: str = ""
    point: float = float("nan")  # expected rate at the calibrated values (no sampling)

    def to_json(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "arm": self.arm,
            "endpoint": self.endpoint,
            "time": self.time,
            "k": self.k,
            "n": self.n,
            "observed": _r(self.observed),
            "predicted": _r(self.predicted),
            "lo": _r(self.lo),
            "hi": _r(self.hi),
            "consistent": self.consistent,
            "role": self.role,
            "counted": self.counted,
            "note": self.note,
        }


def _r(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 4)


def posterior_values(draws: int, seed: int) -> tuple[list[ClinicalValues], list[float]]:
    """Clinical values and random-effect SDs of ``draws`` posterior draws (the calibrated
    point values repeated when no calibration has been run)."""
    base = ClinicalValues.current()
    run = load_calibration_run()
    post = run.get("posterior") or []
    tau0 = float(base.population.variability.get("tau_study", 0.0))
    if not post:
        return [base] * draws, [tau0] * draws
    rng = np.random.default_rng([seed, 9101])
    picks = rng.choice(len(post), size=draws, replace=len(post) < draws)
    values, taus = [], []
    for i in picks:
        d = dict(post[int(i)])
        taus.append(float(d.pop("tau_study", tau0)))
        values.append(base.with_values(d))
    return values, taus


def _time_label(spec: TrialSpec, endpoint: str, at_days: float | None) -> str:
    e = spec.endpoint(endpoint)
    if at_days is not None:
        return f"{at_days:g} d after final"
    if e.time is None:
        return ""
    return f"{e.time} after {e.after}"


def reproduce(
    patients_per_study: int = 120,
    seed: int = 0,
    mapper: Callable[..., Iterable[Any]] = map,
    progress: Callable[[str], None] | None = None,
    studies: Iterable[str] | None = None,
) -> tuple[list[Row], dict[str, Any]]:
    """Predict every published outcome; the rows and a summary (coverage, MAE, checks).

    ``studies`` limits the run to some studies (default: all shipped)."""
    say = progress or (lambda _m: None)
    specs = study_specs()
    if studies is not None:
        specs = {k: v for k, v in specs.items() if k in set(studies)}
    values, taus = posterior_values(DRAWS, seed)
    rng = np.random.default_rng([seed, 9201])
    rows: list[Row] = []
    extras: dict[str, Any] = {}
    all_cells = cells(specs.values())
    say(f"simulating {len(specs)} studies, about {patients_per_study} virtual patients each")
    cohorts = build_cohorts(specs.values(), patients_per_study, seed, mapper)
    for name, spec in specs.items():
        cohort = cohorts[name]
        sev_by_draw = [[cohort.severities(g, v) for g in cohort.groups] for v in values]
        means = [cohort.expected(v, s) for v, s in zip(values, sev_by_draw, strict=True)]
        current = ClinicalValues.current()
        point_sev = [cohort.severities(g, current) for g in cohort.groups]
        point = cohort.expected(current, point_sev)
        for c in [c for c in all_cells if c.study == name]:
            if c.at_days is not None:
                p = np.array(
                    [
                        relapse_survival(cohort, c.endpoint, (c.at_days,), s, noise_of(v))[
                            c.at_days
                        ]
                        for s, v in zip(sev_by_draw, values, strict=True)
                    ]
                )
                p_point = relapse_survival(
                    cohort, c.endpoint, (c.at_days,), point_sev, noise_of(current)
                )[c.at_days]
            else:
                p = np.array([m[(c.arm, c.endpoint)] for m in means])
                p_point = point[(c.arm, c.endpoint)]
            row = _rate_row(spec, c, p, np.array(taus), rng)
            rows.append(replace(row, point=float(p_point)))
        rows += _value_rows(spec, cohort, values, sev_by_draw, rng)
        if name == "murrough-2013b":
            extras["murrough-2013b"] = _predictor(cohort, sev_by_draw, values)
        if name == "murrough-2013a":
            extras["murrough-2013a"] = _difference(spec, means)
    return rows, _summary(rows, extras)


def rate_draws(
    requests: Iterable[tuple[str, str, str]],
    patients_per_study: int = 60,
    seed: int = 0,
    mapper: Callable[..., Iterable[Any]] = map,
) -> tuple[dict[tuple[str, str, str], np.ndarray], np.ndarray]:
    """Expected rates under posterior draws, for (study, arm, endpoint) of shipped specs.

    Returns the rates per request (one per draw, :data:`DRAWS` draws) and the between-study
    random-effect SD of each draw; a trial of size n then observes
    ``k ~ Binomial(n, expit(logit p + u))`` with ``u ~ N(0, tau^2)``, as in :func:`reproduce`.
    """
    wanted = list(dict.fromkeys(requests))
    specs = study_specs()
    names = sorted({study for study, _, _ in wanted})
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise KeyError(f"no shipped trial spec for {', '.join(unknown)}")
    values, taus = posterior_values(DRAWS, seed)
    cohorts = build_cohorts([specs[n] for n in names], patients_per_study, seed, mapper)
    out: dict[tuple[str, str, str], np.ndarray] = {}
    for name in names:
        cohort = cohorts[name]
        means = [cohort.expected(v) for v in values]
        for study, arm, endpoint in wanted:
            if study == name:
                out[(study, arm, endpoint)] = np.array([m[(arm, endpoint)] for m in means])
    return out, np.array(taus)


def _rate_row(
    spec: TrialSpec, c: Cell, p: np.ndarray, taus: np.ndarray, rng: np.random.Generator
) -> Row:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    u = taus[:, None] * rng.standard_normal((p.size, SAMPLES))
    pk = special.expit(special.logit(p)[:, None] + u)
    k = rng.binomial(c.n, pk).ravel() / c.n
    lo, med, hi = np.percentile(k, [2.5, 50, 97.5])
    observed = c.k / c.n
    counted = c.overlap is None
    return Row(
        c.study,
        c.arm,
        c.endpoint,
        _time_label(spec, c.endpoint, c.at_days),
        c.k,
        c.n,
        observed,
        float(med),
        float(lo),
        float(hi),
        bool(lo - 1e-9 <= observed <= hi + 1e-9),
        c.role,
        counted,
        c.note if counted else f"not counted: its patients are inside {c.overlap}",
    )


def _value_rows(
    spec: TrialSpec,
    cohort: Cohort,
    values: list[ClinicalValues],
    sev_by_draw: list[list[dict[str, np.ndarray]]],
    rng: np.random.Generator,
) -> list[Row]:
    """Outcomes published as a value: a mean difference (with its CI) or a median time."""
    out = []
    for o in spec.observed:
        if o.k is not None or o.value is None:
            continue
        role = o.role or ("fit" if spec.calibration == "fit" else "validation")
        e = spec.endpoint(o.endpoint)
        if e.type == "change" and o.vs is not None:
            pred = _change_difference(spec, cohort, sev_by_draw, o.arm, o.vs, e.name, rng)
        elif e.type == "relapse_time":
            pred = _relapse_median(cohort, e.name, sev_by_draw, values, spec, rng)
        else:
            continue
        lo, med, hi = np.nanpercentile(pred, [2.5, 50, 97.5])
        out.append(
            Row(
                spec.name,
                o.arm if o.vs is None else f"{o.arm} - {o.vs}",
                o.endpoint,
                _time_label(spec, o.endpoint, None),
                None,
                None,
                float(o.value),
                float(med),
                float(lo),
                float(hi),
                bool(lo <= o.value <= hi),
                role,
                True,
                o.note,
            )
        )
    return out


def _change_difference(
    spec: TrialSpec,
    cohort: Cohort,
    sev_by_draw: list[list[dict[str, np.ndarray]]],
    arm: str,
    vs: str,
    endpoint: str,
    rng: np.random.Generator,
) -> np.ndarray:
    """Mean change difference (arm minus vs) a trial of the spec's size would observe."""
    e = spec.endpoint(endpoint)
    sigma = load_scales()[e.scale or spec.scale].measurement_error_sd
    n = spec.population.size
    out = []
    for sevs in sev_by_draw:
        diffs = []
        for g, sev in zip(cohort.groups, sevs, strict=True):
            a = _endpoint(e, spec, g, sev, *g.periods[arm], (0.0, 1.0))
            b = _endpoint(e, spec, g, sev, *g.periods[vs], (0.0, 1.0))
            if a is not None and b is not None:
                diffs.append(a - b)
        d = np.concatenate(diffs)
        sd = np.sqrt(d.var() + 4.0 * sigma**2)  # two ratings in each period
        out.append(d.mean() + sd / np.sqrt(n) * rng.standard_normal(SAMPLES))
    return np.concatenate(out)


def _relapse_median(
    cohort: Cohort,
    endpoint: str,
    sev_by_draw: list[list[dict[str, np.ndarray]]],
    values: list[ClinicalValues],
    spec: TrialSpec,
    rng: np.random.Generator,
) -> np.ndarray:
    """Median days to relapse among ~17 responders (the published count), per draw."""
    days = tuple(float(d) for d in range(1, int(spec.followup_h / 24) + 1))
    responders = next((o.n for o in spec.observed if o.endpoint == endpoint and o.n), 17)
    out = []
    for sevs, v in zip(sev_by_draw, values, strict=True):
        surv = relapse_survival(cohort, endpoint, days, sevs, noise_of(v))
        s = np.array([surv[d] for d in days])
        s = np.minimum.accumulate(np.clip(s, 0.0, 1.0))
        for _ in range(SAMPLES):
            u = rng.random(responders)
            # inverse of the survival curve; beyond follow-up a patient is censored
            idx = np.searchsorted(-s, -u, side="left")
            t = np.where(idx < len(days), np.array(days)[np.minimum(idx, len(days) - 1)], np.inf)
            out.append(float(np.median(t)))
    arr = np.array(out)
    return np.where(np.isfinite(arr), arr, np.nan)


def _predictor(
    cohort: Cohort, sev_by_draw: list[list[dict[str, np.ndarray]]], values: list[ClinicalValues]
) -> dict[str, Any]:
    """Response at 4 h after the first infusion as a predictor of end-of-course response
    (positive predictive value), as murrough-2013b reports it qualitatively."""
    spec = cohort.spec
    e4, ef = spec.endpoint("response_4h_first"), spec.endpoint("response_final")
    ppv = []
    for sevs, v in zip(sev_by_draw, values, strict=True):
        noise = noise_of(v)
        num = den = 0.0
        for g, sev in zip(cohort.groups, sevs, strict=True):
            for start, final in g.periods.values():
                p4 = _endpoint(e4, spec, g, sev, start, final, noise)
                pf = _endpoint(ef, spec, g, sev, start, final, noise)
                assert p4 is not None
                assert pf is not None
                num += float((p4 * pf).sum())
                den += float(p4.sum())
        ppv.append(num / den if den > 0 else np.nan)
    lo, med, hi = np.nanpercentile(ppv, [2.5, 50, 97.5])
    return {"ppv_4h_response": {"median": _r(med), "lo": _r(lo), "hi": _r(hi)}}


def _difference(spec: TrialSpec, means: list[dict[tuple[str, str], float]]) -> dict[str, Any]:
    """Ketamine minus midazolam response at 24 h: predicted against the observed CI."""
    obs = {o.arm: o for o in spec.observed if o.endpoint == "response_24h"}
    k1, n1 = obs["ketamine"].k, obs["ketamine"].n
    k0, n0 = obs["midazolam"].k, obs["midazolam"].n
    assert k1 is not None
    assert n1 is not None
    assert k0 is not None
    assert n0 is not None
    c = analysis.risk_difference(k1, n1, k0, n0)
    pred = np.array(
        [m[("ketamine", "response_24h")] - m[("midazolam", "response_24h")] for m in means]
    )
    med = float(np.median(pred))
    return {
        "observed_difference": _r(c.estimate),
        "observed_ci95": [_r(c.lo), _r(c.hi)],
        "predicted_difference": _r(med),
        "inside_ci": bool(c.lo <= med <= c.hi),
    }


def _summary(rows: list[Row], extras: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for role in ("fit", "validation", "all"):
        sel = [r for r in rows if r.counted and (role == "all" or r.role == role)]
        rates = [r for r in sel if r.k is not None]
        inside = [r for r in sel if r.consistent]
        out[role] = {
            "outcomes": len(sel),
            "inside_95": len(inside),
            "coverage": round(len(inside) / len(sel), 3) if sel else None,
            "mae_rate_points": round(
                100 * float(np.mean([abs(r.predicted - r.observed) for r in rates])), 2
            )
            if rates
            else None,
            "misses": [f"{r.study} {r.arm} {r.endpoint} {r.time}" for r in sel if not r.consistent],
        }
    out.update(extras)
    return out


def summary_stats(rows: list[Row]) -> dict[str, float]:
    """Coverage and mean absolute error over the counted rate outcomes."""
    sel = [r for r in rows if r.counted and r.k is not None]
    return {
        "coverage": float(np.mean([bool(r.consistent) for r in sel])),
        "mae_points": float(100 * np.mean([abs(r.predicted - r.observed) for r in sel])),
    }


__all__ = ["Row", "posterior_values", "rate_draws", "reproduce", "summary_stats"]
