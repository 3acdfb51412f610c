"""What each endpoint computes, from the public API, as plain JSON-ready data.

Nothing here knows HTTP: functions take validated request models or plain mappings and
return dictionaries (or raise :class:`~ketasim.errors.KetasimInputError`), so the job
process and the routes share them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ketasim.api import build_regimen, simulate
from ketasim.data import SPECIES, drug_names, load_drug
from ketasim.errors import KetasimInputError, UnknownNameError
from ketasim.experiments import experiment_names, load_experiment, run_experiment
from ketasim.pk.regimen import Regimen
from ketasim.population import PopulationSpec, sample_patients
from ketasim.population.covariates import DIMENSIONS
from ketasim.trials import TrialSpec, run_trial
from ketasim.trials.analysis import spread
from ketasim.units import parse_time_h, parse_weight_kg
from ketasim.web.limits import Limits
from ketasim.web.models import Covariates, SimulateRequest

#: Unit of a time-course column, read from the end of its name.
_SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_ng_per_ml", "ng/mL"),
    ("_um", "µM"),
    ("_fraction", "fraction"),
    ("_rel", "relative to baseline"),
    ("_points", "points"),
    ("_mmhg", "mmHg"),
    ("_bpm", "beats/min"),
    ("_density", "of healthy density"),
    ("_s", "s"),
)

log = logging.getLogger("ketasim.web")


def column_unit(column: str) -> str:
    """The unit of a time-course column, for axis titles (``madrs_points`` -> points)."""
    for suffix, unit in _SUFFIX_UNITS:
        if column.endswith(suffix):
            return unit
    return ""


def _floats(values: Iterable[float], digits: int = 6) -> list[float | None]:
    """JSON numbers: ``digits`` significant digits; NaN and infinities as null."""
    out: list[float | None] = []
    for v in values:
        x = float(v)
        out.append(float(f"{x:.{digits}g}") if math.isfinite(x) else None)
    return out


# --- simulate -------------------------------------------------------------------------------


def output_times(regimen: Regimen | None, until_h: float, points: int) -> np.ndarray:
    """``points`` even times and a fifth as many log-spaced from 1 min (the first minutes
    stay legible on a long run), plus every dose start and end: peaks are not missed."""
    grid = np.linspace(0.0, until_h, points)
    early: np.ndarray = (
        np.geomspace(1.0 / 60.0, until_h, max(points // 5, 2)) if until_h > 1 / 60 else np.empty(0)
    )
    events: list[float] = []
    if regimen is not None:
        events = [t for t, d in regimen.doses] + [t + d.duration_h for t, d in regimen.doses]
    return np.unique(np.concatenate([grid, early, [e for e in events if 0 <= e <= until_h]]))


def _regimen_for_times(req: SimulateRequest) -> Regimen | None:
    """The regimen, built only to place output times; a mistake is left for simulate to
    report (it names the field and checks the drug first)."""
    try:
        placebo = load_drug(req.drug).is_placebo
        rates = [(s.rate, s.duration) for s in req.rates] if req.rates else None
        dose = req.dose if req.dose is not None or rates else ("0 mg" if placebo else None)
        return build_regimen(
            dose,
            req.route,
            req.over,
            every=req.every,
            count=req.count,
            schedule=req.schedule,
            rates=rates,
        )
    except KetasimInputError:
        return None


def _patients(cov: Covariates, n: int, weight_kg: float, seed: int) -> pd.DataFrame:
    """``n`` identical patients with these covariates and no random effects."""
    frame = sample_patients(PopulationSpec.default(), n, seed)
    frame["weight_kg"] = weight_kg
    frame["bmi_kg_m2"] = cov.bmi_kg_m2
    frame["bipolar"] = cov.bipolar
    frame["comedication"] = cov.comedication
    frame["met_alleles"] = cov.met_alleles
    frame["fh_aud"] = cov.fh_aud
    frame["suicide_attempt"] = cov.suicide_attempt
    frame["d_serine_um"] = cov.d_serine_um
    frame["shank3_z"] = cov.shank3_z
    for d in DIMENSIONS:
        frame[f"severity_{d}"] = cov.severity
    for z in ("z_fast", "z_sustained", "z_placebo", "z_relapse"):
        frame[z] = 0.0
    return frame


def simulation(req: SimulateRequest, limits: Limits) -> dict[str, Any]:
    """Simulate a request (``ketasim simulate``) and shape the result for the page."""
    limits.check_patients("n_patients", req.n_patients)
    if req.n_patients < 1:
        raise KetasimInputError("n_patients", req.n_patients, "a whole number, 1 or more")
    until_h = parse_time_h(req.until, "until")
    limits.check_duration("until", req.until, until_h)
    patients = None
    if req.covariates is not None:
        if req.species != "human":
            raise KetasimInputError("covariates", req.species, "covariates of human patients")
        load_drug(req.drug)  # an unknown drug is reported before anything else
        weight_kg = SPECIES["human"] if req.weight is None else parse_weight_kg(req.weight)
        patients = _patients(req.covariates, req.n_patients, weight_kg, req.seed)
    times = None
    if until_h > 0:
        times = output_times(_regimen_for_times(req), until_h, req.points)
    result = simulate(
        req.drug,
        dose=req.dose,
        route=req.route,
        over=req.over,
        every=req.every,
        count=req.count,
        schedule=req.schedule,
        rates=[(s.rate, s.duration) for s in req.rates] if req.rates else None,
        species=req.species,
        weight=None if patients is not None else req.weight,
        n_patients=req.n_patients,
        variability=req.variability,
        seed=req.seed,
        until=req.until,
        times_h=times,
        bioavailability=req.bioavailability,
        allow_anesthetic=req.allow_anesthetic,
        patients=patients,
    )
    tc = result.timecourse
    present = [c for c in tc.columns if c not in ("patient", "t_h")]
    columns = present
    if req.columns is not None:
        unknown = [c for c in req.columns if c not in present]
        if unknown:
            raise KetasimInputError(
                "columns", unknown[0], f"columns of this simulation: {', '.join(present)}"
            )
        columns = list(req.columns)
    n_pat = int(tc["patient"].max()) + 1
    n_t = len(result.times_h)
    first = tc[tc["patient"] == 0]
    band = None
    if n_pat > 1:
        band = {}
        for c in columns:
            lo, mid, hi = np.percentile(tc[c].to_numpy().reshape(n_pat, n_t), [5, 50, 95], axis=0)
            band[c] = {"lo": _floats(lo), "median": _floats(mid), "hi": _floats(hi)}
    summary = [
        {k: (v if k in ("patient", "analyte") else float(v)) for k, v in row.items()}
        for row in result.summary.to_dict(orient="records")
    ]
    wanted = set(columns)
    return {
        "drug": result.drug,
        "species": result.species,
        "plasma_site": result.plasma_site,
        "regimen": repr(result.regimen),
        "n_patients": n_pat,
        "layers": {
            layer: [c for c in cols if c in wanted]
            for layer, cols in result.columns_by_layer.items()
        },
        "units": {c: column_unit(c) for c in columns},
        "summary": summary,
        "t_h": _floats(result.times_h, 8),
        "timecourse": {c: _floats(first[c].to_numpy()) for c in columns},
        "band": band,
    }


# --- drugs ----------------------------------------------------------------------------------


def drugs() -> list[dict[str, Any]]:
    """Every library drug with the routes each species has."""
    out = []
    for name in drug_names():
        drug = load_drug(name)
        species = {}
        for sp, pk in drug.species.items():
            anesthetic = pk.anesthetic_dose_mg_per_kg
            species[sp] = {
                "routes": sorted(set(pk.intravenous_routes) | set(pk.routes)),
                "reference_weight_kg": pk.reference_weight_kg,
                "sampling": pk.sampling,
                "anesthetic_dose_mg_per_kg": None if anesthetic is None else anesthetic.value,
            }
        out.append(
            {
                "name": drug.name,
                "display_name": drug.display_name,
                "description": " ".join(drug.description.split()),
                "placebo": drug.is_placebo,
                "species": species,
            }
        )
    return out


# --- trials ---------------------------------------------------------------------------------


def _study_folder() -> Path:
    return Path(str(resources.files("ketasim.data") / "trials"))


def trial_spec_files(examples: Path | None) -> dict[str, tuple[str, Path]]:
    """Spec files a user can pick by name: the shipped studies, then the examples.

    The examples folder also holds files that are not trial specs (a patient file, a user's
    draft with a mistake): those are left out, never a reason for the listing to fail."""
    files = {p.stem: ("study", p) for p in sorted(_study_folder().glob("*.yaml"))}
    if examples is not None and examples.is_dir():
        for p in sorted(examples.glob("*.yaml")):
            if p.stem in files:
                continue
            try:
                TrialSpec.from_yaml(p)
            except KetasimInputError as exc:
                log.info("examples: %s is not a trial spec (%s); not offered", p.name, exc)
                continue
            files[p.stem] = ("example", p)
    return files


def trial_specs(examples: Path | None) -> list[dict[str, Any]]:
    """The pickable specs with their text (the page shows and edits it)."""
    out = []
    for name, (origin, path) in trial_spec_files(examples).items():
        spec = TrialSpec.from_yaml(path)
        out.append(
            {
                "name": name,
                "origin": origin,
                "description": spec.description,
                "observed": len(spec.observed),
                "text": path.read_text(encoding="utf-8"),
            }
        )
    return out


def _spec_error(exc: KetasimInputError, prefix: str) -> KetasimInputError:
    field = exc.field if exc.field.startswith(prefix) else f"{prefix}.{exc.field}"
    return KetasimInputError(field, exc.value, exc.allowed)


def load_trial_spec(
    spec: dict[str, Any] | None,
    spec_yaml: str | None,
    spec_name: str | None,
    examples: Path | None,
) -> TrialSpec:
    """The spec of a trial request: exactly one of JSON, YAML text or a pickable name."""
    options = (("spec", spec), ("spec_yaml", spec_yaml), ("spec_name", spec_name))
    given = [k for k, v in options if v is not None]
    if len(given) != 1:
        raise KetasimInputError(
            "spec", ", ".join(given) or None, "exactly one of spec, spec_yaml or spec_name"
        )
    if spec_name is not None:
        files = trial_spec_files(examples)
        if spec_name not in files:
            raise UnknownNameError("spec_name", spec_name, files)
        return TrialSpec.from_yaml(files[spec_name][1])
    raw: object = spec
    field = "spec"
    if spec_yaml is not None:
        field = "spec_yaml"
        try:
            raw = yaml.safe_load(spec_yaml)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "the text"
            raise KetasimInputError("spec_yaml", where, "valid YAML") from None
    try:
        return TrialSpec.from_mapping(raw)
    except KetasimInputError as exc:
        raise _spec_error(exc, field) from None


def observed_beside(spec: TrialSpec, result: Any, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Each published outcome of ``spec.observed`` beside its prediction: an arm's endpoint,
    a comparison (``vs``), or the arms pooled; null where the two do not measure the same
    thing (a count of responders still in response ``at`` a day, against a median time)."""
    arms = {a["name"]: a["endpoints"] for a in summary["arms"]}
    comps = {(c["endpoint"], c["arm"], c["vs"]): c for c in summary["comparisons"]}
    out = []
    for o in spec.observed:
        value = o.k / o.n if o.k is not None and o.n is not None else o.value
        predicted: dict[str, Any] | None = None
        endpoint = spec.endpoint(o.endpoint)
        if o.at is not None or (o.k is not None and not endpoint.is_rate):
            predicted = None
        elif o.vs is not None:
            c = comps.get((o.endpoint, o.arm, o.vs))
            predicted = None if c is None else {k: c[k] for k in ("median", "lo", "hi")}
        elif o.arm == "pooled":
            predicted = _pooled(result.arm_summary, o.endpoint)
        else:
            predicted = arms.get(o.arm, {}).get(o.endpoint)
        inside = None
        if predicted is not None and value is not None:
            lo, hi = predicted.get("lo"), predicted.get("hi")
            if lo is not None and hi is not None:
                inside = bool(lo - 1e-9 <= value <= hi + 1e-9)
        out.append(
            {
                "endpoint": o.endpoint,
                "arm": o.arm,
                "vs": o.vs,
                "k": o.k,
                "n": o.n,
                "observed": None if value is None else round(float(value), 6),
                "ci95": None if o.ci95 is None else list(o.ci95),
                "predicted": predicted,
                "inside": inside,
                "note": (o.note or "") + (f" (at {o.at})" if o.at else ""),
            }
        )
    return out


