"""The SBML export simulated in libRoadRunner against ketasim's own engine.

Every state of the full model (PK to symptoms) and every output of the quasi-steady-state
algebra is compared on an hourly grid over 7 days: relative error at most 1e-4 wherever
ketasim's value exceeds 1e-6 in magnitude. Both integrators run tighter than the default
(ketasim's BDF at rtol 1e-8, CVODE at 1e-10), so what is left is integration error (about
1e-5 at worst, on states decaying through 1e-5), not a difference of equations.

The cases cover an IV infusion, repeated instantaneous IV boluses whose dose times fall on
the output grid (a sample at a dose time is the state before the dose in both), non-IV routes
(first-order depots, a first-pass metabolite depot, an absorption lag and zero-order release),
and virtual patients with covariates, comedication and PK variability run from one compiled
document patient by patient, as a benchmark would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import libsbml
import numpy as np
import pandas as pd
import pytest
import roadrunner
import yaml

import ketasim
from ketasim import Dose, Regimen
from ketasim.data import load_drug, load_mechanism
from ketasim.engine import SolveOptions, integrate
from ketasim.errors import KetasimInputError
from ketasim.io.sbml import (
    PATIENT_COLUMNS,
    PROVENANCE_NS,
    UNITS,
    export_sbml,
    export_sbml_for,
    load_roadrunner,
    patient_parameters,
    read_patient,
    sbml_export,
    simulate_roadrunner,
)
from ketasim.model import ChainModel, build_chain
from ketasim.population import (
    PopulationParams,
    PopulationSpec,
    individual_parameters,
    sample_patients,
)

TIMES_H = np.arange(0.0, 7 * 24.0 + 1.0)  # hourly for 7 days
ENGINE = SolveOptions(method="BDF", rtol=1e-8, atol=1e-12)
CVODE_RTOL, CVODE_ATOL = 1e-10, 1e-14
MAX_RELATIVE_ERROR = 1e-4
COMPARED_ABOVE = 1e-6


@pytest.fixture(scope="module", autouse=True)
def _quiet_roadrunner() -> Iterator[None]:
    """CVODE warns when it restarts after an event with a step below t's resolution."""
    level = roadrunner.Logger.getLevel()
    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_ERROR)
    yield
    roadrunner.Logger.setLevel(level)


def max_relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """Largest |actual - expected| / |expected| where |expected| > 1e-6."""
    compared = np.abs(expected) > COMPARED_ABOVE
    error = np.abs(actual - expected) / np.where(compared, np.abs(expected), 1.0)
    return float(np.max(np.where(compared, error, 0.0)))


@dataclass(frozen=True)
class Case:
    """A regimen in a batch of patients, built as ketasim.simulate builds it."""

    drug: str
    regimen: Regimen
    weights_kg: tuple[float, ...] = (70.0,)
    patients: pd.DataFrame | None = None
    variability: bool = False
    seed: int = 0

    def chain(self) -> ChainModel:
        individual, ids = None, None
        if self.patients is not None:
            individual = individual_parameters(self.patients, PopulationParams.load())
            ids = self.patients["patient"].to_numpy()
        return build_chain(
            self.drug,
            "human",
            self.regimen.routes,
            np.asarray(self.weights_kg),
            seed=self.seed,
            variability=self.variability,
            individual=individual,
            patient_ids=ids,
        )


def _virtual_patients() -> pd.DataFrame:
    spec = PopulationSpec.default().override(
        {"comedication": {"none": 0.4, "lithium_or_valproate": 0.6}}
    )
    return sample_patients(spec, 3, seed=11)


CASES: dict[str, Case] = {
    "iv-infusion-0.5-mg-per-kg-40-min": Case(
        "ketamine-racemic", Regimen.single(Dose("0.5 mg/kg", over="40 min"))
    ),
    "iv-bolus-every-2-days": Case(
        "ketamine-racemic",
        Regimen.every("2 d", Dose("0.2 mg/kg", route="iv-bolus", over="0 min"), count=2),
        weights_kg=(82.0,),
    ),
    "intranasal-then-sublingual": Case(
        "ketamine-racemic",
        Regimen.single(Dose("50 mg", route="intranasal"))
        + Regimen.single(Dose("50 mg", route="sublingual"), at="3 d"),
    ),
    "virtual-patients-with-covariates-and-pk-variability": Case(
        "ketamine-racemic",
        Regimen.single(Dose("0.5 mg/kg", over="40 min")),
        weights_kg=tuple(_virtual_patients()["weight_kg"]),
        patients=_virtual_patients(),
        variability=True,
        seed=5,
    ),
}


@dataclass(frozen=True)
class Comparison:
    """ketasim's states and outputs beside libRoadRunner's, per patient."""

    state_names: tuple[str, ...]
    engine_states: np.ndarray  # (patients, times, states)
    rr_states: np.ndarray
    engine_outputs: dict[str, np.ndarray]  # name -> (patients, times)
    rr_outputs: dict[str, np.ndarray]


