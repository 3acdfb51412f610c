"""Scenario 3, "routes": the dose by each route that matches the 24-h effect of 0.5 mg/kg IV.

The effect is the expected 24-h MADRS response rate (a fall of at least 50 % from baseline)
of one fixed virtual cohort: treatment-resistant patients screened at MADRS >= 20, open-label,
each patient the same in every simulation (common random numbers: covariates, random effects,
PK variability). The rate integrates the rating error and the natural fluctuation analytically
(:func:`ketasim.calibration.cohort.p_response`), so it is smooth in the dose and a root finder
can work on it. For every route the drug file gives humans, the scenario root-finds (Brent's
method on log dose) the dose whose rate equals that of a 40-min 0.5 mg/kg IV infusion, then
reports what comes with it: mean peak CADSS and peak systolic blood pressure in the first 4 h
and the venous Cmax of ketamine and norketamine.

Intervals come from posterior draws of the calibrated clinical-link parameters: each draw
re-solves only the symptom layer of the simulations already made (``Cohort.severities``), so
it has an IV reference rate and a rate curve per route of its own; the draw's matched dose is
where its curve crosses its reference (interpolated in log dose between the simulated doses),
and the dissociation, blood pressure and Cmax at that dose are interpolated the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter
from scipy import optimize

from ketasim.api import simulate
from ketasim.calibration.cohort import STEP_H, ClinicalValues, Cohort, Group, noise_of, p_response
from ketasim.calibration.reproduce import posterior_values
from ketasim.data import load_drug
from ketasim.errors import RegimenError
from ketasim.model import Mechanism
from ketasim.pk.regimen import Dose, Regimen
from ketasim.pk.routes import INTRAVENOUS, ROUTES, bioavailability
from ketasim.population import PopulationParams, individual_parameters
from ketasim.report.document import Figure, Report, Table
from ketasim.scenarios.base import Settings
from ketasim.symptoms.scales import load_scales
from ketasim.trials.runner import enroll
from ketasim.trials.spec import TrialSpec

DRUG = "ketamine-racemic"
SCALE = "MADRS"
#: The reference: a 40-min IV infusion of 0.5 mg/kg (Zarate 2006 and most of the review's trials).
REFERENCE_DOSE_MG_PER_KG = 0.5
REFERENCE_OVER = "40 min"
#: Time of the effect (h after the start of the dose) and the window of the peaks (h).
EFFECT_H = 24.0
PEAK_WINDOW_H = 4.0
#: Output grid: 5 min over the peak window (as the trial runner reads peaks), 10 min after.
FINE_STEP_H = 5.0 / 60.0
#: Brent's method stops when the log dose is known to this (about 0.5 % of the dose; 3 %
#: with ``--quick``).
XTOL_LOG, XTOL_LOG_QUICK = 0.005, 0.03
#: Factor either side of the first guess (0.5 mg/kg over F) that the root finder starts from.
BRACKET = 1.7
#: Routes in the report, with the drug file's default bioavailability reading (None) or a
#: named alternative; the label is what the tables show.
ROUTE_CASES: tuple[tuple[str, str, str | None], ...] = (
    ("intramuscular", "intramuscular", None),
    ("subcutaneous", "subcutaneous", None),
    ("intranasal", "intranasal", None),
    ("sublingual", "sublingual", None),
    ("oral", "oral", None),
    ("intranasal (yanagihara-2003 F)", "intranasal", "yanagihara-2003"),
)


@dataclass(frozen=True)
class Evaluation:
    """One simulated dose of one route on the fixed cohort."""

    dose_mg_per_kg: float
    group: Group  # upstream signals, for re-solving the symptom layer under other values
    response: float  # expected 24-h response rate at the calibrated values
    change_points: float  # expected mean 24-h MADRS change at the calibrated values
    peak_cadss_points: float
    peak_sbp_mmhg: float
    cmax_ketamine_ng_per_ml: float
    cmax_norketamine_ng_per_ml: float
    bioavailable_mg_per_kg: float  # typical F x dose, what the anaesthetic limit is read on
    needed_allow_anesthetic: bool


@dataclass(frozen=True)
class RouteResult:
    label: str
    route: str
    reading: str | None
    evaluations: tuple[Evaluation, ...]
    matched_dose_mg_per_kg: float  # NaN when no dose in the searched range matches
    at_match: Evaluation | None  # a simulation at the matched dose itself
    note: str


def cohort_spec(patients: int) -> TrialSpec:
    """The open-label one-arm spec whose enrolment defines the fixed cohort."""
    return TrialSpec.from_mapping(
        {
            "name": "routes-cohort",
            "population": {"size": patients, "inclusion": {"scale": SCALE, "min": 20}},
            "design": {"type": "open-label"},
            "arms": [
                {
                    "name": "ketamine",
                    "drug": DRUG,
                    "dose": f"{REFERENCE_DOSE_MG_PER_KG} mg/kg",
                    "route": "iv-infusion",
                    "over": REFERENCE_OVER,
                }
            ],
            "scale": SCALE,
            "followup": "1 d",
            "endpoints": [{"name": "response_24h", "type": "response", "time": "24 h"}],
        }
    )


def human_routes() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Routes the drug file supports for humans, and ketasim routes it does not."""
    spk = load_drug(DRUG).species["human"]
    have = tuple(r for r in ROUTES if r in set(spk.routes) | set(spk.intravenous_routes))
    return have, tuple(r for r in ROUTES if r not in have)


