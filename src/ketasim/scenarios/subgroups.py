"""Scenario 5, "subgroups": who responds, ketamine added to an antidepressant, enriched trials.

One large parallel trial (replicate trials of ``settings.patients`` per arm: 0.5 mg/kg
racemic ketamine IV over 40 min, midazolam 0.045 mg/kg and saline, MADRS >= 20 at screening)
is simulated with the full model. Each patient's value is their expected probability of
response (a MADRS fall of at least 50 %) at 230 min, 24 h and 1 week, with rating error and natural
fluctuation integrated analytically (:func:`ketasim.calibration.cohort.p_response`); a
subgroup's rate is the mean over its patients, with an interval over replicate trials.

Three questions:

(a) Augmentation: the same patients on a monoaminergic antidepressant (``comedication:
    antidepressants``) against none, ketamine against saline and against midazolam.
(b) Subgroups by family history of alcohol use disorder, BMI (< 30 vs >= 30), baseline
    D-serine (below vs above the population median) and BDNF Val66Met (Val/Val vs Met
    carrier), as a trial would see them (observed subgroups) and as the model's contrast on the
    same patients (every other covariate and random effect held: the covariate set to each
    level; Val66Met and comedication need a new simulation because they act in the mechanism,
    the others re-solve only the symptom layer).
(c) The patients per arm an enriched trial (family history positive; family history positive
    and BMI >= 30) needs for 80 % power at two-sided alpha 0.05 against midazolam, next to an
    unselected trial: statsmodels' power for two proportions (Cohen's h) from the simulated
    rates, checked by simulating replicate trials of that size (share with Fisher's exact
    p < 0.05).
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cache
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from ketasim.calibration.cohort import (
    STEP_H,
    ClinicalValues,
    Cohort,
    Group,
    cohort_jobs,
    noise_of,
    p_response,
    simulate_group,
)
from ketasim.calibration.reproduce import posterior_values
from ketasim.population import PopulationSpec
from ketasim.report.document import Figure, Report, Table
from ketasim.scenarios.base import Settings
from ketasim.symptoms.scales import load_scales
from ketasim.trials import analysis
from ketasim.trials.runner import run_trial
from ketasim.trials.spec import TrialSpec

SCALE = "MADRS"
KETAMINE = {
    "name": "ketamine",
    "drug": "ketamine-racemic",
    "dose": "0.5 mg/kg",
    "route": "iv-infusion",
    "over": "40 min",
}
MIDAZOLAM = {
    "name": "midazolam",
    "drug": "midazolam",
    "dose": "0.045 mg/kg",
    "route": "iv-infusion",
    "over": "40 min",
}
SALINE = {"name": "saline", "drug": "saline", "route": "iv-infusion", "over": "40 min"}
#: Visits: 230 min (where Niciu 2014 and Moaddel 2015 saw BMI and D-serine), 24 h, 1 week.
TIMES_H: dict[str, float] = {"230 min": 230.0 / 60.0, "24 h": 24.0, "1 week": 168.0}
ALPHA, POWER = 0.05, 0.80
BMI_CUT = 30.0
#: Enriched designs: covariate overrides of the trial population (docs/trial-spec.md).
ENRICHED: dict[str, dict[str, Any]] = {
    "unselected": {},
    "family history positive": {"fh_aud_share": 1.0},
    "family history positive and BMI >= 30": {
        "fh_aud_share": 1.0,
        "bmi_kg_m2": {"min": BMI_CUT},
    },
}


def trial_spec(
    patients_per_arm: int,
    arms: tuple[dict[str, Any], ...] = (KETAMINE, MIDAZOLAM, SALINE),
    covariates: dict[str, Any] | None = None,
    followup: str = "7 d",
    name: str = "subgroups",
) -> TrialSpec:
    """A parallel trial of ``arms``, MADRS >= 20 at screening, response at 24 h (and 1 week
    when followed that long) compared against midazolam."""
    endpoints = [{"name": "response_24h", "type": "response", "time": "24 h"}]
    if followup == "7 d":
        endpoints.append({"name": "response_1wk", "type": "response", "time": "7 d"})
    return TrialSpec.from_mapping(
        {
            "name": name,
            "population": {
                "size": patients_per_arm * len(arms),
                "inclusion": {"scale": SCALE, "min": 20},
                "covariates": covariates or {},
            },
            "design": {"type": "parallel"},
            "arms": [dict(a) for a in arms],
            "scale": SCALE,
            "followup": followup,
            "dropout": {"per_week": 0.0},
            "endpoints": endpoints,
            "comparisons": [{"arm": "ketamine", "vs": "midazolam", "endpoints": ["response_24h"]}],
        }
    )


@cache
def _solver() -> Cohort:
    """An empty cohort: its ``severities`` re-solves the symptom layer of any group."""
    return Cohort(trial_spec(10), [], 0)


def probabilities(group: Group, values: ClinicalValues) -> dict[str, np.ndarray]:
    """Each patient's expected probability of response at each time of ``TIMES_H``."""
    sev = _solver().severities(group, values)
    scale = load_scales()[SCALE]
    s = scale.score(sev)
    out = {}
    for label, t in TIMES_H.items():
        i = round(t / STEP_H)
        if i >= s.shape[1]:
            continue
        out[label] = p_response(s[:, 0], s[:, i], t, scale.measurement_error_sd, noise_of(values))
    return out


