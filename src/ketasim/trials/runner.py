"""Replicate virtual trials: enrol, allocate, dose, rate, drop out, analyse.

One replicate is one trial of the spec's size. Patients are screened on the inclusion scale
with rating error and rated again at baseline with fresh error, so an inclusion threshold
brings the regression to the mean that real trials see. Every visit is rated with the
scale's measurement error. A patient may drop out (exponential in time, ``dropout.per_week``);
missing visits are carried forward from the last observation (``locf``) or left to a mixed
model (``mixed-model``, for ``change`` endpoints). Crossover patients receive both arms
``washout`` apart in one simulation, so carry-over and period effects come from the model.

Randomness is seeded per patient and per purpose (screening, allocation, rating, dropout):
patient ``i`` of replicate ``r`` has the id ``r * ID_BLOCK + i`` whatever the number of
replicates, workers or batch sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.contingency_tables import mcnemar

from ketasim.api import SimulationResult, simulate
from ketasim.pk.regimen import Regimen
from ketasim.population import PopulationParams, PopulationSpec, sample_patients
from ketasim.population.covariates import DIMENSIONS
from ketasim.symptoms.scales import Scale, load_scales
from ketasim.trials import analysis
from ketasim.trials.spec import Arm, Endpoint, TrialSpec

ID_BLOCK = 1_000_000
STREAM_SCREEN, STREAM_RATING, STREAM_ALLOC, STREAM_DROPOUT = 7101, 7102, 7103, 7104
STREAM_FLUCTUATION, STREAM_SCREEN_FLUCTUATION = 7105, 7106
#: Spacing of the grid on which peaks are read (CADSS, blood pressure).
PEAK_STEP_H = 5.0 / 60.0


def _column(scale: str) -> str:
    return f"{scale.replace('-', '_').lower()}_points"


def expected_score(scale: Scale, patients: pd.DataFrame) -> np.ndarray:
    """A scale's expected score at baseline from the patients' latent severities."""
    return scale.score({d: patients[f"severity_{d}"].to_numpy() for d in DIMENSIONS})


def rate(
    scale: Scale, expected: np.ndarray, z: np.ndarray, fluctuation: np.ndarray | float = 0.0
) -> np.ndarray:
    """Observed ratings: the expected score times the patient's natural fluctuation
    ``(1 + eps)``, plus measurement error, rounded, within the scale's range."""
    noisy = expected * (1.0 + fluctuation) + scale.measurement_error_sd * z
    return np.clip(np.round(noisy), 0.0, scale.max_score)


def fluctuation(ids: np.ndarray, t_h: np.ndarray, seed: int, sd: float, tau_h: float) -> np.ndarray:
    """Each patient's natural fluctuation on ``t_h``: a stationary Ornstein-Uhlenbeck process
    with SD ``sd`` and correlation time ``tau_h``, sampled exactly at the grid times."""
    out = np.empty((len(ids), t_h.size))
    rho = np.exp(-np.diff(t_h) / tau_h)
    for row, pid in enumerate(ids):
        z = np.random.default_rng([seed, STREAM_FLUCTUATION, int(pid)]).standard_normal(t_h.size)
        out[row, 0] = sd * z[0]
        for k in range(1, t_h.size):
            out[row, k] = rho[k - 1] * out[row, k - 1] + sd * np.sqrt(1 - rho[k - 1] ** 2) * z[k]
    return out


def _normals(stream: int, seed: int, ids: Iterable[int], extra: int | None = None) -> np.ndarray:
    keys = [seed, stream] if extra is None else [seed, stream, extra]
    return np.array([np.random.default_rng([*keys, int(i)]).standard_normal() for i in ids])