def typical_f(route: str, dose_mg_per_kg: float, weight_kg: float, reading: str | None) -> float:
    """The route's bioavailability without between-patient variability."""
    if route in INTRAVENOUS:
        return 1.0
    spec = load_drug(DRUG).species["human"].routes[route].bioavailability
    return float(bioavailability(spec, dose_mg_per_kg * weight_kg, reading))


def _grid() -> np.ndarray:
    coarse = np.arange(0.0, EFFECT_H + STEP_H / 2, STEP_H)
    fine = np.arange(0.0, PEAK_WINDOW_H + 1e-9, FINE_STEP_H)
    return np.unique(np.round(np.concatenate([coarse, fine]), 9))


def _regimen(route: str, dose_mg_per_kg: float) -> Regimen:
    over = REFERENCE_OVER if route == "iv-infusion" else None
    return Regimen.single(Dose(f"{dose_mg_per_kg:.6g} mg/kg", route=route, over=over))


def evaluate(
    route: str, dose_mg_per_kg: float, patients: pd.DataFrame, seed: int, reading: str | None
) -> Evaluation:
    """Simulate the cohort at one dose with the full model and summarise it."""
    t = _grid()
    kwargs: dict[str, Any] = {
        "patients": patients,
        "variability": True,
        "seed": seed,
        "times_h": t,
        "until": f"{t[-1]} h",
        "bioavailability": None if reading is None else {route: reading},
    }
    regimen = _regimen(route, dose_mg_per_kg)
    allowed = False
    try:
        res = simulate(DRUG, regimen, **kwargs)
    except RegimenError:
        # a patient's bioavailable dose reaches the anaesthetic range: simulate it anyway,
        # and say so in the report
        allowed = True
        res = simulate(DRUG, regimen, allow_anesthetic=True, **kwargs)
    n = len(patients)
    keep = np.isclose(np.round(t / STEP_H), t / STEP_H, atol=1e-6)  # the cohort's 10-min grid
    t_c = t[keep]
    names = res.state_names
    tc = res.timecourse
    ind = individual_parameters(patients, PopulationParams.load())
    gain = Mechanism.load("human").symptoms.fast_gain * ind.fast_gain_factor

    def column(name: str) -> np.ndarray:
        return tc[name].to_numpy().reshape(n, t.size)

    group = Group(
        patients=patients.reset_index(drop=True),
        periods={"ketamine": (0.0, 0.0)},
        t_h=t_c,
        fbar=res.states[:, keep, names.index("fast_drive")] / gain[:, None],
        restoration=column("spine_restoration_fraction")[:, keep],
        surge=column("glutamate_surge_rel")[:, keep] - 1.0,
        placebo=res.states[:, keep, names.index("placebo_effect")],
        felt=res.states[:, keep, names.index("placebo_felt")],
    )
    current = ClinicalValues.current()
    response, change = effect(group, current)
    window = t <= PEAK_WINDOW_H + 1e-9
    summary = res.summary.groupby("analyte")["cmax_ng_per_ml"].mean()
    weight = float(np.median(patients["weight_kg"]))
    return Evaluation(
        dose_mg_per_kg=dose_mg_per_kg,
        group=group,
        response=response,
        change_points=change,
        peak_cadss_points=float(column("cadss_points")[:, window].max(axis=1).mean()),
        peak_sbp_mmhg=float(column("sbp_mmhg")[:, window].max(axis=1).mean()),
        cmax_ketamine_ng_per_ml=float(summary["ketamine"]),
        cmax_norketamine_ng_per_ml=float(summary["norketamine"]),
        bioavailable_mg_per_kg=dose_mg_per_kg * typical_f(route, dose_mg_per_kg, weight, reading),
        needed_allow_anesthetic=allowed,
    )


