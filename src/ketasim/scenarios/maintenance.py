"""Scenario 2, maintenance: after a six-infusion induction of 0.5 mg/kg racemic ketamine IV over
40 min (three times or twice weekly), which booster interval keeps a target share of patients
in response over six months with the fewest infusions, and at what exposure?

One cohort of ``settings.patients`` virtual patients (MADRS 22 or more at screening) is
simulated under every schedule: the same patients, the same pharmacokinetic draws and the same
rating error and natural fluctuation, so schedules are compared within patients. A schedule is
an induction (days 0, 2, 4, 7, 9, 11 or days 0, 3, 7, 10, 14, 17) followed by boosters every
``interval`` days from one interval after the last induction infusion while the booster day is
before day :data:`HORIZON_D`; it is written as a trial arm with explicit dose times
(:class:`ketasim.trials.spec.Arm` ``at``). MADRS is rated daily at the time of day of the
infusions, before any infusion that day; a patient is in response on a day when the rating is
at most half the baseline rating.

The homeostatic tolerance state of the synapse layer damps the synaptic drive (a little) and
dissociation (more). The no-tolerance counterfactual switches its action off
(``Perturbations(tolerance_off=True)``); its state still integrates, and drug-free it is zero,
so time 0 is the same steady state (``chronic=False``).

Intervals: a percentile bootstrap over ``settings.replicates`` resampled cohorts of the same
size, paired across schedules (replicate ``r`` resamples the same patients for every schedule).
The simulated cohort is one draw; the posterior uncertainty of the calibrated parameters is not
in the intervals.

Work is split into tasks (schedule, tolerance, chunk of :data:`CHUNK` patients) fixed by the
settings, never by the number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ketasim.api import simulate
from ketasim.engine import SolveOptions
from ketasim.model import Perturbations
from ketasim.population import PopulationParams
from ketasim.report.document import Figure, Report, Table
from ketasim.scenarios.base import Settings
from ketasim.symptoms.scales import load_scales
from ketasim.trials import analysis
from ketasim.trials.runner import STREAM_RATING, enroll, fluctuation, rate
from ketasim.trials.spec import Arm, TrialSpec

DRUG = "ketamine-racemic"
DOSE_MG_PER_KG = 0.5
OVER = "40 min"
SCALE = "MADRS"
INCLUSION_MIN = 22  # MADRS at screening, as in the repeated-dose examples
#: Induction infusion days: six infusions three times or twice weekly (Singh 2016's two arms).
INDUCTIONS: dict[str, tuple[int, ...]] = {
    "thrice-weekly": (0, 2, 4, 7, 9, 11),
    "twice-weekly": (0, 3, 7, 10, 14, 17),
}
#: Six months, in days from the first induction infusion.
HORIZON_D = 182
#: The booster schedules compared by name (days between boosters).
NAMED: dict[str, int] = {"weekly": 7, "fortnightly": 14, "monthly": 28}
#: The grid searched for the cheapest schedule that meets the target.
GRID_D: tuple[int, ...] = (7, 14, 21, 28, 35, 42)
GRID_QUICK_D: tuple[int, ...] = (14, 28)
#: Default target: at least half of the patients in response on an average maintenance day.
TARGET_SHARE = 0.5
#: CADSS total above which a patient counts as dissociated (points, on 0-92).
CADSS_THRESHOLD = 4.0
#: Dissociation is read for this long after each infusion start, every CADSS_STEP_H.
CADSS_WINDOW_H = 4.0
CADSS_STEP_H = 5.0 / 60.0
#: Patients per simulation task (fixed, so workers never change results).
CHUNK = 100
#: Engine tolerances: six months of daily outputs at the default 1e-6 cost twice the time.
SOLVER = SolveOptions(rtol=1e-4, atol=1e-7)
STREAM_BOOTSTRAP = 7201


@dataclass(frozen=True)
class Schedule:
    """An induction and a booster interval (``None``: induction only)."""

    induction: str
    interval_d: int | None

    @property
    def label(self) -> str:
        named = {v: k for k, v in NAMED.items()}
        if self.interval_d is None:
            return f"{self.induction}, no boosters"
        name = named.get(self.interval_d, f"every {self.interval_d} d")
        return f"{self.induction}, {name}"

    def dose_days(self) -> list[int]:
        days = list(INDUCTIONS[self.induction])
        if self.interval_d is not None:
            day = days[-1] + self.interval_d
            while day < HORIZON_D:
                days.append(day)
                day += self.interval_d
        return days

    def arm(self) -> Arm:
        """The schedule as a trial arm with explicit dose times."""
        return Arm(
            name=self.label.replace(", ", "-").replace(" ", "-"),
            drug=DRUG,
            dose=f"{DOSE_MG_PER_KG:g} mg/kg",
            route="iv-infusion",
            over=OVER,
            at=[f"{d} d" for d in self.dose_days()],
        )

    @property
    def maintenance_start_d(self) -> int:
        return INDUCTIONS[self.induction][-1] + 1


@dataclass(frozen=True)
class Task:
    schedule: Schedule
    tolerance: bool
    chunk: int
    patients: pd.DataFrame
    seed: int


@dataclass(frozen=True)
class Outcome:
    """What one task gives for its patients."""

    schedule: Schedule
    tolerance: bool
    chunk: int
    madrs_expected: np.ndarray  # (patients, days 0..HORIZON_D), points
    hours_dissociated: np.ndarray  # (patients,), h
    cadss_peak_first: np.ndarray  # (patients,), points
    cadss_peak_last: np.ndarray  # (patients,), points
    tolerance_max: np.ndarray  # (patients,), the tolerance state's highest value
    dose_mg: np.ndarray  # (patients,), the regimen simulated, summed over its doses


def schedules(quick: bool) -> list[tuple[Schedule, bool]]:
    """Every (schedule, tolerance on) the scenario simulates: for each induction, induction
    alone, the booster grid with tolerance, and the named intervals without it. ``quick``:
    the three-times-weekly induction, fortnightly and monthly boosters only (six months of a
    weekly schedule is the slowest simulation)."""
    if quick:
        return [(Schedule("thrice-weekly", d), tol) for d in GRID_QUICK_D for tol in (True, False)]
    out: list[tuple[Schedule, bool]] = []
    for ind in INDUCTIONS:
        out.append((Schedule(ind, None), True))
        out += [(Schedule(ind, d), True) for d in GRID_D]
        out += [(Schedule(ind, d), False) for d in NAMED.values()]
    return out


def cohort(patients: int, seed: int) -> pd.DataFrame:
    """The virtual patients: MADRS 22 or more at screening, default covariates."""
    spec = TrialSpec.from_mapping(
        {
            "name": "maintenance",
            "population": {"size": patients, "inclusion": {"scale": SCALE, "min": INCLUSION_MIN}},
            "design": {"type": "open-label"},
            "arms": [{"name": "ketamine", "drug": DRUG, "dose": f"{DOSE_MG_PER_KG:g} mg/kg"}],
            "scale": SCALE,
            "endpoints": [{"name": "response_24h", "type": "response", "time": "24 h"}],
        }
    )
    return enroll(spec, 1, seed)


def _grid(days: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Output times: each day at the infusions' time of day, and CADSS_STEP_H steps over
    CADSS_WINDOW_H after each infusion start; indices of the daily and the CADSS times."""
    daily = 24.0 * np.arange(HORIZON_D + 1)
    steps = np.round(np.arange(0.0, CADSS_WINDOW_H + 1e-9, CADSS_STEP_H), 9)
    cadss = np.concatenate([24.0 * d + steps for d in days])
    grid = np.unique(np.round(np.concatenate([daily, cadss]), 9))
    return grid, np.searchsorted(grid, daily), np.searchsorted(grid, np.round(cadss, 9))