def patient_frame(groups: list[Group], values: ClinicalValues) -> pd.DataFrame:
    """Patients (covariates, replicate, arm) with their expected response probabilities."""
    frames = []
    for g in groups:
        f = g.patients.copy()
        for label, p in probabilities(g, values).items():
            f[f"p_response_{label}"] = p
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def subgroup_masks(frame: pd.DataFrame, d_serine_split: float) -> dict[str, dict[str, Any]]:
    """Covariate -> level -> boolean mask, the level expected to respond better first."""
    fh = frame["fh_aud"].to_numpy(dtype=bool)
    bmi = frame["bmi_kg_m2"].to_numpy(dtype=float)
    ds = frame["d_serine_um"].to_numpy(dtype=float)
    met = frame["met_alleles"].to_numpy(dtype=int)
    return {
        "family history of AUD": {"positive": fh, "negative": ~fh},
        "BMI": {f">= {BMI_CUT:g} kg/m2": bmi >= BMI_CUT, f"< {BMI_CUT:g} kg/m2": bmi < BMI_CUT},
        "D-serine": {
            f"low (< {d_serine_split:g} uM)": ds < d_serine_split,
            f"high (>= {d_serine_split:g} uM)": ds >= d_serine_split,
        },
        "BDNF Val66Met": {"Val/Val": met == 0, "Met carrier": met > 0},
    }


def observed_subgroups(frame: pd.DataFrame, d_serine_split: float) -> pd.DataFrame:
    """Subgroup rates by arm with intervals over replicate trials."""
    rows = []
    reps = sorted(frame["replicate"].unique())
    for covariate, levels in subgroup_masks(frame, d_serine_split).items():
        for level, mask in levels.items():
            for label in TIMES_H:
                col = f"p_response_{label}"
                if col not in frame:
                    continue
                per_rep: dict[str, list[float]] = {"ketamine": [], "midazolam": [], "diff": []}
                for r in reps:
                    sel = mask & (frame["replicate"] == r).to_numpy()
                    k = frame.loc[sel & (frame["arm"] == "ketamine").to_numpy(), col]
                    m = frame.loc[sel & (frame["arm"] == "midazolam").to_numpy(), col]
                    rk = float(k.mean()) if len(k) else float("nan")
                    rm = float(m.mean()) if len(m) else float("nan")
                    per_rep["ketamine"].append(rk)
                    per_rep["midazolam"].append(rm)
                    per_rep["diff"].append(rk - rm)
                sk = analysis.spread(per_rep["ketamine"])
                sd = analysis.spread(per_rep["diff"])
                sel_k = mask & (frame["arm"] == "ketamine").to_numpy()
                sel_m = mask & (frame["arm"] == "midazolam").to_numpy()
                rows.append(
                    {
                        "covariate": covariate,
                        "level": level,
                        "time": label,
                        "ketamine patients (n)": int(sel_k.sum()),
                        "ketamine response (fraction)": float(frame.loc[sel_k, col].mean()),
                        "ketamine 95% interval over replicates (fraction)": (
                            f"{sk.lo:.3f} to {sk.hi:.3f}"
                        ),
                        "midazolam response (fraction)": float(frame.loc[sel_m, col].mean()),
                        "ketamine - midazolam (fraction)": float(
                            frame.loc[sel_k, col].mean() - frame.loc[sel_m, col].mean()
                        ),
                        "difference 95% interval over replicates (fraction)": (
                            f"{sd.lo:.3f} to {sd.hi:.3f}"
                        ),
                    }
                )
    return pd.DataFrame(rows)