def enroll(
    spec: TrialSpec, replicates: int, seed: int, screening_sd: float | None = None
) -> pd.DataFrame:
    """The enrolled patients of every replicate (``spec.population.size`` each), screened
    on the inclusion scale, with their baseline covariates.

    The screening rating carries the natural fluctuation, SD ``screening_sd`` (default: the
    population's ``fluctuation_sd`` in use), which is what makes inclusion thresholds select
    patients rated worse than they are (regression to the mean)."""
    pop = PopulationSpec.default().override(spec.population.covariates)
    size = spec.population.size
    inc = spec.population.inclusion
    frames = []
    for r in range(replicates):
        taken: list[pd.DataFrame] = []
        n_taken, start, batch = 0, 0, max(2 * size, 16)
        while n_taken < size:
            ids = r * ID_BLOCK + np.arange(start, start + batch)
            cand = sample_patients(pop, ids, seed)
            if inc is not None:
                scale = load_scales()[inc.scale]
                sd = (
                    PopulationParams.load().variability["fluctuation_sd"]
                    if screening_sd is None
                    else screening_sd
                )
                eps = sd * _normals(STREAM_SCREEN_FLUCTUATION, seed, ids)
                screen = rate(
                    scale, expected_score(scale, cand), _normals(STREAM_SCREEN, seed, ids), eps
                )
                cand = cand[screen >= inc.min]
            taken.append(cand)
            n_taken += len(cand)
            start += batch
            if start >= ID_BLOCK:
                raise RuntimeError(f"inclusion {inc} admits too few patients")
        chosen = pd.concat(taken, ignore_index=True).iloc[:size].copy()
        chosen.insert(0, "replicate", r)
        frames.append(chosen)
    return pd.concat(frames, ignore_index=True)


def allocate(spec: TrialSpec, patients: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each patient's arm (parallel, open-label) or sequence (crossover: ``arm`` is the arm
    of the first period)."""
    out = patients.copy()
    names = [a.name for a in spec.arms]
    arms = np.empty(len(out), dtype=object)
    for r, rows in out.groupby("replicate").indices.items():
        n = len(rows)
        order = np.random.default_rng([seed, STREAM_ALLOC, int(str(r))]).permutation(n)
        if spec.design.type == "single-blind":
            labels = [names[0]] * n
        elif spec.design.type == "crossover":
            labels = [names[i % 2] for i in range(n)]
        else:
            ratio = spec.design.allocation or {a: 1.0 for a in names}
            labels = _allocation(names, ratio, n)
        arms[rows[order]] = labels
    out["arm"] = arms
    return out


def _allocation(names: list[str], ratio: dict[str, float], n: int) -> list[str]:
    """Arm labels in proportion to ``ratio`` (largest remainder), in blocks of the ratio."""
    total = sum(ratio[a] for a in names)
    exact = [n * ratio[a] / total for a in names]
    counts = [int(np.floor(x)) for x in exact]
    for i in np.argsort([c - x for c, x in zip(counts, exact, strict=True)])[: n - sum(counts)]:
        counts[i] += 1
    return [a for a, c in zip(names, counts, strict=True) for _ in range(c)]


@dataclass
class Course:
    """The periods of a group of patients with the same treatment course."""

    drug: str
    regimen: Regimen
    periods: dict[str, tuple[float, float]]  # arm -> (start, start of its final dose), hours
    end_h: float


def _course(spec: TrialSpec, first_arm: str, doses: dict[str, int]) -> Course:
    """Dosing of a patient whose first (or only) arm is ``first_arm``."""
    if spec.design.type in ("crossover", "single-blind"):
        second = next(a.name for a in spec.arms if a.name != first_arm)
        order = [first_arm, second]
    else:
        order = [first_arm]
    active = next((spec.arm(a) for a in order if not spec.arm(a).is_placebo), None)
    drug = active.drug if active is not None else "saline"
    regimen = Regimen(())
    periods: dict[str, tuple[float, float]] = {}
    start = 0.0
    for name in order:
        arm = spec.arm(name)
        reg = _arm_regimen(arm, active, doses.get(name, arm.doses), start)
        regimen = regimen + reg
        periods[name] = (start, reg.doses[-1][0])
        start = reg.doses[-1][0] + spec.design.washout_h
    end = max(f for _, f in periods.values()) + spec.followup_h
    return Course(drug, regimen, periods, end)


def _arm_regimen(arm: Arm, active: Arm | None, n_doses: int, start: float) -> Regimen:
    if not arm.is_placebo or active is None:
        return arm.regimen(n_doses, start)
    # saline in a crossover: a drug-free administration of the active arm's route
    zero = arm.model_copy(update={"drug": active.drug, "dose": "0 mg", "route": active.route})
    return zero.regimen(n_doses, start)


def _grid(spec: TrialSpec, course: Course) -> np.ndarray:
    times: list[float] = []
    for start, final in course.periods.values():
        times += [start, final]
        for e in spec.endpoints:
            ref = final if e.after == "final" else start
            if e.time is not None:
                times.append(ref + e.time_h)
            if e.type == "response_days":
                lo, hi = e.window_h
                times += list(ref + np.arange(np.ceil(lo / 24) * 24, hi + 1e-9, 24.0))
            if e.type == "peak":
                lo, hi = e.window_h
                times += list(ref + np.arange(lo, hi + 1e-9, PEAK_STEP_H))
            if e.type == "relapse_time":
                times += list(final + np.arange(24.0, spec.followup_h + 1e-9, 24.0))
    return np.unique(np.round(np.asarray(times), 9))


@dataclass
class Ratings:
    """Observed ratings of a group of patients on the trial's output grid."""

    t_h: np.ndarray
    scores: dict[str, np.ndarray]  # scale -> (patients, times), observed
    expected: dict[str, np.ndarray]  # output column -> (patients, times), expected
    dropout_h: np.ndarray

    def at(self, key: str, t_h: float, observed: bool = True) -> np.ndarray:
        i = int(np.argmin(np.abs(self.t_h - t_h)))
        return (self.scores if observed else self.expected)[key][:, i]