@cache
def _solver() -> Cohort:
    """An empty cohort: its ``severities`` re-solves the symptom layer of any group."""
    return Cohort(cohort_spec(10), [], 0)


def effect(group: Group, values: ClinicalValues) -> tuple[float, float]:
    """The cohort's expected 24-h MADRS response rate and mean change (points) under
    ``values``, from the group's upstream signals."""
    sev = _solver().severities(group, values)
    scale = load_scales()[SCALE]
    s = scale.score(sev)
    i = round(EFFECT_H / STEP_H)
    p = p_response(s[:, 0], s[:, i], EFFECT_H, scale.measurement_error_sd, noise_of(values))
    return float(p.mean()), float((s[:, i] - s[:, 0]).mean())


def match_route(
    label: str,
    route: str,
    reading: str | None,
    target: float,
    patients: pd.DataFrame,
    seed: int,
    xtol_log: float = XTOL_LOG,
) -> RouteResult:
    """Root-find the route's dose (mg/kg) whose expected 24-h response rate is ``target``.

    The bracket starts at 0.5 mg/kg over the route's typical F, a factor ``BRACKET`` either
    side, and widens (to 0.01-60 mg/kg) until the rate crosses the target."""
    weight = float(np.median(patients["weight_kg"]))
    guess = REFERENCE_DOSE_MG_PER_KG / typical_f(route, 1.0, weight, reading)
    guess = REFERENCE_DOSE_MG_PER_KG / typical_f(route, guess, weight, reading)
    seen: dict[float, Evaluation] = {}

    def at(log_dose: float) -> Evaluation:
        key = round(log_dose, 9)
        if key not in seen:
            seen[key] = evaluate(route, float(np.exp(log_dose)), patients, seed, reading)
        return seen[key]

    def gap(log_dose: float) -> float:
        return at(log_dose).response - target

    lo, hi = np.log(guess / BRACKET), np.log(guess * BRACKET)
    note = ""
    while gap(lo) > 0 and lo > np.log(0.01):
        lo -= np.log(BRACKET)
    while gap(hi) < 0 and hi < np.log(60.0):
        hi += np.log(BRACKET)
    if gap(lo) > 0 or gap(hi) < 0:
        matched, final = float("nan"), None
        note = "no dose from 0.01 to 60 mg/kg matches the IV effect"
    else:
        root = optimize.brentq(gap, lo, hi, xtol=xtol_log)
        matched = float(np.exp(root))
        final = at(float(root))
    evaluations = tuple(sorted(seen.values(), key=lambda e: e.dose_mg_per_kg))
    return RouteResult(label, route, reading, evaluations, matched, final, note)


def reference(patients: pd.DataFrame, seed: int) -> Evaluation:
    """The 40-min 0.5 mg/kg IV infusion on the cohort."""
    return evaluate("iv-infusion", REFERENCE_DOSE_MG_PER_KG, patients, seed, None)


def _cross(log_d: np.ndarray, y: np.ndarray, target: float) -> float:
    """Log dose where the piecewise-linear curve ``y(log_d)`` first crosses ``target``
    (NaN when it does not within the simulated doses)."""
    diff = y - target
    for k in range(len(diff) - 1):
        if diff[k] == 0.0:
            return float(log_d[k])
        if diff[k] * diff[k + 1] < 0:
            w = diff[k] / (diff[k] - diff[k + 1])
            return float(log_d[k] + w * (log_d[k + 1] - log_d[k]))
    return float(log_d[-1]) if diff[-1] == 0.0 else float("nan")