def counterfactual_levels(frame: pd.DataFrame, d_serine_split: float) -> dict[str, Any]:
    """The value each gain covariate is set to for each level: the median of the trial
    patients in that subgroup (so the contrast is between typical members)."""
    bmi = frame["bmi_kg_m2"].to_numpy(dtype=float)
    ds = frame["d_serine_um"].to_numpy(dtype=float)
    return {
        "bmi_high": float(np.median(bmi[bmi >= BMI_CUT])),
        "bmi_low": float(np.median(bmi[bmi < BMI_CUT])),
        "d_serine_low": float(np.median(ds[ds < d_serine_split])),
        "d_serine_high": float(np.median(ds[ds >= d_serine_split])),
    }


def _set(group: Group, **columns: Any) -> Group:
    patients = group.patients.copy()
    for name, value in columns.items():
        patients[name] = value
    return replace(group, patients=patients)


def counterfactual_rates(
    ketamine: list[Group],
    val_val: list[Group],
    met: list[Group],
    levels: dict[str, Any],
    values: ClinicalValues,
) -> dict[tuple[str, str, str], float]:
    """(covariate, level, time) -> the ketamine patients' mean expected response with the
    covariate set to the level for every patient, all else held."""
    cases: dict[tuple[str, str], list[Group]] = {
        ("family history of AUD", "positive"): [_set(g, fh_aud=True) for g in ketamine],
        ("family history of AUD", "negative"): [_set(g, fh_aud=False) for g in ketamine],
        ("BMI", f"{levels['bmi_high']:.1f} kg/m2"): [
            _set(g, bmi_kg_m2=levels["bmi_high"]) for g in ketamine
        ],
        ("BMI", f"{levels['bmi_low']:.1f} kg/m2"): [
            _set(g, bmi_kg_m2=levels["bmi_low"]) for g in ketamine
        ],
        ("D-serine", f"{levels['d_serine_low']:.2f} uM"): [
            _set(g, d_serine_um=levels["d_serine_low"]) for g in ketamine
        ],
        ("D-serine", f"{levels['d_serine_high']:.2f} uM"): [
            _set(g, d_serine_um=levels["d_serine_high"]) for g in ketamine
        ],
        ("BDNF Val66Met", "Val/Val"): val_val,
        ("BDNF Val66Met", "Val/Met"): met,
    }
    out = {}
    for (cov, level), groups in cases.items():
        frame = patient_frame(groups, values)
        for label in TIMES_H:
            col = f"p_response_{label}"
            if col in frame:
                out[(cov, level, label)] = float(frame[col].mean())
    return out


def patients_per_arm(p_treated: float, p_control: float) -> int:
    """Patients per arm for ``POWER`` at two-sided ``ALPHA`` (normal approximation on
    Cohen's h, statsmodels); a larger rate in the treated arm is assumed."""
    h = float(proportion_effectsize(p_treated, p_control))
    if not h > 0:
        return -1
    n = NormalIndPower().solve_power(effect_size=h, alpha=ALPHA, power=POWER, ratio=1.0)
    return math.ceil(float(n))


def check_trial(covariates: dict[str, Any], n_per_arm: int, seed: int) -> float:
    """One simulated two-arm trial (ketamine vs midazolam) of ``n_per_arm`` per arm; its
    Fisher's exact p for 24-h response."""
    spec = trial_spec(
        n_per_arm, (KETAMINE, MIDAZOLAM), covariates, followup="1 d", name="subgroups-check"
    )
    res = run_trial(spec, 1, seed)
    return float(res.comparisons["p"].iloc[0])


