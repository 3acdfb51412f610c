"""The public Python API: ``ketasim.simulate(...)`` returning tidy results.

>>> import ketasim
>>> res = ketasim.simulate("ketamine-racemic", dose="0.5 mg/kg", route="iv-infusion",
...                        over="40 min", weight="70 kg", until="24 h")
>>> res.summary            # Cmax, Tmax, AUC per analyte at the sampling site
>>> res.timecourse         # one row per patient and time, one column per output

Concentration columns are named ``<analyte>_<site>_ng_per_ml`` and ``<analyte>_<site>_um``
with sites ``plasma`` (the species' sampling site: venous blood in humans, as in the
depression trials; arterial in rodents), ``arterial`` (the model's central compartment) and
``brain`` (the effect site: plasma-equivalent concentration in humans, tissue concentration
``Kp * Ce`` where the drug file gives a brain:plasma ratio).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ketasim.data import SPECIES
from ketasim.data.spec import Drug
from ketasim.engine import SolveOptions, integrate
from ketasim.errors import KetasimInputError, RegimenError, UnknownNameError
from ketasim.model import ChainModel, Model, Perturbations, as_drug, build_chain, build_model
from ketasim.pk.compartments import SITES, aucs, concentrations
from ketasim.pk.regimen import Dose, Regimen
from ketasim.population import Individual, PopulationParams, individual_parameters
from ketasim.units import parse_time_h, parse_weight_kg

#: Outputs of the mechanistic layers: name -> (layer, timecourse column with its unit).
LAYER_OUTPUTS: dict[str, tuple[str, str]] = {
    "block_interneuron": ("receptor", "block_interneuron_fraction"),
    "block_pyramidal": ("receptor", "block_pyramidal_fraction"),
    "block_rest": ("receptor", "block_rest_fraction"),
    "block_rest_open": ("receptor", "block_rest_open_fraction"),
    "interneuron_rate": ("circuit", "interneuron_rate_rel"),
    "pyramidal_rate": ("circuit", "pyramidal_rate_rel"),
    "glutamate": ("circuit", "glutamate_rel"),
    "glutamate_surge": ("circuit", "glutamate_surge_rel"),
    "ampa_drive": ("circuit", "ampa_drive_rel"),
    "eef2k_activity": ("signalling", "eef2k_activity_rel"),
    "p_eef2": ("signalling", "p_eef2_fraction"),
    "bdnf_dendritic": ("signalling", "bdnf_dendritic_rel"),
    "bdnf_release": ("signalling", "bdnf_release_rel"),
    "trkb_active": ("signalling", "trkb_active_rel"),
    "akt_active": ("signalling", "akt_active_rel"),
    "mtor_active": ("signalling", "mtor_active_rel"),
    "gsk3_active": ("signalling", "gsk3_active_rel"),
    "bdnf_mrna": ("signalling", "bdnf_mrna_rel"),
    "potentiation": ("signalling", "potentiation_rel"),
    "synaptic_drive": ("signalling", "synaptic_drive_rel"),
    "mu_opioid_occupancy": ("receptor", "mu_opioid_occupancy_fraction"),
    "synaptic_proteins": ("signalling", "synaptic_proteins_rel"),
    "spines_new": ("synapse", "spines_new_density"),
    "spines_mushroom": ("synapse", "spines_mushroom_density"),
    "spine_restoration": ("synapse", "spine_restoration_fraction"),
    "tolerance": ("synapse", "tolerance_rel"),
    "fast_drive": ("symptoms", "fast_drive_rel"),
    "placebo_effect": ("symptoms", "placebo_effect_fraction"),
    "cadss": ("symptoms", "cadss_points"),
    "bprs_positive": ("symptoms", "bprs_positive_points"),
    "sbp_mmhg": ("symptoms", "sbp_mmhg"),
    "heart_rate_bpm": ("symptoms", "heart_rate_bpm"),
    "sedation": ("symptoms", "sedation_fraction"),
    "fst_immobility": ("symptoms", "fst_immobility_s"),
}
LAYERS: tuple[str, ...] = ("pk", "receptor", "circuit", "signalling", "synapse", "symptoms")


def _layer_column(name: str) -> tuple[str, str] | None:
    if name in LAYER_OUTPUTS:
        return LAYER_OUTPUTS[name]
    if name.startswith("severity_"):
        return "symptoms", f"{name}_fraction"
    if name.startswith("score_"):
        return "symptoms", f"{name.removeprefix('score_').replace('-', '_').lower()}_points"
    return None


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` returns.

    Attributes
    ----------
    timecourse
        Tidy frame: ``patient``, ``t_h`` and one column per output.
    summary
        One row per patient and analyte: ``cmax_ng_per_ml``, ``cmax_um``, ``tmax_h``,
        ``auc_ng_h_per_ml`` (0 to the end of the simulation) at the ``plasma`` site, and the
        brain effect-site peak.
    regimen, drug, species
        What was simulated.
    plasma_site
        ``venous`` or ``arterial``: what ``plasma`` means for this species.
    """

    timecourse: pd.DataFrame
    summary: pd.DataFrame
    regimen: Regimen
    drug: str
    species: str
    plasma_site: str
    states: np.ndarray = field(repr=False)
    state_names: tuple[str, ...] = field(repr=False)
    weights_kg: np.ndarray = field(repr=False)
    times_h: np.ndarray = field(repr=False)
    columns_by_layer: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def to_json_dict(self, patient: int = 0) -> dict[str, Any]:
        """``{"summary": {...}, "timecourse": [...]}`` for one patient (the CLI's --json)."""
        summ = self.summary[self.summary["patient"] == patient]
        numbers = ("cmax_ng_per_ml", "cmax_um", "tmax_h", "auc_ng_h_per_ml", "brain_cmax_ng_per_ml")
        summary: dict[str, dict[str, Any]] = {}
        for record in summ.to_dict(orient="records"):
            entry: dict[str, Any] = {key: float(record[key]) for key in numbers}
            entry["site"] = self.plasma_site
            summary[str(record["analyte"])] = entry
        tc = self.timecourse[self.timecourse["patient"] == patient].drop(columns="patient")
        return {
            "drug": self.drug,
            "species": self.species,
            "plasma_site": self.plasma_site,
            "regimen": repr(self.regimen),
            "layers": {k: list(v) for k, v in self.columns_by_layer.items()},
            "summary": summary,
            "timecourse": tc.to_dict(orient="records"),
        }