def draw_matches(
    result: RouteResult, ref: Evaluation, values: list[ClinicalValues]
) -> pd.DataFrame:
    """Per posterior draw: the matched dose and what comes with it (interpolated in log dose
    between the route's simulated doses)."""
    evs = result.evaluations
    log_d = np.log([e.dose_mg_per_kg for e in evs])
    rows = []
    for j, v in enumerate(values):
        target = effect(ref.group, v)[0]
        curve = np.array([effect(e.group, v)[0] for e in evs])
        x = _cross(log_d, curve, target)
        row: dict[str, float] = {"draw": j, "reference_response": target}
        row["matched_dose_mg_per_kg"] = float(np.exp(x)) if np.isfinite(x) else float("nan")
        for name in (
            "peak_cadss_points",
            "peak_sbp_mmhg",
            "cmax_ketamine_ng_per_ml",
            "cmax_norketamine_ng_per_ml",
        ):
            ys = np.array([getattr(e, name) for e in evs])
            row[name] = float(np.interp(x, log_d, ys)) if np.isfinite(x) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def _interval(x: pd.Series) -> tuple[float, float]:
    ok = x.to_numpy(dtype=float)
    ok = ok[np.isfinite(ok)]
    if ok.size == 0:
        return float("nan"), float("nan")
    return float(np.percentile(ok, 2.5)), float(np.percentile(ok, 97.5))


def _flag(beyond: bool, m: Evaluation | None) -> str:
    if not beyond or m is None:
        return "no"
    return "yes (simulated with allow_anesthetic)" if m.needed_allow_anesthetic else "yes"


def _slug(label: str) -> str:
    return label.split(" ")[0] if "(" not in label else label.split(" ")[0] + "_alt"