@pytest.fixture(scope="module", params=list(CASES))
def comparison(request: pytest.FixtureRequest) -> Comparison:
    case = CASES[request.param]
    chain = case.chain()
    y = integrate(
        chain.system, chain.system.initial_state(), chain.breakpoints(case.regimen), TIMES_H, ENGINE
    )
    export = sbml_export(chain, case.regimen)
    # compiled once, then run patient by patient with each patient's values
    rr = load_roadrunner(export.to_xml(0), rtol=CVODE_RTOL, atol=CVODE_ATOL)
    state_ids = [export.state_ids[name] for name in chain.state_names]
    outputs = export.output_ids
    runs = np.stack(
        [
            simulate_roadrunner(
                rr, TIMES_H, [*state_ids, *outputs.values()], export.patient_parameters(p)
            )
            for p in range(chain.system.n_patients)
        ]
    )
    n = len(state_ids)
    values = chain.system.layer_values(y)
    shape = y.shape[:2]
    return Comparison(
        chain.state_names,
        y,
        runs[..., :n],
        {name: np.broadcast_to(values[name], shape) for name in outputs},
        {name: runs[..., n + k] for k, name in enumerate(outputs)},
    )


@pytest.mark.slow
def test_every_state_agrees_with_the_engine(comparison: Comparison) -> None:
    errors = {
        name: max_relative_error(comparison.rr_states[..., k], comparison.engine_states[..., k])
        for k, name in enumerate(comparison.state_names)
    }
    worst = max(errors, key=errors.__getitem__)
    assert errors[worst] <= MAX_RELATIVE_ERROR, f"{worst}: {errors[worst]:.2e}"


@pytest.mark.slow
def test_every_output_agrees_with_layer_values(comparison: Comparison) -> None:
    assert {"block_pyramidal", "ampa_drive", "synaptic_drive", "cadss"} <= set(
        comparison.rr_outputs
    )
    errors = {
        name: max_relative_error(comparison.rr_outputs[name], comparison.engine_outputs[name])
        for name in comparison.rr_outputs
    }
    worst = max(errors, key=errors.__getitem__)
    assert errors[worst] <= MAX_RELATIVE_ERROR, f"{worst}: {errors[worst]:.2e}"


def _chain_for(name: str) -> tuple[ChainModel, Regimen]:
    case = CASES[name]
    return case.chain(), case.regimen


@pytest.fixture(scope="module")
def document() -> libsbml.SBMLDocument:
    chain, regimen = _chain_for("intranasal-then-sublingual")
    return libsbml.readSBMLFromString(export_sbml(chain, regimen))


def _issues(doc: libsbml.SBMLDocument) -> list[libsbml.SBMLError]:
    doc.checkConsistency()
    return [doc.getError(i) for i in range(doc.getNumErrors())]