def simulate_course(
    course: Course, patients: pd.DataFrame, seed: int, grid: np.ndarray
) -> SimulationResult:
    """The full model for patients who share a course, with PK variability, on ``grid``."""
    return simulate(
        course.drug,
        course.regimen,
        patients=patients,
        variability=True,
        seed=seed,
        times_h=grid,
        until=f"{grid[-1]} h",
    )


def _simulate_group(
    spec: TrialSpec,
    patients: pd.DataFrame,
    course: Course,
    seed: int,
    grid: np.ndarray,
    rating_seed: int | None = None,
) -> Ratings:
    """Simulate a group of patients (PK variability seeded by ``seed``) and rate them (rating
    error, fluctuation and dropout seeded by ``rating_seed``, default ``seed``)."""
    tc = simulate_course(course, patients, seed, grid).timecourse
    n, m = len(patients), grid.size
    expected = {}
    for col in (
        _column(spec.scale),
        "cadss_points",
        "sbp_mmhg",
        *(_column(e.scale) for e in spec.endpoints if e.scale),
    ):
        expected[col] = tc[col].to_numpy().reshape(n, m)
    expected.update(
        {e.output: tc[e.output].to_numpy().reshape(n, m) for e in spec.endpoints if e.output}
    )
    scales = {spec.scale} | {e.scale for e in spec.endpoints if e.scale}
    ids = patients["patient"].to_numpy()
    v = PopulationParams.load().variability
    seed = seed if rating_seed is None else rating_seed
    eps = fluctuation(ids, grid, seed, v["fluctuation_sd"], v["fluctuation_tau_h"])
    scores = {}
    for name in scales:
        scale = load_scales()[name]
        z = np.stack(
            [np.random.default_rng([seed, STREAM_RATING, int(i)]).standard_normal(m) for i in ids]
        )
        scores[name] = rate(scale, expected[_column(name)], z, eps)
    per_week = spec.dropout.per_week
    if per_week > 0:
        u = np.array([np.random.default_rng([seed, STREAM_DROPOUT, int(i)]).random() for i in ids])
        dropout = -np.log(u) / -np.log1p(-min(per_week, 1 - 1e-12)) * 168.0
    else:
        dropout = np.full(n, np.inf)
    return Ratings(grid, scores, expected, dropout)


@dataclass
class TrialResult:
    """Patient-level endpoint values and their per-replicate summaries."""

    spec: TrialSpec
    replicates: int
    seed: int
    patients: pd.DataFrame  # enrolled patients, covariates and arm
    values: pd.DataFrame  # replicate, patient, arm, endpoint, value, event
    arm_summary: pd.DataFrame  # replicate, arm, endpoint, value, n
    comparisons: pd.DataFrame  # replicate, endpoint, arm, vs, estimate, p
    extras: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"arms": [...], "comparisons": [...]}`` as in the issue's interface."""
        arms = []
        for arm in self.spec.arms:
            rows = self.arm_summary[self.arm_summary["arm"] == arm.name]
            ends = {}
            for e in self.spec.endpoints:
                v = rows[rows["endpoint"] == e.name]["value"].to_numpy()
                s = analysis.spread(v)
                ends[e.name] = {"median": _num(s.median), "lo": _num(s.lo), "hi": _num(s.hi)}
            n = rows["n"].median() if len(rows) else 0
            arms.append({"name": arm.name, "n": int(n), "endpoints": ends})
        comps = []
        for key, rows in self.comparisons.groupby(["endpoint", "arm", "vs"], sort=False):
            endpoint, arm_name, vs = (str(k) for k in key)
            s = analysis.spread(rows["estimate"].to_numpy())
            comps.append(
                {
                    "endpoint": endpoint,
                    "arm": arm_name,
                    "vs": vs,
                    "median": _num(s.median),
                    "lo": _num(s.lo),
                    "hi": _num(s.hi),
                    "power": analysis.power(rows["p"].to_numpy()),
                }
            )
        return {
            "trial": self.spec.name,
            "replicates": self.replicates,
            "seed": self.seed,
            "arms": arms,
            "comparisons": comps,
        }