def simulate_task(task: Task) -> Outcome:
    """Simulate one chunk of patients under one schedule (a module-level function, so Dask
    can send it to a worker)."""
    arm = task.schedule.arm()
    days = task.schedule.dose_days()
    grid, i_daily, i_cadss = _grid(days)
    pert = Perturbations(tolerance_off=True, chronic=False) if not task.tolerance else None
    regimen = arm.regimen()
    weights = task.patients["weight_kg"].to_numpy(dtype=float)
    res = simulate(
        DRUG,
        regimen,
        patients=task.patients,
        variability=True,
        seed=task.seed,
        times_h=grid,
        until=f"{grid[-1]} h",
        perturbations=pert,
        solver=SOLVER,
    )
    n, m = len(task.patients), grid.size
    tc = res.timecourse
    madrs = tc[f"{SCALE.lower()}_points"].to_numpy().reshape(n, m)
    cadss = tc["cadss_points"].to_numpy().reshape(n, m)[:, i_cadss]
    per_dose = cadss.reshape(n, len(days), -1)
    # each grid step of CADSS_STEP_H above the threshold counts as that long dissociated
    hours = (per_dose[:, :, :-1] > CADSS_THRESHOLD).sum(axis=(1, 2)) * CADSS_STEP_H
    return Outcome(
        task.schedule,
        task.tolerance,
        task.chunk,
        madrs[:, i_daily],
        hours.astype(float),
        per_dose[:, 0, :].max(axis=1),
        per_dose[:, -1, :].max(axis=1),
        tc["tolerance_rel"].to_numpy().reshape(n, m).max(axis=1),
        np.sum([dose.amount_mg(weights) for _, dose in regimen.doses], axis=0),
    )