def _is_ketamine(job: tuple[Any, ...]) -> bool:
    return bool(job[2] == "ketamine")


def run(settings: Settings) -> Report:
    """Subgroups, augmentation and enriched-trial sample sizes."""
    followup = "1 d" if settings.quick else "7 d"
    spec = trial_spec(settings.patients, followup=followup)
    jobs = cohort_jobs(spec, settings.replicates, settings.seed)
    # counterfactual simulations of replicate 0's ketamine patients (mechanism covariates)
    rep0 = [(j[0], j[1][j[1]["replicate"] == 0], *j[2:]) for j in jobs]
    rep0 = [j for j in rep0 if len(j[1])]

    def variant(arms: tuple[str, ...], **columns: Any) -> list[tuple[Any, ...]]:
        out = []
        for j in rep0:
            if j[2] not in arms:
                continue
            p = j[1].copy()
            for k, v in columns.items():
                p[k] = v
            out.append((j[0], p, *j[2:]))
        return out

    every_arm = ("ketamine", "midazolam", "saline")
    extra = {
        "val_val": variant(("ketamine",), met_alleles=0),
        "val_met": variant(("ketamine",), met_alleles=1),
        # replicate 0 twice, differing only in comedication, so the comparison is free of the
        # solver's batch effects
        "none": variant(every_arm, comedication="none"),
        "antidepressants": variant(every_arm, comedication="antidepressants"),
    }
    all_jobs = jobs + [j for js in extra.values() for j in js]
    groups = list(settings.run_map(simulate_group, *zip(*all_jobs, strict=True)))
    main = groups[: len(jobs)]
    start = len(jobs)
    sim: dict[str, list[Group]] = {}
    for key, js in extra.items():
        sim[key] = groups[start : start + len(js)]
        start += len(js)

    current = ClinicalValues.current()
    frame = patient_frame(main, current)
    d_serine_split = float(PopulationSpec.default().d_serine_um.median or 4.0)
    observed = observed_subgroups(frame, d_serine_split)

    # (b) the model's contrasts on the same patients, with intervals over posterior draws
    # replicate 0's ketamine patients as simulated in the main run (chunks may mix replicates)
    ket_rep0 = _replicate0(main, jobs)
    levels = counterfactual_levels(frame, d_serine_split)
    draws, _ = posterior_values(settings.replicates, settings.seed)
    point_cf = counterfactual_rates(ket_rep0, sim["val_val"], sim["val_met"], levels, current)
    draw_cf = [
        counterfactual_rates(ket_rep0, sim["val_val"], sim["val_met"], levels, v) for v in draws
    ]
    cf_rows = []
    keys = list(point_cf)
    by_cov: dict[str, list[str]] = {}
    for cov, level, _t in keys:
        by_cov.setdefault(cov, [])
        if level not in by_cov[cov]:
            by_cov[cov].append(level)
    contrasts: dict[str, dict[str, float]] = {}
    for cov, (better, worse) in ((c, tuple(lv)) for c, lv in by_cov.items()):
        for label in _times(point_cf):
            a, b = point_cf[(cov, better, label)], point_cf[(cov, worse, label)]
            d = [dc[(cov, better, label)] - dc[(cov, worse, label)] for dc in draw_cf]
            s = analysis.spread(d)
            contrasts.setdefault(cov, {})[label] = a - b
            cf_rows.append(
                {
                    "covariate": cov,
                    "level expected better": better,
                    "other level": worse,
                    "time": label,
                    "response, better level (fraction)": a,
                    "response, other level (fraction)": b,
                    "difference (fraction)": a - b,
                    "difference 95% interval over posterior draws (fraction)": (
                        f"{s.lo:.3f} to {s.hi:.3f}"
                    ),
                }
            )
    counterfactual = pd.DataFrame(cf_rows)

    # (a) augmentation: replicate 0's patients without and with an antidepressant
    col24 = "p_response_24 h"
    aug_frames = {
        "no antidepressant": patient_frame(sim["none"], current),
        "on a monoaminergic antidepressant": patient_frame(sim["antidepressants"], current),
    }
    aug_gap = float(
        np.max(
            np.abs(
                aug_frames["no antidepressant"][col24].to_numpy()
                - aug_frames["on a monoaminergic antidepressant"][col24].to_numpy()
            )
        )
    )
    aug_draws = {
        pop: [patient_frame(sim[key], v) for v in draws]
        for pop, key in (
            ("no antidepressant", "none"),
            ("on a monoaminergic antidepressant", "antidepressants"),
        )
    }
    aug_rows = []
    for population, f in aug_frames.items():
        for comparator in ("saline", "midazolam"):
            for label in TIMES_H:
                col = f"p_response_{label}"
                if col not in f:
                    continue

                def gap(g: pd.DataFrame, col: str = col, comparator: str = comparator) -> float:
                    k = g.loc[g["arm"] == "ketamine", col].mean()
                    return float(k - g.loc[g["arm"] == comparator, col].mean())

                s = analysis.spread([gap(g) for g in aug_draws[population]])
                aug_rows.append(
                    {
                        "population": population,
                        "comparator": comparator,
                        "time": label,
                        "patients per arm (n)": int((f["arm"] == "ketamine").sum()),
                        "ketamine response (fraction)": float(
                            f.loc[f["arm"] == "ketamine", col].mean()
                        ),
                        "comparator response (fraction)": float(
                            f.loc[f["arm"] == comparator, col].mean()
                        ),
                        "difference (fraction)": gap(f),
                        "difference 95% interval over posterior draws (fraction)": (
                            f"{s.lo:.3f} to {s.hi:.3f}"
                        ),
                    }
                )
    augmentation = pd.DataFrame(aug_rows)

    # (c) enriched trials
    ket = frame[frame["arm"] == "ketamine"]
    mid = frame[frame["arm"] == "midazolam"]
    # an FH-positive population is the same patients with the family history set (it is
    # drawn independently of everything else); BMI >= 30 is the subset of them
    fh_pos = patient_frame(
        [_set(g, fh_aud=True) for g, j in zip(main, jobs, strict=True) if j[2] != "saline"],
        current,
    )
    fk = fh_pos[fh_pos["arm"] == "ketamine"]
    fm = fh_pos[fh_pos["arm"] == "midazolam"]
    rates = {
        "unselected": (float(ket[col24].mean()), float(mid[col24].mean())),
        "family history positive": (float(fk[col24].mean()), float(fm[col24].mean())),
        "family history positive and BMI >= 30": (
            float(fk.loc[fk["bmi_kg_m2"] >= BMI_CUT, col24].mean()),
            float(fm.loc[fm["bmi_kg_m2"] >= BMI_CUT, col24].mean()),
        ),
    }
    sizes = {name: patients_per_arm(*r) for name, r in rates.items()}
    check_reps = settings.replicates
    checked = [name for name in ENRICHED if sizes[name] > 0]
    if settings.quick and checked:
        # a first look checks only the smallest design (the others cost the most)
        checked = [min(checked, key=lambda name: sizes[name])]
    tasks = [
        (ENRICHED[name], sizes[name], settings.seed * 1000 + 17 * k + i)
        for i, name in enumerate(ENRICHED)
        for k in range(check_reps)
        if name in checked
    ]
    p_values = list(settings.run_map(check_trial, *zip(*tasks, strict=True))) if tasks else []
    size_rows = []
    pos = 0
    simulated_power: dict[str, float] = {}
    for name in ENRICHED:
        pk, pm = rates[name]
        if name in checked:
            ps = p_values[pos : pos + check_reps]
            pos += check_reps
            simulated_power[name] = analysis.power(ps)
        else:
            simulated_power[name] = float("nan")
        size_rows.append(
            {
                "design": name,
                "ketamine 24-h response (fraction)": pk,
                "midazolam 24-h response (fraction)": pm,
                "Cohen's h": float(proportion_effectsize(pk, pm)),
                "patients per arm for 80% power (n)": sizes[name],
                "patients in the trial (n)": 2 * sizes[name],
                "simulated trials (n)": check_reps,
                "share significant at that size (fraction)": simulated_power[name],
            }
        )
    sample_size = pd.DataFrame(size_rows)

    headline: dict[str, Any] = {
        "patients_simulated": len(frame),
        "ketamine_response_24h": rates["unselected"][0],
        "midazolam_response_24h": rates["unselected"][1],
        "fh_positive_minus_negative_24h": contrasts["family history of AUD"]["24 h"],
        "bmi_high_minus_low_230min": contrasts["BMI"]["230 min"],
        "d_serine_low_minus_high_230min": contrasts["D-serine"]["230 min"],
        "bmi_high_minus_low_24h": contrasts["BMI"]["24 h"],
        "d_serine_low_minus_high_24h": contrasts["D-serine"]["24 h"],
        "val_val_minus_met_24h": contrasts["BDNF Val66Met"]["24 h"],
        "antidepressant_comedication_max_abs_change_24h": aug_gap,
        "n_per_arm_unselected": sizes["unselected"],
        "n_per_arm_fh_positive": sizes["family history positive"],
        "n_per_arm_fh_positive_bmi_30": sizes["family history positive and BMI >= 30"],
        "simulated_power_unselected": simulated_power["unselected"],
        "simulated_power_fh_positive": simulated_power["family history positive"],
        "simulated_power_fh_positive_bmi_30": simulated_power[
            "family history positive and BMI >= 30"
        ],
    }
    if "1 week" in _times(point_cf):
        headline["fh_positive_minus_negative_1wk"] = contrasts["family history of AUD"]["1 week"]
        headline["bmi_high_minus_low_1wk"] = contrasts["BMI"]["1 week"]

    caveats = [
        "Patient values are expected probabilities of response (rating error and natural "
        "fluctuation integrated), so subgroup rates carry no rating noise; the simulated "
        "check of (c) uses observed ratings and Fisher's exact test.",
        "BMI, family history of alcohol use disorder and D-serine act on the clinical gains "
        "as statistical covariates: BMI and family history with sizes the calibration fitted "
        "to Niciu 2014's betas (data/calibrated/human.yaml), D-serine with a size set in "
        "data/population.yaml (Moaddel 2015; kind: assumed); their directions are inputs, and "
        "what the scenario adds is their size in response rates, in trials and in sample sizes.",
        "The Met allele acts through the mechanism (lower activity-dependent BDNF release and "
        "dendritic targeting of BDNF mRNA); both sizes are unverified in patients "
        "(mechanism-models.md section 6), the targeting loss is assumed.",
        "Monoaminergic antidepressants have no parameter in the model: a patient on one is "
        "simulated exactly as one without, so the augmentation answer is 'no difference' by "
        "construction (the maximum change shows it), not a finding. Rasmussen 2013 and "
        "Diamond 2014 kept patients on antidepressants; ketasim does not model an interaction.",
        "Observed subgroups differ in their other covariates and random effects only by "
        "chance; the model contrasts hold them fixed and use replicate 0's ketamine patients.",
        "The power formula is a normal approximation on Cohen's h; the check uses Fisher's "
        "exact test, which is conservative, so the simulated share can fall below 0.80; with "
        f"{check_reps} simulated trials its own binomial error is about "
        f"{math.sqrt(0.16 / check_reps):.2f}.",
        "The enriched designs assume recruitment can screen on family history and BMI and "
        "that the enriched population's other covariates are as in the unselected one.",
    ]
    early = float(ket["p_response_230 min"].mean())
    caveats.append(
        f"The model's expected 230-min response on ketamine is {early:.3f}; its size rests on "
        "the fast gain, which the calibration (24-h and 1-week counts) does not identify, so "
        "230-min contrasts are less certain than the 24-h ones."
    )
    caveats.append(
        "Observed BMI subgroups also differ in body weight: with mg/kg dosing and clearance "
        "scaling as weight^0.75 heavier patients have more exposure, which the model contrast "
        "(weight and PK held) leaves out."
    )
    if settings.quick:
        caveats.append(
            "--quick: followed 24 h only (no 1-week rates), and only the smallest design's "
            "sample size was checked by simulated trials."
        )
    caveats.append(
        "Point values use the calibrated (maximum a posteriori) parameters; intervals over "
        "posterior draws need not contain them."
    )
    return Report(
        name="subgroups",
        title="Subgroups, augmentation and enriched trials",
        question=(
            "Who responds (alcohol family history, BMI, D-serine, Val66Met), what does adding "
            "ketamine to an antidepressant give, and how large must an enriched trial be?"
        ),
        method=(
            f"{settings.replicates} replicate parallel trials of {settings.patients} patients "
            "per arm (ketamine 0.5 mg/kg IV over 40 min, midazolam 0.045 mg/kg, saline; MADRS "
            ">= 20 at screening), full model; each patient's expected probability of response "
            "at 230 min, 24 h and 1 week. Model contrasts set one covariate for the same patients "
            "(intervals over posterior draws). Sample sizes: statsmodels NormalIndPower on "
            "Cohen's h for 80 % power at two-sided alpha 0.05, checked by simulated trials."
        ),
        headline=headline,
        tables=[
            Table(
                "(a) Ketamine added to a monoaminergic antidepressant",
                augmentation,
                "Replicate 0's patients (all three arms) simulated without and with an "
                "antidepressant, all else the same; largest change in a patient's 24-h "
                f"probability: {aug_gap:.3g}.",
            ),
            Table("(b) Response by subgroup, as a trial sees it", observed),
            Table(
                "(b) Model contrasts: the same patients with the covariate at each level",
                counterfactual,
                "BMI and D-serine levels are the medians of the trial patients on each side "
                "of the split; Val66Met compares all Val/Val with all Val/Met.",
            ),
            Table("(c) Patients per arm for 80 % power against midazolam", sample_size),
        ],
        figures=[_figure(observed, sample_size)],
        caveats=caveats,
    )