def _pooled(arm_summary: pd.DataFrame, endpoint: str) -> dict[str, Any] | None:
    """Median and 95 % range over replicates of the rate of all arms together."""
    rows = arm_summary[arm_summary["endpoint"] == endpoint]
    if rows.empty:
        return None
    weighted = rows.assign(k=rows["value"] * rows["n"]).groupby("replicate")[["k", "n"]].sum()
    s = spread((weighted["k"] / weighted["n"]).to_numpy(dtype=float))
    return {k: _floats([getattr(s, k)], 6)[0] for k in ("median", "lo", "hi")}


def trial_job_result(
    request: dict[str, Any], progress: Callable[[float, str], None] | None = None
) -> dict[str, Any]:
    """Run a trial job's request (``{"spec": mapping, "replicates", "seed"}``)."""
    spec = TrialSpec.from_mapping(request["spec"])
    replicates, seed = int(request["replicates"]), int(request["seed"])
    say = progress or (lambda _f, _n: None)
    say(0.0, f"simulating {replicates} replicate trials of {spec.population.size} patients")

    def step(done: int, total: int) -> None:
        say(done / total, f"{done} of {total} arm groups simulated")

    result = run_trial(spec, replicates=replicates, seed=seed, progress=step)
    out = result.to_json()
    out["observed"] = observed_beside(spec, result, out)
    out["description"] = spec.description
    out["scale"] = spec.scale
    return out