@dataclass(frozen=True)
class Result:
    """Per-patient outcomes of one (schedule, tolerance), patients in cohort order."""

    schedule: Schedule
    tolerance: bool
    infusions: int
    in_response: np.ndarray  # (patients, days 1..HORIZON_D), bool
    days_in_response: np.ndarray  # (patients,), days
    maintenance_share: np.ndarray  # (patients,), share of maintenance days in response
    cumulative_dose_mg: np.ndarray
    hours_dissociated: np.ndarray
    cadss_peak_first: np.ndarray
    cadss_peak_last: np.ndarray
    tolerance_max: np.ndarray


def simulate_all(settings: Settings) -> tuple[pd.DataFrame, list[Result]]:
    """The cohort and every schedule's per-patient outcomes."""
    patients = cohort(settings.patients, settings.seed)
    combos = schedules(settings.quick)
    tasks = [
        Task(s, tol, c, patients.iloc[c : c + CHUNK].reset_index(drop=True), settings.seed)
        for s, tol in combos
        for c in range(0, len(patients), CHUNK)
    ]
    outcomes = list(settings.run_map(simulate_task, tasks))
    # rating error and natural fluctuation: the same draws for a patient under every schedule
    scale = load_scales()[SCALE]
    ids = patients["patient"].to_numpy()
    days = 24.0 * np.arange(HORIZON_D + 1)
    v = PopulationParams.load().variability
    eps = fluctuation(ids, days, settings.seed, v["fluctuation_sd"], v["fluctuation_tau_h"])
    z = np.stack(
        [
            np.random.default_rng([settings.seed, STREAM_RATING, int(i)]).standard_normal(days.size)
            for i in ids
        ]
    )
    results = []
    for s, tol in combos:
        parts = sorted(
            (o for o in outcomes if o.schedule == s and o.tolerance == tol), key=lambda o: o.chunk
        )
        expected = np.concatenate([o.madrs_expected for o in parts])
        observed = rate(scale, expected, z, eps)
        in_resp = scale.responded(observed[:, 1:], observed[:, :1])
        window = slice(s.maintenance_start_d - 1, HORIZON_D)
        infusions = len(s.dose_days())
        results.append(
            Result(
                s,
                tol,
                infusions,
                in_resp,
                in_resp.sum(axis=1).astype(float),
                in_resp[:, window].mean(axis=1),
                np.concatenate([o.dose_mg for o in parts]),
                np.concatenate([o.hours_dissociated for o in parts]),
                np.concatenate([o.cadss_peak_first for o in parts]),
                np.concatenate([o.cadss_peak_last for o in parts]),
                np.concatenate([o.tolerance_max for o in parts]),
            )
        )
    return patients, results


def bootstrap_indices(n: int, replicates: int, seed: int) -> np.ndarray:
    """Patient indices of ``replicates`` resampled cohorts of ``n`` (one row each), the same
    for every schedule."""
    return np.stack(
        [
            np.random.default_rng([seed, STREAM_BOOTSTRAP, r]).integers(0, n, n)
            for r in range(replicates)
        ]
    )