def run(settings: Settings) -> Report:
    """Match every human route to 0.5 mg/kg IV; the report with intervals over draws."""
    have, missing = human_routes()
    spec = cohort_spec(settings.patients)
    patients = enroll(spec, 1, settings.seed)
    cases = [c for c in ROUTE_CASES if c[1] in have]
    if settings.quick:
        cases = [c for c in cases if c[2] is None]
    ref = reference(patients, settings.seed)
    results: list[RouteResult] = list(
        settings.run_map(
            match_route,
            [c[0] for c in cases],
            [c[1] for c in cases],
            [c[2] for c in cases],
            [ref.response] * len(cases),
            [patients] * len(cases),
            [settings.seed] * len(cases),
            [XTOL_LOG_QUICK if settings.quick else XTOL_LOG] * len(cases),
        )
    )
    values, _ = posterior_values(settings.replicates, settings.seed)
    weight = float(np.median(patients["weight_kg"]))
    limit = load_drug(DRUG).species["human"].anesthetic_dose_mg_per_kg
    limit_mg_per_kg = float(limit.to("mg/kg")) if limit is not None else float("inf")

    ref_draws = pd.DataFrame(
        [
            {
                "reference_response": effect(ref.group, v)[0],
                "reference_change": effect(ref.group, v)[1],
            }
            for v in values
        ]
    )
    rows = [
        {
            "route": "iv-infusion over 40 min (reference)",
            "bioavailability (typical F)": 1.0,
            "matched dose (mg/kg)": REFERENCE_DOSE_MG_PER_KG,
            "matched dose 95% interval (mg/kg)": "",
            "matched dose, median patient (mg)": REFERENCE_DOSE_MG_PER_KG * weight,
            "bioavailable dose (mg/kg)": REFERENCE_DOSE_MG_PER_KG,
            "24-h response, expected (fraction)": ref.response,
            "24-h MADRS change (points)": ref.change_points,
            "peak CADSS 0-4 h (points)": ref.peak_cadss_points,
            "peak CADSS 95% interval (points)": "",
            "peak SBP 0-4 h (mmHg)": ref.peak_sbp_mmhg,
            "ketamine Cmax (ng/mL)": ref.cmax_ketamine_ng_per_ml,
            "norketamine Cmax (ng/mL)": ref.cmax_norketamine_ng_per_ml,
            "beyond anaesthetic range": "no",
            "simulations (n)": 1,
        }
    ]
    headline: dict[str, Any] = {
        "effect_definition": (
            f"expected 24-h {SCALE} response rate of one fixed cohort of {len(patients)} "
            "virtual patients (open-label)"
        ),
        "reference_response_24h": ref.response,
        "reference_response_24h_interval": list(_interval(ref_draws["reference_response"])),
        "reference_peak_cadss_points": ref.peak_cadss_points,
        "reference_peak_sbp_mmhg": ref.peak_sbp_mmhg,
        "routes_missing_for_humans": [r for r in missing if r != "intraperitoneal"]
        or "none (intraperitoneal is a rodent route)",
    }
    draw_frames: dict[str, pd.DataFrame] = {}
    flagged: list[str] = []
    for res in results:
        d = draw_matches(res, ref, values)
        draw_frames[res.label] = d
        m = res.at_match
        lo, hi = _interval(d["matched_dose_mg_per_kg"])
        c_lo, c_hi = _interval(d["peak_cadss_points"])
        f = typical_f(res.route, res.matched_dose_mg_per_kg, weight, res.reading)
        beyond = m is not None and (
            m.bioavailable_mg_per_kg >= limit_mg_per_kg or m.needed_allow_anesthetic
        )
        if beyond:
            flagged.append(res.label)
        rows.append(
            {
                "route": res.label,
                "bioavailability (typical F)": f,
                "matched dose (mg/kg)": res.matched_dose_mg_per_kg,
                "matched dose 95% interval (mg/kg)": f"{lo:.3g} to {hi:.3g}",
                "matched dose, median patient (mg)": res.matched_dose_mg_per_kg * weight,
                "bioavailable dose (mg/kg)": m.bioavailable_mg_per_kg if m else float("nan"),
                "24-h response, expected (fraction)": m.response if m else float("nan"),
                "24-h MADRS change (points)": m.change_points if m else float("nan"),
                "peak CADSS 0-4 h (points)": m.peak_cadss_points if m else float("nan"),
                "peak CADSS 95% interval (points)": f"{c_lo:.3g} to {c_hi:.3g}",
                "peak SBP 0-4 h (mmHg)": m.peak_sbp_mmhg if m else float("nan"),
                "ketamine Cmax (ng/mL)": m.cmax_ketamine_ng_per_ml if m else float("nan"),
                "norketamine Cmax (ng/mL)": m.cmax_norketamine_ng_per_ml if m else float("nan"),
                "beyond anaesthetic range": _flag(beyond, m),
                "simulations (n)": len(res.evaluations),
            }
        )
        key = _slug(res.label)
        headline[f"{key}_matched_dose_mg_per_kg"] = res.matched_dose_mg_per_kg
        headline[f"{key}_matched_dose_interval_mg_per_kg"] = [lo, hi]
        headline[f"{key}_peak_cadss_points"] = m.peak_cadss_points if m else float("nan")
        headline[f"{key}_peak_sbp_mmhg"] = m.peak_sbp_mmhg if m else float("nan")
        if res.note:
            headline[f"{key}_note"] = res.note
    headline["matched_doses_beyond_anesthetic_range"] = flagged or "none"
    table = pd.DataFrame(rows)
    curves = pd.DataFrame(
        [
            {
                "route": r.label,
                "dose (mg/kg)": e.dose_mg_per_kg,
                "24-h response, expected (fraction)": e.response,
                "24-h MADRS change (points)": e.change_points,
                "peak CADSS 0-4 h (points)": e.peak_cadss_points,
                "peak SBP 0-4 h (mmHg)": e.peak_sbp_mmhg,
                "ketamine Cmax (ng/mL)": e.cmax_ketamine_ng_per_ml,
                "norketamine Cmax (ng/mL)": e.cmax_norketamine_ng_per_ml,
            }
            for r in results
            for e in r.evaluations
        ]
    )
    figure = _figure(results, ref, table)
    caveats = [
        "The effect is the cohort's expected 24-h response rate with the calibrated "
        "clinical-link values (ketasim calibrate); the calibration saw IV trials only, so a "
        "route's effect rests on its PK (drug file) carried through the mechanism, untested "
        "against trials of that route.",
        "Matching the response rate need not match the mean change or the time course: the "
        "table shows the 24-h MADRS change at each matched dose beside the reference's.",
        "Intervals are 2.5-97.5 percentiles over posterior draws of the calibrated clinical "
        "parameters, interpolated in log dose between the simulated doses; they leave out the "
        "uncertainty of the PK and mechanism constants (bioavailability, absorption rates), "
        "which for these routes is larger.",
        "Peaks (CADSS, SBP) and Cmax are cohort means of each patient's peak, read on a 5-min "
        "grid over the first 4 h; Cmax is at the venous sampling site.",
        f"The anaesthetic limit is the drug file's {limit_mg_per_kg:g} mg/kg reaching the "
        "circulation (typical F x dose); a route flagged beyond it was simulated with "
        "allow_anesthetic and its numbers are outside the range the model was built for.",
        "Intranasal F falls with dose in the drug file (0.17 at 10 mg to 0.11 at 50 mg, held "
        "beyond 50 mg), so large intranasal doses are a long extrapolation; the alternative "
        "yanagihara-2003 reading (F 0.45) is shown as a sensitivity row when not --quick.",
    ]
    if missing:
        caveats.append(
            "ketasim routes without human data in the drug file: " + ", ".join(missing) + "."
        )
    return Report(
        name="routes",
        title="Routes matched to 0.5 mg/kg IV",
        question=(
            "Which dose by each route matches the 24-h effect of 0.5 mg/kg IV, and what "
            "dissociation and blood pressure come with it?"
        ),
        method=(
            f"One fixed cohort of {len(patients)} virtual patients (MADRS >= 20 at screening). "
            "Reference: 0.5 mg/kg IV over 40 min. For each human route, Brent's method on log "
            "dose finds the dose whose expected 24-h MADRS response rate equals the "
            "reference's (full model per evaluation, PK variability on); intervals from "
            f"{len(values)} posterior draws of the calibrated parameters."
        ),
        headline=headline,
        tables=[
            Table("Matched doses and what comes with them", table),
            Table(
                "Every simulated dose (the root finder's evaluations)",
                curves,
                "Calibrated values; the curves the posterior draws are interpolated on.",
            ),
        ],
        figures=[figure],
        caveats=caveats,
    )