def _num(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 6)


def run_trial(
    spec: TrialSpec,
    replicates: int = 1,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> TrialResult:
    """Simulate ``replicates`` trials of ``spec`` and analyse each one."""
    if replicates < 1:
        raise ValueError("replicates must be 1 or more")
    patients = allocate(spec, enroll(spec, replicates, seed), seed)
    doses = _stop_rule_doses(spec, patients, seed)
    patients["doses"] = [
        doses.get(int(pid), {}).get(arm, spec.arm(arm).doses)
        for pid, arm in zip(patients["patient"], patients["arm"], strict=True)
    ]
    rows: list[pd.DataFrame] = []
    groups = list(patients.groupby(["arm", "doses"], sort=True))
    for i, ((first, n_doses), group) in enumerate(groups):
        course = _course(spec, str(first), {str(first): int(str(n_doses))})
        grid = _grid(spec, course)
        ratings = _simulate_group(spec, group, course, seed, grid)
        rows.append(_endpoint_values(spec, group, course, ratings))
        if progress is not None:
            progress(i + 1, len(groups))
    values = pd.concat(rows, ignore_index=True)
    arm_summary = _summarise(spec, values, patients)
    comparisons = _compare(spec, values, patients)
    return TrialResult(spec, replicates, seed, patients, values, arm_summary, comparisons)


def _stop_rule_doses(
    spec: TrialSpec, patients: pd.DataFrame, seed: int
) -> dict[int, dict[str, int]]:
    """Doses each patient of a stop-rule arm receives: dosing stops once the rating taken
    just before a dose is in remission (``until remission or N infusions``)."""
    out: dict[int, dict[str, int]] = {}
    scale = load_scales()[spec.scale]
    for arm in spec.arms:
        if arm.stop_rule is None or arm.doses == 1:
            continue
        group = patients[patients["arm"] == arm.name]
        active = np.ones(len(group), dtype=bool)
        given = np.full(len(group), arm.doses)
        times = arm.dose_times_h()
        for k in range(1, arm.doses):
            if not active.any():
                break
            sub = group[active]
            course = _course(spec, arm.name, {arm.name: k})
            decide = times[k] - 1.0 / 60.0
            grid = np.array([0.0, decide])
            # the same patients (PK seeded by ``seed``), rated before dose k + 1 with draws
            # of their own
            ratings = _simulate_group(spec, sub, course, seed, grid, rating_seed=seed + 1000 * k)
            remitted = scale.remitted(ratings.at(spec.scale, decide))
            idx = np.flatnonzero(active)
            given[idx[remitted]] = k
            active[idx[remitted]] = False
        for pid, g in zip(group["patient"], given, strict=True):
            out.setdefault(int(pid), {})[arm.name] = int(g)
    return out


def _endpoint_values(
    spec: TrialSpec, group: pd.DataFrame, course: Course, r: Ratings
) -> pd.DataFrame:
    out = []
    base_cols = {"replicate": group["replicate"].to_numpy(), "patient": group["patient"].to_numpy()}
    for arm, (start, final) in course.periods.items():
        visits = _visits(spec, start, final)

        def obs(
            name: str, t: float, start: float = start, visits: np.ndarray = visits
        ) -> np.ndarray:
            """Observed score with last observation carried forward after dropout."""
            value = r.at(name, t).copy()
            gone = r.dropout_h < t - start
            if gone.any():
                for row in np.flatnonzero(gone):
                    seen = visits[visits - start <= r.dropout_h[row]]
                    value[row] = r.scores[name][row, np.argmin(np.abs(r.t_h - seen[-1]))]
            return value

        baseline = {s: r.at(s, start) for s in r.scores}
        for v in visits[visits > start]:
            # the trial's scale at each scheduled visit, missing after dropout (mixed model)
            seen = r.at(spec.scale, v).astype(float)
            seen[r.dropout_h < v - start] = np.nan
            out.append(
                pd.DataFrame(
                    {
                        **base_cols,
                        "arm": arm,
                        "endpoint": "_visit",
                        "value": seen,
                        "event": True,
                        "visit_h": v - start,
                    }
                )
            )
        for e in spec.endpoints:
            name = e.scale or spec.scale
            sc = load_scales()[name]
            ref = final if e.after == "final" else start
            event = np.ones(len(group), dtype=bool)
            if e.type in ("response", "remission", "change", "score"):
                now = obs(name, ref + e.time_h)
                if e.type == "response":
                    value = sc.responded(now, baseline[name]).astype(float)
                elif e.type == "remission":
                    value = sc.remitted(now).astype(float)
                elif e.type == "change":
                    value = now - baseline[name]
                else:
                    value = now
            elif e.type == "response_days":
                lo, hi = e.window_h
                days = ref + np.arange(np.ceil(lo / 24) * 24, hi + 1e-9, 24.0)
                hits = sum(sc.responded(obs(name, d), baseline[name]).astype(int) for d in days)
                value = (np.asarray(hits) >= e.min_days).astype(float)
            elif e.type == "peak":
                lo, hi = e.window_h
                assert e.output is not None
                mask = (r.t_h >= ref + lo - 1e-9) & (r.t_h <= ref + hi + 1e-9)
                value = r.expected[e.output][:, mask].max(axis=1)
            else:  # relapse_time
                value, event = _relapse(
                    sc, r, baseline[name], final, e.time_h, spec.followup_h, name
                )
            out.append(
                pd.DataFrame(
                    {**base_cols, "arm": arm, "endpoint": e.name, "value": value, "event": event}
                )
            )
        out.append(
            pd.DataFrame(
                {
                    **base_cols,
                    "arm": arm,
                    "endpoint": "_baseline",
                    "value": baseline[spec.scale],
                    "event": True,
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def _visits(spec: TrialSpec, start: float, final: float) -> np.ndarray:
    times = [start]
    for e in spec.endpoints:
        ref = final if e.after == "final" else start
        if e.time is not None:
            times.append(ref + e.time_h)
    return np.unique(times)


def _relapse(
    sc: Scale,
    r: Ratings,
    baseline: np.ndarray,
    final: float,
    time_h: float,
    followup_h: float,
    name: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Days from the final dose to the first of two visits in a row without response, for
    responders at ``final + time_h`` (NaN otherwise); ``event`` False when still in response
    at the end of follow-up (censored)."""
    responder = sc.responded(r.at(name, final + time_h), baseline)
    days = final + np.arange(24.0, followup_h + 1e-9, 24.0)
    lost = np.stack([~sc.responded(r.at(name, d), baseline) for d in days], axis=1)
    two = lost[:, :-1] & lost[:, 1:]
    first = np.where(two.any(axis=1), two.argmax(axis=1), -1)
    value = np.where(
        first >= 0, (days[np.maximum(first, 0)] - final) / 24.0, (days[-1] - final) / 24.0
    )
    value = np.where(responder, value, np.nan)
    return value, first >= 0


def _summarise(spec: TrialSpec, values: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (rep, arm, endpoint), g in values.groupby(["replicate", "arm", "endpoint"], sort=False):
        if str(endpoint).startswith("_"):
            continue  # baselines and visit scores, kept for the analysis
        e = spec.endpoint(str(endpoint))
        v = g["value"].to_numpy(dtype=float)
        if e.type == "relapse_time":
            ok = np.isfinite(v)
            value = _km_median(v[ok], g["event"].to_numpy()[ok])
        else:
            value = float(np.nanmean(v)) if np.isfinite(v).any() else np.nan
        rows.append(
            {"replicate": rep, "arm": arm, "endpoint": endpoint, "value": value, "n": len(g)}
        )
    return pd.DataFrame(rows)


def _km_median(t: np.ndarray, event: np.ndarray) -> float:
    """Kaplan-Meier median (statsmodels ``SurvfuncRight``); NaN when it is not reached."""
    if t.size == 0:
        return float("nan")
    if not event.any():
        return float("nan")
    sf = SurvfuncRight(t, event.astype(int))
    q = sf.quantile(0.5)
    return float(q) if q is not None and np.isfinite(q) else float("nan")


def _compare(spec: TrialSpec, values: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    rows = []
    crossover = spec.design.type in ("crossover", "single-blind")
    for c in spec.comparisons:
        for name in c.endpoints:
            e = spec.endpoint(name)
            sub = values[values["endpoint"] == name]
            base = values[values["endpoint"] == "_baseline"]
            for rep, g in sub.groupby("replicate"):
                a = g[g["arm"] == c.arm].set_index("patient")
                b = g[g["arm"] == c.vs].set_index("patient")
                if crossover:
                    est, p = _paired(e, a, b, patients, rep, c.arm)
                elif e.type == "change" and spec.dropout.missing == "mixed-model":
                    est, p = _mixed(values, rep, c.arm, c.vs, e.time_h)
                else:
                    bb = base[base["replicate"] == rep].set_index("patient")["value"]
                    est, p = _unpaired(e, a, b, bb)
                rows.append(
                    {
                        "replicate": rep,
                        "endpoint": name,
                        "arm": c.arm,
                        "vs": c.vs,
                        "estimate": est,
                        "p": p,
                    }
                )
    return pd.DataFrame(rows, columns=["replicate", "endpoint", "arm", "vs", "estimate", "p"])


def _mixed(
    values: pd.DataFrame, rep: Any, arm: str, vs: str, until_h: float
) -> tuple[float, float]:
    """Mixed model for repeated measures over the visits up to ``until_h`` (all observed
    data, no imputation); the treatment effect at the last visit."""
    rows = values[(values["replicate"] == rep) & values["arm"].isin([arm, vs])]
    visits = rows[(rows["endpoint"] == "_visit") & (rows["visit_h"] <= until_h + 1e-9)]
    base = rows[rows["endpoint"] == "_baseline"].set_index("patient")["value"]
    frame = pd.DataFrame(
        {
            "patient": visits["patient"].to_numpy(),
            "visit": visits["visit_h"].to_numpy(),
            "treated": (visits["arm"] == arm).to_numpy(dtype=float),
            "baseline": base.loc[visits["patient"]].to_numpy(),
            "score": visits["value"].to_numpy(dtype=float),
        }
    ).dropna()
    c = analysis.mixed_model(frame)
    return c.estimate, c.p


def _unpaired(
    e: Endpoint, a: pd.DataFrame, b: pd.DataFrame, baseline: pd.Series
) -> tuple[float, float]:
    va, vb = a["value"].to_numpy(dtype=float), b["value"].to_numpy(dtype=float)
    if e.is_rate:
        ka, kb = int(va.sum()), int(vb.sum())
        c = analysis.risk_difference(ka, va.size, kb, vb.size)
        return c.estimate, c.p
    if e.type == "change" and va.size + vb.size >= 4:
        change = np.concatenate([va, vb])
        base = np.concatenate([baseline.loc[a.index].to_numpy(), baseline.loc[b.index].to_numpy()])
        treated = np.concatenate([np.ones(va.size), np.zeros(vb.size)])
        c2 = analysis.ancova(change, base, treated)
        return c2.estimate, c2.p
    va, vb = va[np.isfinite(va)], vb[np.isfinite(vb)]
    if va.size < 2 or vb.size < 2:
        return float("nan"), float("nan")
    return float(va.mean() - vb.mean()), float(stats.ttest_ind(va, vb, equal_var=False).pvalue)


def _paired(
    e: Endpoint, a: pd.DataFrame, b: pd.DataFrame, patients: pd.DataFrame, rep: Any, arm: str
) -> tuple[float, float]:
    common = a.index.intersection(b.index)
    va = a.loc[common, "value"].to_numpy(dtype=float)
    vb = b.loc[common, "value"].to_numpy(dtype=float)
    if e.is_rate:
        table = np.array(
            [
                [np.sum((va == 1) & (vb == 1)), np.sum((va == 1) & (vb == 0))],
                [np.sum((va == 0) & (vb == 1)), np.sum((va == 0) & (vb == 0))],
            ]
        )
        p = float(mcnemar(table, exact=True).pvalue)
        return float(va.mean() - vb.mean()), p
    first = patients.set_index("patient").loc[common, "arm"].to_numpy() == arm
    ok = np.isfinite(va) & np.isfinite(vb)
    if ok.sum() < 3:
        return float("nan"), float("nan")
    c = analysis.paired_crossover(va[ok], vb[ok], first[ok].astype(float))
    return c.estimate, c.p


__all__ = ["TrialResult", "allocate", "enroll", "run_trial"]