def _spread(values: np.ndarray, idx: np.ndarray) -> analysis.Spread:
    return analysis.spread(values[idx].mean(axis=1))


def summary(results: list[Result], idx: np.ndarray) -> pd.DataFrame:
    """One row per (schedule, tolerance): cohort means with bootstrap 95 % intervals."""
    rows = []
    for r in results:
        days = _spread(r.days_in_response, idx)
        share = _spread(r.maintenance_share, idx)
        hours = _spread(r.hours_dissociated, idx)
        rows.append(
            {
                "induction": r.schedule.induction,
                "booster interval (d)": r.schedule.interval_d,
                "tolerance": "on" if r.tolerance else "off",
                "infusions (n)": r.infusions,
                "days in response (d)": days.median,
                "days in response lo (d)": days.lo,
                "days in response hi (d)": days.hi,
                "maintenance days in response (%)": 100 * share.median,
                "maintenance lo (%)": 100 * share.lo,
                "maintenance hi (%)": 100 * share.hi,
                "in response at 6 months (%)": 100 * r.in_response[:, -1].mean(),
                "cumulative dose (mg)": float(r.cumulative_dose_mg.mean()),
                "hours dissociated (h)": hours.median,
                "hours dissociated lo (h)": hours.lo,
                "hours dissociated hi (h)": hours.hi,
                "peak CADSS first infusion (points)": float(r.cadss_peak_first.mean()),
                "peak CADSS last infusion (points)": float(r.cadss_peak_last.mean()),
                "share meeting target lower bound": share.lo,
                "_share": share.median,
            }
        )
    return pd.DataFrame(rows)


def choose(table: pd.DataFrame, target: float) -> dict[str, Any]:
    """The tolerance-on schedule with boosters that meets ``target`` (median maintenance share)
    with the fewest infusions (ties: more days in response); and the same with the interval's
    lower bound meeting it."""
    on = table[(table["tolerance"] == "on") & table["booster interval (d)"].notna()]

    def pick(ok: pd.Series) -> dict[str, Any] | None:
        cand = on[ok]
        if cand.empty:
            return None
        best = cand.sort_values(
            ["infusions (n)", "days in response (d)"], ascending=[True, False]
        ).iloc[0]
        return {
            "induction": str(best["induction"]),
            "booster_interval_d": int(best["booster interval (d)"]),
            "infusions": int(best["infusions (n)"]),
            "days_in_response": float(best["days in response (d)"]),
            "days_in_response_ci95": [
                float(best["days in response lo (d)"]),
                float(best["days in response hi (d)"]),
            ],
            "maintenance_share": float(best["_share"]),
            "cumulative_dose_mg": float(best["cumulative dose (mg)"]),
            "hours_dissociated_h": float(best["hours dissociated (h)"]),
        }

    return {
        "median": pick(on["_share"] >= target),
        "lower_bound": pick(on["share meeting target lower bound"] >= target),
    }


def _share_by_day(r: Result) -> np.ndarray:
    return np.asarray(r.in_response.mean(axis=0))