def test_document_passes_libsbml_consistency_checks_units_included(
    document: libsbml.SBMLDocument,
) -> None:
    assert (document.getLevel(), document.getVersion()) == (3, 2)
    issues = _issues(document)
    errors = [e.getMessage() for e in issues if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    assert not errors
    units = [
        e.getMessage() for e in issues if e.getCategory() == libsbml.LIBSBML_CAT_UNITS_CONSISTENCY
    ]
    assert not units


def test_unit_check_catches_a_wrong_unit(document: libsbml.SBMLDocument) -> None:
    """The unit check above is live: a time constant declared per hour is caught."""
    doc = document.clone()
    assert doc.getModel().getParameter("signalling_tau_bdnf_h").setUnits("per_hour") == 0
    units = [e for e in _issues(doc) if e.getCategory() == libsbml.LIBSBML_CAT_UNITS_CONSISTENCY]
    assert units


def test_every_parameter_names_its_source_and_unit(document: libsbml.SBMLDocument) -> None:
    model = document.getModel()
    defined = {model.getUnitDefinition(i).getId() for i in range(model.getNumUnitDefinitions())}
    assert set(UNITS) <= defined
    assert model.getTimeUnits() == "hour"
    for k in range(model.getNumParameters()):
        p = model.getParameter(k)
        assert p.isSetUnits(), p.getId()
        assert p.getUnits() in defined | {"dimensionless", "second", "litre"}, p.getId()
        provenance = p.getAnnotation().getChild(0)
        assert provenance.getURI() == PROVENANCE_NS, p.getId()
        assert provenance.getAttrValue("source", PROVENANCE_NS), p.getId()


def _source(document: libsbml.SBMLDocument, pid: str) -> str:
    param = document.getModel().getParameter(pid)
    assert param is not None, pid
    return str(param.getAnnotation().getChild(0).getAttrValue("source", PROVENANCE_NS))


def test_sources_are_the_data_files_sources(document: libsbml.SBMLDocument) -> None:
    drug = load_drug("ketamine-racemic")
    human = drug.species["human"]
    mechanism = load_mechanism("human")
    pairs = {
        "parent_cl": human.disposition.cl.source,
        "parent_ke0": human.disposition.ke0.source,
        "fm": human.fm.source if human.fm else "",
        "ka_depot_intranasal_nasal": human.routes["intranasal"].pathways["nasal"].ka.source,
        "ketamine_kon_per_m_s": drug.pharmacology["kon"].source,
        "ketamine_k_esc_per_s": drug.pharmacology["trapped_fraction"].source,
        # norketamine blocks like ketamine, weaker: its constants cite ketamine's sources
        "norketamine_koff_per_s": drug.pharmacology["koff"].source,
        "receptor_mg_k0_mm": mechanism["receptor"]["mg_k0_mm"].source,
        "circuit_w_ei": mechanism["circuit"]["w_ei"].source,
        "signalling_tau_mtor_h": mechanism["signalling"]["tau_mtor_h"].source,
        "synapse_tau_mature_loss_h": mechanism["synapse"]["tau_mature_loss_h"].source,
        "symptoms_fast_gain": mechanism["symptoms"]["fast_gain"].source,
        "symptoms_block_c50_cadss": mechanism["symptoms"]["cadss_c50_ng_per_ml"].source,
    }
    assert {pid: _source(document, pid) for pid in pairs} == pairs


def test_doses_are_events_with_each_patients_amount() -> None:
    chain, regimen = _chain_for("iv-bolus-every-2-days")
    export = sbml_export(chain, regimen)
    assert [e.t_h for e in export.events] == [0.0, 48.0]
    for event in export.events:
        assert dict(event.assignments) == {
            "parent_central": "parent_central + dose_parent_central_mg",
            "placebo_expectation": "placebo_expectation + placebo_charge",
        }
    values = export.patient_parameters(0)
    assert values["dose_parent_central_mg"] == pytest.approx(0.2 * 82.0)
    # CL scales with weight^0.75 from the file's 70 kg value
    cl = load_drug("ketamine-racemic").species["human"].disposition.cl.value
    assert values["parent_cl"] == pytest.approx(cl * (82.0 / 70.0) ** 0.75)


def test_an_infusion_switches_its_rate_on_and_off() -> None:
    chain, regimen = _chain_for("iv-infusion-0.5-mg-per-kg-40-min")
    export = sbml_export(chain, regimen)
    on, off = export.events
    assert (on.t_h, off.t_h) == (0.0, pytest.approx(40.0 / 60.0))
    assert ("infusion_1_mg_per_h", "rate_parent_central_mg_per_h") in on.assignments
    assert ("infusion_1_mg_per_h", "0.0 mg_per_hour") in off.assignments
    assert export.patient_parameters(0)["rate_parent_central_mg_per_h"] == pytest.approx(
        0.5 * 70.0 / (40.0 / 60.0)
    )


def test_patient_parameters_differ_where_patients_differ() -> None:
    name = "virtual-patients-with-covariates-and-pk-variability"
    chain, regimen = _chain_for(name)
    export = sbml_export(chain, regimen)
    first, second = export.patient_parameters(0), export.patient_parameters(1)
    assert first.keys() == second.keys()
    for pid in ("parent_cl", "symptoms_fast_gain", "baseline_severity_core_mood"):
        assert first[pid] != second[pid], pid
    assert patient_parameters(chain, 1, regimen) == second
    with pytest.raises(KetasimInputError, match="patient"):
        export.patient_parameters(3)


def _patient_row() -> dict[str, object]:
    """A virtual patient without lifelong factors (no equilibration before time 0, faster)."""
    row = sample_patients(PopulationSpec.default(), [3], seed=11).iloc[0].to_dict()
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in row.items()}


def test_export_for_a_patient_file_matches_ketasim_simulate(tmp_path: Path) -> None:
    """What ``ketasim export sbml --patient FILE`` writes runs as ``ketasim.simulate`` does."""
    path = tmp_path / "patient.yaml"
    path.write_text(yaml.safe_dump(_patient_row()))
    options = {"dose": "0.5 mg/kg", "over": "40 min", "variability": True, "seed": 3}
    xml = export_sbml_for("ketamine-racemic", patient=path, **options)
    times = TIMES_H[:13]
    result = ketasim.simulate(
        "ketamine-racemic",
        patients=read_patient(path),
        times_h=times,
        until="12 h",
        solver=ENGINE,
        **options,
    )
    rr = load_roadrunner(xml, rtol=CVODE_RTOL, atol=CVODE_ATOL)
    ids = [re.sub(r"[^A-Za-z0-9_]", "_", name) for name in result.state_names]
    runs = simulate_roadrunner(rr, times, ids)
    assert max_relative_error(runs, result.states[0]) <= MAX_RELATIVE_ERROR


def test_read_patient_names_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "patient.csv"
    pd.DataFrame([{"weight_kg": 70.0}]).to_csv(path, index=False)
    with pytest.raises(KetasimInputError, match="severity_core_mood"):
        read_patient(path)
    with pytest.raises(KetasimInputError, match="one row"):
        read_patient(_virtual_patients())
    with pytest.raises(KetasimInputError, match=r"patient\.comedication"):
        read_patient({**_patient_row(), "comedication": "ketamine"})
    assert set(PATIENT_COLUMNS) <= set(read_patient(_patient_row()).columns)