# --- experiments ----------------------------------------------------------------------------


def experiments() -> list[dict[str, Any]]:
    out = []
    for name in experiment_names():
        exp = load_experiment(name)
        out.append(
            {
                "name": exp.name,
                "source": exp.source,
                "species": exp.species,
                "claim": exp.claim,
                "expectations": [e.text for e in exp.expectations],
                "conditions": list(exp.conditions),
                "readouts": [r.name for r in exp.readouts],
            }
        )
    return out


def experiment_run(name: str) -> dict[str, Any]:
    """Run a shipped experiment (by name only: a path would read a file of the server)."""
    if name not in experiment_names():
        raise UnknownNameError("experiment", name, experiment_names())
    start = time.perf_counter()
    result = run_experiment(load_experiment(name))
    out = result.to_json()
    out["species"] = result.experiment.species
    traces = []
    for readout in result.experiment.readouts:
        lo, hi = readout.times_h()
        series = {}
        for cond, tc in result.timecourses.items():
            if readout.output in tc.columns:
                series[cond] = {
                    "t_h": _floats(tc["t_h"].to_numpy(), 8),
                    "values": _floats(tc[readout.output].to_numpy()),
                }
        traces.append(
            {
                "name": readout.name,
                "output": readout.output,
                "unit": column_unit(readout.output),
                "window_h": [lo, hi],
                "conditions": series,
            }
        )
    out["traces"] = traces
    out["elapsed_s"] = round(time.perf_counter() - start, 3)
    return _finite(out)


def _finite(obj: Any) -> Any:
    """A copy with NaN and infinities as null (JSON has neither)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


__all__ = [
    "column_unit",
    "drugs",
    "experiment_run",
    "experiments",
    "load_trial_spec",
    "observed_beside",
    "output_times",
    "simulation",
    "trial_job_result",
    "trial_spec_files",
    "trial_specs",
]