def figure_course(results: list[Result], target: float) -> Figure:
    fig, ax = plt.subplots(figsize=(8, 4))
    day = np.arange(1, HORIZON_D + 1)
    ind = results[0].schedule.induction
    for r in results:
        named = r.schedule.interval_d in (None, *NAMED.values())
        if r.schedule.induction != ind or not r.tolerance or not named:
            continue
        ax.plot(day, 100 * _share_by_day(r), lw=1.2, label=r.schedule.label)
    ax.axhline(100 * target, color="k", ls=":", lw=1, label=f"target {100 * target:g} %")
    ax.set_xlabel("day from the first induction infusion")
    ax.set_ylabel("patients in response (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8, loc="upper right")
    return Figure.from_matplotlib(
        fig,
        "Share of patients in response, day by day",
        f"{ind} induction, tolerance on; daily MADRS at most half the baseline rating.",
    )


def figure_tradeoff(table: pd.DataFrame, target: float) -> Figure:
    fig, ax = plt.subplots(figsize=(8, 4))
    markers = {"on": "o", "off": "x"}
    for (ind, tol), g in table.groupby(["induction", "tolerance"], sort=False):
        y = g["maintenance days in response (%)"].to_numpy()
        err = np.vstack(
            [y - g["maintenance lo (%)"].to_numpy(), g["maintenance hi (%)"].to_numpy() - y]
        )
        ax.errorbar(
            g["infusions (n)"],
            y,
            yerr=err,
            fmt=markers[str(tol)],
            capsize=2,
            label=f"{ind}, tolerance {tol}",
        )
    ax.axhline(100 * target, color="k", ls=":", lw=1)
    ax.set_xlabel("infusions over six months (n)")
    ax.set_ylabel("maintenance days in response (%)")
    ax.legend(fontsize=8)
    return Figure.from_matplotlib(
        fig,
        "Response kept against infusions used",
        "Each point a schedule (fewer infusions: longer booster interval); bars: 95 % bootstrap "
        "interval over resampled cohorts; dotted: the target.",
    )


def _tolerance_table(results: list[Result], idx: np.ndarray) -> pd.DataFrame:
    by = {(r.schedule, r.tolerance): r for r in results}
    rows = []
    for (s, tol), r in by.items():
        if not tol or (s, False) not in by:
            continue
        off = by[(s, False)]
        d_days = _spread(r.days_in_response - off.days_in_response, idx)
        d_hours = _spread(r.hours_dissociated - off.hours_dissociated, idx)
        rows.append(
            {
                "schedule": s.label,
                "infusions (n)": r.infusions,
                "days in response, on - off (d)": d_days.median,
                "lo (d)": d_days.lo,
                "hi (d)": d_days.hi,
                "hours dissociated, on - off (h)": d_hours.median,
                "lo (h)": d_hours.lo,
                "hi (h)": d_hours.hi,
                "peak CADSS last infusion, on (points)": float(r.cadss_peak_last.mean()),
                "peak CADSS last infusion, off (points)": float(off.cadss_peak_last.mean()),
                "highest tolerance state (rel)": float(r.tolerance_max.mean()),
            }
        )
    return pd.DataFrame(rows)


CAVEATS = (
    "Unmodelled risks of long-term use: cognitive impairment (seen in frequent recreational "
    "users), ulcerative cystitis and other urological damage, and abuse or dependence. "
    "ketasim has no state for any of them, so a schedule that looks cheap here may not be "
    "safe; the exposure columns (cumulative dose, hours dissociated, infusions) are what "
    "those concerns attach to.",
    "The review finds repeated ketamine safe, well tolerated and efficacious in research "
    "studies but the data insufficient to recommend long-term off-label use outside "
    "research; this scenario is a research estimate, not a prescribing schedule.",
    "Tolerance to efficacy in the model is small by construction (assumed gain 0.05, set to "
    "match little loss of response over six infusions, Phillips 2019); months of boosters "
    "extrapolate it well beyond the data that set it, and Blier 2012's case of waning "
    "response after more than 40 infusions is not reproduced by any fitted term.",
    f"Hours dissociated count the {CADSS_STEP_H * 60:g}-min steps over {CADSS_WINDOW_H:g} h "
    f"after each infusion start with the model's expected CADSS above {CADSS_THRESHOLD:g} "
    "points (an assumed threshold: above the 0 to 2 points of midazolam and baseline, below "
    "the 8 to 15 point group peak of 0.5 mg/kg); rating error on CADSS is not added.",
    "Intervals are a bootstrap over resampled cohorts of one simulated cohort, not fresh "
    "replicate simulations, and leave out the posterior uncertainty of the calibrated "
    "parameters; relapse after six months, dropout and concomitant treatment are not "
    "modelled.",
    "Daily ratings are taken before any infusion that day, at the infusion's time of day; "
    "response is MADRS at most half of the baseline rating (observed, with rating error and "
    "natural fluctuation, the same draws under every schedule).",
    f"The engine runs at rtol {SOLVER.rtol:g}, atol {SOLVER.atol:g} (the default is 1e-6, "
    "1e-9) to keep six months of daily outputs affordable.",
)


def run(settings: Settings, target: float = TARGET_SHARE) -> Report:
    """Simulate every schedule, find the cheapest that keeps ``target`` of patients in
    response on an average maintenance day, and report exposure and the tolerance effect."""
    patients, results = simulate_all(settings)
    return build_report(settings, patients, results, target)


def build_report(
    settings: Settings, patients: pd.DataFrame, results: list[Result], target: float
) -> Report:
    """The report of simulated schedules (``simulate_all``)."""
    idx = bootstrap_indices(len(patients), settings.replicates, settings.seed)
    table = summary(results, idx)
    chosen = choose(table, target)
    by = {(r.schedule.induction, r.schedule.interval_d, r.tolerance): r for r in results}
    ind = results[0].schedule.induction
    headline: dict[str, Any] = {
        "target_share": target,
        "cadss_threshold_points": CADSS_THRESHOLD,
        "patients": len(patients),
    }
    best = chosen["median"]
    if best is None:
        headline["chosen_schedule"] = "none in the grid meets the target"
    else:
        headline["chosen_schedule"] = (
            f"{best['induction']} induction, boosters every {best['booster_interval_d']} d"
        )
        headline.update({f"chosen_{k}": v for k, v in best.items()})
    robust = chosen["lower_bound"]
    headline["chosen_if_lower_bound_must_meet_target"] = (
        "none in the grid"
        if robust is None
        else f"{robust['induction']} induction, boosters every {robust['booster_interval_d']} d"
    )
    for name, d in NAMED.items():
        for tol in (True, False):
            r = by.get((ind, d, tol))
            if r is None:
                continue
            tag = f"{name}_tolerance_{'on' if tol else 'off'}"
            s = _spread(r.days_in_response, idx)
            headline[f"days_in_response_{tag}"] = [s.median, s.lo, s.hi]
            headline[f"infusions_{name}"] = r.infusions
            headline[f"cumulative_dose_mg_{tag}"] = float(r.cumulative_dose_mg.mean())
            headline[f"hours_dissociated_h_{tag}"] = float(r.hours_dissociated.mean())
    none = by.get((ind, None, True))
    if none is not None:
        headline["days_in_response_induction_only"] = _spread(none.days_in_response, idx).median
    shown = table.drop(columns=["_share", "share meeting target lower bound"])
    intervals = sorted({iv for r in results if (iv := r.schedule.interval_d) is not None})
    grid = ", ".join(str(d) for d in intervals)
    inductions = " or ".join(sorted({r.schedule.induction for r in results}))
    method = (
        f"{len(patients)} virtual patients (MADRS {INCLUSION_MIN} or more at screening) "
        f"under every schedule: six induction infusions of {DOSE_MG_PER_KG:g} mg/kg IV over "
        f"{OVER} ({inductions}), then boosters every {grid} days until day {HORIZON_D}; "
        "the full model with PK variability, daily MADRS with rating error, "
        "with the homeostatic tolerance state acting (the model) and switched off "
        "(Perturbations(tolerance_off=True)). Response: MADRS at most half the baseline. "
        f"Target: at least {100 * target:g} % of patients in response on an average "
        "maintenance day (median over resampled cohorts); the schedule meeting it with the "
        f"fewest infusions is chosen. Intervals: 95 % percentile bootstrap over "
        f"{settings.replicates} resampled cohorts, paired across schedules."
    )
    return Report(
        name="maintenance",
        title="Maintenance after induction: booster schedules over six months",
        question=(
            "After six induction infusions, which booster interval keeps a target share of "
            "patients in response with the fewest infusions, and at what exposure?"
        ),
        method=method,
        headline=headline,
        tables=[
            Table(
                "Schedules: cohort means, 95 % bootstrap intervals",
                shown,
                f"Maintenance: days after the last induction infusion to day {HORIZON_D}. "
                f"Hours dissociated: expected CADSS above {CADSS_THRESHOLD:g} points. In "
                "response at 6 months: the day-182 rating alone, which depends on where the "
                "last booster falls.",
            ),
            Table(
                "Tolerance: the model against its no-tolerance counterfactual",
                _tolerance_table(results, idx),
                "Paired differences on the same patients; 95 % bootstrap intervals.",
            ),
        ],
        figures=[figure_course(results, target), figure_tradeoff(table, target)],
        caveats=list(CAVEATS),
    )