def _replicate0(main: list[Group], jobs: list[tuple[Any, ...]]) -> list[Group]:
    """Replicate 0's ketamine patients, in the order of the counterfactual jobs."""
    out = []
    for g, j in zip(main, jobs, strict=True):
        if not _is_ketamine(j):
            continue
        rows = (g.patients["replicate"] == 0).to_numpy()
        if not rows.any():
            continue
        out.append(
            replace(
                g,
                patients=g.patients[rows].reset_index(drop=True),
                fbar=g.fbar[rows],
                restoration=g.restoration[rows],
                surge=g.surge[rows],
                placebo=g.placebo[rows],
                felt=g.felt[rows],
            )
        )
    return out


def _times(rates: dict[tuple[str, str, str], float]) -> list[str]:
    return [t for t in TIMES_H if any(k[2] == t for k in rates)]


def _figure(observed: pd.DataFrame, sample_size: pd.DataFrame) -> Figure:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    sub = observed[observed["time"] == "24 h"].reset_index(drop=True)
    x = np.arange(len(sub))
    ax1.bar(x - 0.2, sub["ketamine response (fraction)"], 0.4, label="ketamine")
    ax1.bar(x + 0.2, sub["midazolam response (fraction)"], 0.4, label="midazolam")
    ax1.set_xticks(
        x,
        [f"{c}: {lv}" for c, lv in zip(sub["covariate"], sub["level"], strict=True)],
        rotation=40,
        ha="right",
        fontsize=7,
    )
    ax1.set_ylabel("expected 24-h MADRS response (fraction)")
    ax1.legend(fontsize=7)
    ax1.set_title("by subgroup (all replicates)", fontsize=9)
    names = list(sample_size["design"])
    ax2.bar(np.arange(len(names)), sample_size["patients per arm for 80% power (n)"])
    ax2.set_xticks(np.arange(len(names)), names, rotation=20, ha="right", fontsize=7)
    ax2.set_ylabel("patients per arm for 80 % power (n)")
    ax2.set_title("enriched vs unselected, against midazolam", fontsize=9)
    return Figure.from_matplotlib(
        fig,
        "Response by subgroup and the size of an enriched trial",
        "Left: expected 24-h response by subgroup in the ketamine and midazolam arms. Right: "
        "patients per arm for 80 % power at two-sided alpha 0.05 (statsmodels, Cohen's h).",
    )


__all__ = ["ENRICHED", "counterfactual_rates", "patients_per_arm", "run", "trial_spec"]