def _default_times(regimen: Regimen, until_h: float) -> np.ndarray:
    """An output grid fine enough to see infusion peaks (at least one point a minute, up to
    2000 points, plus 300 log-spaced points from 1 min), plus every dose start and end."""
    step_h = max(1.0 / 60.0, until_h / 2000.0)
    grid = np.arange(0.0, until_h + 1e-12, step_h)
    events = [t for t, d in regimen.doses] + [t + d.duration_h for t, d in regimen.doses]
    # a log-spaced set keeps the first minutes legible on long simulations
    early: np.ndarray = (
        np.geomspace(1.0 / 60.0, until_h, 300) if until_h > 1.0 / 60.0 else np.empty(0)
    )
    events_in = [e for e in events if e <= until_h]
    times = np.unique(np.concatenate([grid, early, [until_h], events_in]))
    return times


def build_regimen(
    dose: str | None = None,
    route: str = "iv-infusion",
    over: str | None = None,
    *,
    every: str | None = None,
    count: int | None = None,
    schedule: Sequence[str] | None = None,
    rates: Sequence[tuple[str, str]] | None = None,
    start: str = "0 h",
) -> Regimen:
    """A regimen from the flat options the CLI and web forms use."""
    if rates:
        if dose is not None:
            raise RegimenError("dose", dose, "give either a dose or rate steps, not both")
        single = Dose.steps(rates)
    else:
        if dose is None:
            raise RegimenError("dose", None, "a dose is required, e.g. '0.5 mg/kg' or '50 mg'")
        single = Dose(dose, route=route, over=over)
    if schedule is not None and (every is not None or count is not None):
        raise RegimenError("schedule", schedule, "give either --schedule or --every/--count")
    if schedule is not None:
        return Regimen.at(list(schedule), single)
    if every is not None or count is not None:
        if every is None or count is None:
            raise RegimenError("every", every, "--every and --count go together")
        return Regimen.every(every, single, count=count, start=start)
    return Regimen.single(single, at=start)