def _figure(results: list[RouteResult], ref: Evaluation, table: pd.DataFrame) -> Figure:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for r in results:
        d = [e.dose_mg_per_kg for e in r.evaluations]
        y = [e.response for e in r.evaluations]
        ax1.plot(d, y, "o-", ms=3, label=r.label)
    ax1.axhline(ref.response, color="k", ls="--", lw=1, label="0.5 mg/kg IV")
    ax1.set_xscale("log")
    ticks = [0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0]
    ax1.xaxis.set_major_locator(FixedLocator(ticks))
    ax1.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax1.xaxis.set_minor_formatter(NullFormatter())
    ax1.set_xlabel("dose (mg/kg)")
    ax1.set_ylabel("expected 24-h MADRS response (fraction)")
    ax1.legend(fontsize=7)
    labels = [str(s).split(" (")[0] if "reference" in str(s) else str(s) for s in table["route"]]
    x = np.arange(len(labels))
    ax2.bar(x, table["peak CADSS 0-4 h (points)"], color="tab:purple", alpha=0.7)
    ax2.set_xticks(x, labels, rotation=35, ha="right", fontsize=7)
    ax2.set_ylabel("mean peak CADSS 0-4 h (points)", color="tab:purple")
    ax3 = ax2.twinx()
    ax3.plot(x, table["peak SBP 0-4 h (mmHg)"], "s", color="tab:red")
    ax3.set_ylabel("mean peak SBP 0-4 h (mmHg)", color="tab:red")
    ax2.set_title("at the matched dose", fontsize=9)
    return Figure.from_matplotlib(
        fig,
        "Effect by dose and route; dissociation and blood pressure at the matched dose",
        "Left: the cohort's expected 24-h response rate at each simulated dose (calibrated "
        "values); the dashed line is the 0.5 mg/kg IV reference. Right: mean peak CADSS (bars) "
        "and peak systolic blood pressure (squares) at each route's matched dose.",
    )


__all__ = ["ROUTE_CASES", "RouteResult", "cohort_spec", "human_routes", "match_route", "run"]