def simulate(
    drug: str | Drug,
    regimen: Regimen | None = None,
    *,
    dose: str | None = None,
    route: str = "iv-infusion",
    over: str | None = None,
    every: str | None = None,
    count: int | None = None,
    schedule: Sequence[str] | None = None,
    rates: Sequence[tuple[str, str]] | None = None,
    species: str = "human",
    weight: str | Sequence[str] | None = None,
    n_patients: int = 1,
    variability: bool = False,
    seed: int = 0,
    until: str = "24 h",
    times_h: Sequence[float] | np.ndarray | None = None,
    bioavailability: dict[str, str] | None = None,
    allow_anesthetic: bool = False,
    solver: SolveOptions | None = None,
    per_patient: Sequence[Regimen] | None = None,
    weights_kg: Sequence[float] | None = None,
    mechanism: bool = True,
    perturbations: Perturbations | Mapping[str, Any] | None = None,
    co_drug: str | None = None,
    co_regimen: Regimen | None = None,
    patients: pd.DataFrame | None = None,
    individual: Individual | None = None,
    patient_ids: Sequence[int] | np.ndarray | None = None,
) -> SimulationResult:
    """Simulate plasma and brain concentrations of a drug for one or many patients.

    Parameters
    ----------
    drug
        Library name (``ketamine-racemic``, ``esketamine``, ``memantine``...), or a drug
        spec: a virtual compound made with :meth:`~ketasim.data.spec.Drug.replace`.
    regimen
        A :class:`~ketasim.pk.regimen.Regimen`; or build one from ``dose``, ``route``,
        ``over``, ``every``/``count``, ``schedule`` or ``rates``.
    species
        ``human`` (default 70 kg), ``mouse`` (25 g) or ``rat`` (250 g).
    weight
        Body weight with unit ("70 kg"), or one per patient; default the species' weight.
    n_patients
        Number of virtual patients (they differ only with ``variability=True``).
    variability
        Draw each patient's CL, V, ka and F from the drug file's log-normal variability.
    seed
        Seed of the variability draws; patient i's draws depend only on (seed, i).
    until
        End of the simulation ("24 h", "14 d").
    times_h
        Output times in hours (default: a grid of at least one point a minute up to 2000
        points, plus every dose start and end).
    bioavailability
        Route -> named published reading (``{"intranasal": "yanagihara-2003"}``).
    allow_anesthetic
        Simulate doses that reach anaesthetic exposure (refused by default).
    solver
        Engine options (method, tolerances, chunk size).
    per_patient
        One regimen per patient (from an event table); overrides ``regimen``.
    weights_kg
        Body weights in kg, one per patient, already parsed (an event table's WT column).
    mechanism
        Follow the dose through receptor, circuit, signalling, synapse and symptoms (the
        default); ``False`` simulates the pharmacokinetics alone (faster).
    perturbations
        Interventions for in-silico experiments (:class:`~ketasim.model.Perturbations`:
        rapamycin, anisomycin, BDNF knockout, lithium, NBQX, Mg2+ level, hypotheses...).
    co_drug, co_regimen
        A second drug and its regimen, given before or with the first (``Regimen.single(...,
        at=...)`` places it in time); its blockers compete with the first drug's at the
        receptor, and its concentrations get columns of their own. Needs ``mechanism``.
    patients
        Virtual patients (a :func:`ketasim.population.sample_patients` table): their weights,
        baseline severities, covariate effects and random effects; sets ``n_patients`` and the
        weights, and their ``patient`` ids seed the PK variability.
    individual
        Per-patient model factors already computed (what ``patients`` is turned into).
    patient_ids
        Ids that seed each patient's PK variability (default 0, 1, ...).

    Returns
    -------
    SimulationResult
    """
    spec = as_drug(drug)  # an unknown drug is the first thing to report
    perturbations = _perturbations(perturbations)
    if patients is not None:
        individual = individual_parameters(patients, PopulationParams.load())
        weights_kg = list(patients["weight_kg"].to_numpy(dtype=float))
        n_patients = len(patients)
        if patient_ids is None:
            patient_ids = patients["patient"].to_numpy()
    if individual is not None and not mechanism:
        raise KetasimInputError("patients", "given", "virtual patients need mechanism=True")
    if species not in SPECIES:
        raise UnknownNameError("species", species, SPECIES)
    if per_patient is not None:
        listed = list(per_patient)
        if not listed:
            raise RegimenError("events", "no patients", "an event table needs at least one dose")
        n_patients = len(listed)
        regimen = sum(listed[1:], listed[0])
    elif regimen is None:
        if spec.is_placebo and rates is None:
            if dose is not None and Dose(dose, route=route, over=over).amount > 0:
                raise RegimenError(
                    "dose", dose, f"{spec.name} contains no drug: leave the dose out"
                )
            dose = "0 mg"  # saline: an administration without drug
        regimen = build_regimen(
            dose, route, over, every=every, count=count, schedule=schedule, rates=rates
        )
    if not regimen.doses:
        raise RegimenError("regimen", repr(regimen), "a regimen needs at least one dose")
    if not isinstance(n_patients, int) or isinstance(n_patients, bool) or n_patients < 1:
        raise KetasimInputError("n_patients", n_patients, "a whole number, 1 or more")
    weights = (
        _weights(weight, species, n_patients)
        if weights_kg is None
        else np.asarray(weights_kg, dtype=float)
    )
    if weights.size != n_patients or np.any(~(weights > 0)):
        raise KetasimInputError("weight", list(weights), f"{n_patients} weights above 0 kg")
    until_h = parse_time_h(until, "until")
    if until_h <= 0:
        raise KetasimInputError("until", until, "the simulation must end after time zero")
    if times_h is None:
        t = _default_times(regimen, until_h)
    else:
        t = np.asarray(times_h, dtype=float)
        if t.ndim != 1 or t.size == 0 or np.any(np.diff(t) <= 0) or t[0] < 0:
            raise KetasimInputError("times", list(t), "increasing times of 0 h or later")
    regimens: list[Regimen] | None = list(per_patient) if per_patient is not None else None
    if (co_drug is None) != (co_regimen is None):
        raise KetasimInputError("co_drug", co_drug, "a second drug and its regimen together")
    if co_drug is not None and not mechanism:
        raise KetasimInputError("co_drug", co_drug, "a second drug needs mechanism=True")
    if mechanism or spec.is_placebo:
        chain = build_chain(
            drug,
            species,
            regimen.routes,
            weights,
            seed=seed,
            variability=variability,
            perturbations=perturbations,
            co_drug=co_drug,
            co_routes=co_regimen.routes if co_regimen is not None else (),
            individual=individual,
            patient_ids=None if patient_ids is None else np.asarray(patient_ids),
        )
        bps = chain.breakpoints(regimen, bioavailability, allow_anesthetic, regimens, co_regimen)
        y = integrate(chain.system, chain.system.initial_state(), bps, t, solver)
        return _result(chain.pk, regimen, t, y, chain, weights, species)
    model = build_model(
        drug,
        species,
        regimen.routes,
        weights,
        seed=seed,
        variability=variability,
        patient_ids=None if patient_ids is None else np.asarray(patient_ids),
    )
    if regimens is not None:
        breakpoints = model.breakpoints_per_patient(regimens, bioavailability, allow_anesthetic)
    else:
        breakpoints = model.breakpoints(regimen, bioavailability, allow_anesthetic)
    y = integrate(model.system(), model.initial_state(), breakpoints, t, solver)
    return _result(model, regimen, t, y, None, weights, species)


def _perturbations(value: Perturbations | Mapping[str, Any] | None) -> Perturbations | None:
    if value is None or isinstance(value, Perturbations):
        return value
    return Perturbations.from_mapping(dict(value))


def _weights(weight: str | Sequence[str] | None, species: str, n: int) -> np.ndarray:
    if weight is None:
        return np.full(n, SPECIES[species])
    if isinstance(weight, str):
        return np.full(n, parse_weight_kg(weight, "weight"))
    values = np.array([parse_weight_kg(w, "weight") for w in weight])
    if values.size != n:
        raise KetasimInputError("weight", list(weight), f"one weight, or one per patient ({n})")
    return values


def _result(
    model: Model | None,
    regimen: Regimen,
    t: np.ndarray,
    y: np.ndarray,
    chain: ChainModel | None,
    weights: np.ndarray,
    chain_species: str,
) -> SimulationResult:
    n_pat = y.shape[0]
    columns: dict[str, np.ndarray] = {
        "patient": np.repeat(np.arange(n_pat), t.size),
        "t_h": np.tile(t, n_pat),
    }
    by_layer: dict[str, list[str]] = {layer: [] for layer in LAYERS}
    frames = []
    parts: list[tuple[Model, int]] = [(model, 0)] if model is not None else []
    if chain is not None and chain.co_pk is not None:
        parts.append((chain.co_pk, chain.co_offset))
    for pk_model, offset in parts:
        y_pk = y[..., offset : offset + len(pk_model.state_names)]
        conc = concentrations(pk_model.structure, pk_model.values, y_pk)
        auc = aucs(pk_model.structure, y_pk)
        for name, values in conc.items():
            analyte = name.rsplit("_", 1)[0]
            columns[f"{name}_ng_per_ml"] = values.reshape(-1)
            columns[f"{name}_um"] = values.reshape(-1) / pk_model.mw(analyte)
            by_layer["pk"] += [f"{name}_ng_per_ml", f"{name}_um"]
        for analyte in pk_model.structure.analytes:
            plasma = conc[f"{analyte}_plasma"]
            i_max = np.argmax(plasma, axis=1)
            cmax = plasma[np.arange(n_pat), i_max]
            frames.append(
                pd.DataFrame(
                    {
                        "patient": np.arange(n_pat),
                        "analyte": analyte,
                        "cmax_ng_per_ml": cmax,
                        "cmax_um": cmax / pk_model.mw(analyte),
                        "tmax_h": t[i_max],
                        "auc_ng_h_per_ml": auc[f"{analyte}_plasma"][:, -1],
                        "brain_cmax_ng_per_ml": conc[f"{analyte}_brain"].max(axis=1),
                    }
                )
            )
    if chain is not None:
        for name, values in chain.system.layer_values(y).items():
            where = _layer_column(name)
            if where is None:
                continue
            layer, column = where
            columns[column] = np.asarray(values).reshape(-1)
            by_layer[layer].append(column)
    timecourse = pd.DataFrame(columns)
    summary_columns = [
        "patient",
        "analyte",
        "cmax_ng_per_ml",
        "cmax_um",
        "tmax_h",
        "auc_ng_h_per_ml",
        "brain_cmax_ng_per_ml",
    ]
    summary = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=summary_columns)
    )
    if chain is not None:
        drug, names = chain.drug, chain.state_names
    else:
        assert model is not None
        drug, names = model.drug, model.state_names
    species = model.species if model is not None else chain_species
    plasma_site = drug.species[species].sampling if model is not None else "none"
    return SimulationResult(
        timecourse=timecourse,
        summary=summary,
        regimen=regimen,
        drug=drug.name,
        species=species,
        plasma_site=plasma_site,
        states=y,
        state_names=names,
        weights_kg=weights,
        times_h=t,
        columns_by_layer={k: tuple(v) for k, v in by_layer.items() if v},
    )


__all__ = ["LAYERS", "LAYER_OUTPUTS", "SITES", "SimulationResult", "build_regimen", "simulate"]
