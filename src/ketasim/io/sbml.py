"""SBML Level 3 export of the full model: one drug, route, regimen and patient.

>>> from ketasim.io.sbml import export_sbml_for
>>> xml = export_sbml_for("ketamine-racemic", dose="0.5 mg/kg", route="iv-infusion",
...                       over="40 min")

What the document holds (SBML Level 3 Version 2, written with python-libsbml):

- every state of :attr:`ketasim.model.ChainModel.state_names` (PK amounts in mg, venous and
  effect-site concentrations in ng/mL, AUCs in ng*h/mL, block at rest, circuit, signalling,
  synapse and symptom states) as a non-constant parameter with a rate rule, in its own unit;
- every constant as a global parameter with a unit definition and an annotation naming its
  source (the ``source`` key of the data files, or the ketasim module for code constants);
- the quasi-steady-state algebra (NMDA block, firing rates, side effects, rating scales) as
  assignment rules named as :meth:`ketasim.model.ChainSystem.layer_values` names them;
- doses as events: a bolus adds its amount at the dose time, an infusion switches a rate
  parameter on and off, and every administration charges the placebo expectation by 1
  (:meth:`ketasim.model.ChainModel.breakpoints`).

Quantities that differ between patients (weight-scaled PK volumes and clearances with their
variability factors, absorption rates, the dose each patient receives, the clinical gains,
placebo response and relapse time of a virtual patient, baseline severities and the initial
state) are global parameters too: :meth:`SbmlExport.patient_parameters` gives their values
for any patient of a batch, so a document compiled once can be run patient by patient
(:func:`set_patient`).

Events trigger on ``time > t`` rather than ``time >= t``, so that a sample taken at a dose
time is the state before the dose, as ketasim's engine reports it (NONMEM's convention).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import libsbml
import numpy as np
import pandas as pd
import yaml

from ketasim import __version__
from ketasim import circuit as circuit_layer
from ketasim import signalling as signalling_layer
from ketasim import symptoms as symptoms_layer
from ketasim import synapse as synapse_layer
from ketasim.api import build_regimen
from ketasim.data import SPECIES, load_drug, load_mechanism
from ketasim.data.spec import Disposition, Drug, Parameter
from ketasim.errors import KetasimInputError, RegimenError, UnknownNameError
from ketasim.model import ChainModel, Model, build_chain
from ketasim.pk.compartments import DispositionValues, metabolite_disposition
from ketasim.pk.dosing import regimen_inputs
from ketasim.pk.regimen import Dose, Regimen
from ketasim.population import PopulationParams, individual_parameters
from ketasim.population.individual import population_parameters
from ketasim.receptor import Blocker
from ketasim.receptor.block import SECONDS_PER_HOUR, TRAPPING_WASHOUT_S
from ketasim.symptoms.scales import load_scales
from ketasim.symptoms.severity import MOOD_COUPLING
from ketasim.symptoms.side_effects import HR_BASELINE_BPM, SBP_BASELINE_MMHG
from ketasim.synapse.spines import NEW_SPINE_BASELINE
from ketasim.units import parse_weight_kg

SBML_LEVEL, SBML_VERSION = 3, 2
#: Namespace of the provenance annotation on every parameter.
PROVENANCE_NS = "urn:ketasim:sbml:provenance"
PROVENANCE_PREFIX = "ketasim"

#: Unit definitions: id -> (kind, exponent, scale, multiplier) factors. ``dimensionless``,
#: ``second`` and ``litre`` are SBML base units and need no definition.
UNITS: dict[str, tuple[tuple[int, float, int, float], ...]] = {
    "hour": ((libsbml.UNIT_KIND_SECOND, 1, 0, 3600.0),),
    "per_hour": ((libsbml.UNIT_KIND_SECOND, -1, 0, 3600.0),),
    "per_second": ((libsbml.UNIT_KIND_SECOND, -1, 0, 1.0),),
    "per_minute": ((libsbml.UNIT_KIND_SECOND, -1, 0, 60.0),),
    "litre_per_hour": (
        (libsbml.UNIT_KIND_LITRE, 1, 0, 1.0),
        (libsbml.UNIT_KIND_SECOND, -1, 0, 3600.0),
    ),
    "mg": ((libsbml.UNIT_KIND_GRAM, 1, -3, 1.0),),
    "mg_per_hour": (
        (libsbml.UNIT_KIND_GRAM, 1, -3, 1.0),
        (libsbml.UNIT_KIND_SECOND, -1, 0, 3600.0),
    ),
    "ng_per_ml": ((libsbml.UNIT_KIND_GRAM, 1, -9, 1.0), (libsbml.UNIT_KIND_LITRE, -1, -3, 1.0)),
    "ng_per_ml_per_hour": (
        (libsbml.UNIT_KIND_GRAM, 1, -9, 1.0),
        (libsbml.UNIT_KIND_LITRE, -1, -3, 1.0),
        (libsbml.UNIT_KIND_SECOND, -1, 0, 3600.0),
    ),
    "ng_h_per_ml": (
        (libsbml.UNIT_KIND_GRAM, 1, -9, 1.0),
        (libsbml.UNIT_KIND_LITRE, -1, -3, 1.0),
        (libsbml.UNIT_KIND_SECOND, 1, 0, 3600.0),
    ),
    "g_per_mol": ((libsbml.UNIT_KIND_GRAM, 1, 0, 1.0), (libsbml.UNIT_KIND_MOLE, -1, 0, 1.0)),
    "mV": ((libsbml.UNIT_KIND_VOLT, 1, -3, 1.0),),
    "per_mV": ((libsbml.UNIT_KIND_VOLT, -1, -3, 1.0),),
    "mM": ((libsbml.UNIT_KIND_MOLE, 1, -3, 1.0), (libsbml.UNIT_KIND_LITRE, -1, 0, 1.0)),
    "uM": ((libsbml.UNIT_KIND_MOLE, 1, -6, 1.0), (libsbml.UNIT_KIND_LITRE, -1, 0, 1.0)),
    "per_M_per_s": (
        (libsbml.UNIT_KIND_MOLE, -1, 0, 1.0),
        (libsbml.UNIT_KIND_LITRE, 1, 0, 1.0),
        (libsbml.UNIT_KIND_SECOND, -1, 0, 1.0),
    ),
    "ng_per_ml_per_mg_per_l": ((libsbml.UNIT_KIND_DIMENSIONLESS, 1, -3, 1.0),),
    "M_per_uM": ((libsbml.UNIT_KIND_DIMENSIONLESS, 1, 6, 1.0),),
    "second_per_hour": (
        (libsbml.UNIT_KIND_SECOND, 1, 0, 1.0),
        (libsbml.UNIT_KIND_SECOND, -1, 0, 3600.0),
    ),
    "mmHg": (
        (libsbml.UNIT_KIND_KILOGRAM, 1, 0, 133.322387415),
        (libsbml.UNIT_KIND_METRE, -1, 0, 1.0),
        (libsbml.UNIT_KIND_SECOND, -2, 0, 1.0),
    ),
}
#: mg/L -> ng/mL: the number 1000 with the unit (ng/mL)/(mg/L) (1e-3, dimensionless).
MG_PER_L = "1000.0 ng_per_ml_per_mg_per_l"

#: Initial values smaller than this in magnitude are written as 0 (see :func:`sbml_export`).
TINY = 1e-20


@dataclass(frozen=True)
class Provenance:
    """Where a number comes from: a citation key (``source``) and how it was obtained."""

    source: str
    kind: str
    description: str = ""
    reason: str = ""

    @classmethod
    def of(cls, p: Parameter, how: str = "") -> Provenance:
        """The provenance of a data-file parameter, with a note on how ketasim used it."""
        reason = "; ".join(r for r in (p.reason or "", how) if r)
        return cls(p.source, p.kind, p.description, reason)

    def but(self, how: str) -> Provenance:
        """The same provenance with a note on how the value was transformed."""
        reason = "; ".join(r for r in (self.reason, how) if r)
        return Provenance(self.source, self.kind, self.description, reason)


@dataclass(frozen=True)
class SbmlParameter:
    """A constant of the exported model: one value per patient of the batch."""

    id: str
    values: np.ndarray
    unit: str
    provenance: Provenance
    per_patient: bool


@dataclass(frozen=True)
class SbmlState:
    """A state of the ODE system: a parameter with a rate rule (per-patient initial values)."""

    id: str
    state: str
    unit: str
    initial: np.ndarray
    rate: str
    layer: str


@dataclass(frozen=True)
class SbmlRule:
    """An assignment rule; ``output`` marks the quantities :meth:`layer_values` reports."""

    id: str
    formula: str
    unit: str
    description: str
    output: bool


@dataclass(frozen=True)
class SbmlEvent:
    """What happens just after ``t_h``: ``(variable, formula)`` assignments."""

    t_h: float
    assignments: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SbmlExport:
    """The exported model for a batch of patients; :meth:`to_xml` writes one patient.

    Attributes
    ----------
    model_id, title
        SBML model id and name.
    parameters, states, rules, events
        The document's content (values per patient where they differ).
    n_patients
        Patients of the batch the export was built from.
    """

    model_id: str
    title: str
    parameters: tuple[SbmlParameter, ...]
    states: tuple[SbmlState, ...]
    rules: tuple[SbmlRule, ...]
    events: tuple[SbmlEvent, ...]
    n_patients: int
    switches: tuple[str, ...] = ()
    description: str = field(default="", repr=False)

    @property
    def state_ids(self) -> dict[str, str]:
        """ketasim state name -> SBML id, in the engine's state order."""
        return {s.state: s.id for s in self.states}

    @property
    def output_ids(self) -> dict[str, str]:
        """ketasim output name (:meth:`ChainSystem.layer_values`) -> SBML id."""
        return {r.description: r.id for r in self.rules if r.output}

    def patient_parameters(self, patient: int) -> dict[str, float]:
        """SBML values that differ between patients, for ``patient`` of the batch.

        The per-patient constants (PK volumes, clearances and rate constants, the patient's
        doses, virtual-patient factors, baseline severities) and the initial value of every
        state; :func:`set_patient` applies them to a loaded libRoadRunner model.
        """
        self._check(patient)
        out = {p.id: float(p.values[patient]) for p in self.parameters if p.per_patient}
        out.update({s.id: float(s.initial[patient]) for s in self.states})
        return out

    def _check(self, patient: int) -> None:
        if not 0 <= patient < self.n_patients:
            raise KetasimInputError("patient", patient, f"0 to {self.n_patients - 1}")

    def document(self, patient: int = 0) -> libsbml.SBMLDocument:
        """The libsbml document for ``patient`` of the batch."""
        self._check(patient)
        return _write_document(self, patient)

    def to_xml(self, patient: int = 0) -> str:
        """The SBML Level 3 Version 2 document for ``patient``, as a string."""
        return str(libsbml.writeSBMLToString(self.document(patient)))


# --------------------------------------------------------------------------------------------
# Building the export from a ChainModel
# --------------------------------------------------------------------------------------------


def _sid(name: str) -> str:
    """An SBML identifier for a ketasim name (letters, digits and underscores)."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return out if re.match(r"[A-Za-z_]", out) else f"_{out}"


def _num(x: float) -> str:
    """A literal that parses back to the same double."""
    return repr(float(x))


class _Builder:
    """Collects parameters, rates, rules and events while the layers are written out."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.parameters: dict[str, SbmlParameter] = {}
        self.rules: dict[str, SbmlRule] = {}
        self.rates: dict[str, list[str]] = {}
        self.added: dict[float, dict[str, list[str]]] = {}  # t -> variable -> increments
        self.set: dict[float, dict[str, str]] = {}  # t -> switch -> new value
        self.switches: list[str] = []

    def param(
        self,
        pid: str,
        value: float | np.ndarray,
        unit: str,
        provenance: Provenance,
        per_patient: bool = False,
    ) -> str:
        """Register a constant (once) and return its id."""
        pid = _sid(pid)
        values = np.broadcast_to(np.asarray(value, dtype=float), (self.n,)).copy()
        known = self.parameters.get(pid)
        if known is not None:
            if not np.array_equal(known.values, values):
                raise ValueError(f"SBML parameter {pid} registered twice with other values")
            return pid
        self.parameters[pid] = SbmlParameter(pid, values, unit, provenance, per_patient)
        return pid

    def rule(self, rid: str, formula: str, unit: str = "dimensionless", output: str = "") -> str:
        """Register an assignment rule ``rid = formula``; ``output`` names the ketasim output."""
        rid = _sid(rid)
        if rid in self.rules:
            raise ValueError(f"SBML rule {rid} written twice")
        self.rules[rid] = SbmlRule(rid, formula, unit, output or rid, bool(output))
        return rid

    def add_rate(self, state: str, term: str) -> None:
        self.rates[state].append(term)

    def add_at(self, t_h: float, variable: str, amount: str) -> None:
        """An event just after ``t_h`` adds ``amount`` to ``variable`` (a bolus)."""
        self.added.setdefault(float(t_h), {}).setdefault(variable, []).append(amount)

    def set_at(self, t_h: float, variable: str, value: str) -> None:
        """An event just after ``t_h`` sets ``variable`` (an infusion switched on or off)."""
        self.set.setdefault(float(t_h), {})[variable] = value

    def events(self) -> tuple[SbmlEvent, ...]:
        """Everything that happens at one time as one event (simultaneous SBML events would
        each read the values before the others, so two boluses into a state would not add)."""
        out = []
        for t_h in sorted({*self.added, *self.set}):
            added = self.added.get(t_h, {})
            assignments = [(var, " + ".join([var, *terms])) for var, terms in added.items()]
            assignments += list(self.set.get(t_h, {}).items())
            out.append(SbmlEvent(t_h, tuple(assignments)))
        return tuple(out)


def _lit(value: float, unit: str = "dimensionless") -> str:
    """A number with its unit, in SBML's Level 3 formula syntax (``70 mV``)."""
    return f"{_num(value)} {unit}"


def _max0(x: str, unit: str = "dimensionless") -> str:
    """``np.maximum(x, 0)`` (the 0 in the unit of ``x``)."""
    return f"max({x}, {_lit(0, unit)})"


def _clip01(x: str) -> str:
    return f"min(max({x}, 0), 1)"


def _sum(terms: Sequence[str], zero: str = "0") -> str:
    return " + ".join(terms) if terms else zero


def sbml_export(
    chain: ChainModel,
    regimen: Regimen,
    *,
    species: str | None = None,
    readings: dict[str, str] | None = None,
    allow_anesthetic: bool = False,
    co_regimen: Regimen | None = None,
) -> SbmlExport:
    """The SBML export of ``chain`` under ``regimen``, for every patient of its batch.

    Parameters
    ----------
    chain
        The full model (:func:`ketasim.model.build_chain`), one or many patients.
    regimen
        The regimen of the first drug (the one ``chain`` was built for).
    species
        Needed only for a saline chain (no PK to read it from).
    readings
        Route -> named bioavailability reading, as in :func:`ketasim.simulate`.
    allow_anesthetic
        Export doses that reach anaesthetic exposure (refused by default).
    co_regimen
        The regimen of the chain's second drug, if it has one.

    Returns
    -------
    SbmlExport
        Content and per-patient values; ``.to_xml(i)`` writes patient ``i``.
    """
    system = chain.system
    n = system.n_patients
    pk_parts: list[tuple[Model, str, Regimen]] = []
    if chain.pk is not None:
        pk_parts.append((chain.pk, "", regimen))
    if chain.co_pk is not None:
        if co_regimen is None:
            raise RegimenError("co_regimen", None, "a regimen for the second drug")
        pk_parts.append((chain.co_pk, "co_", co_regimen))
    if species is None:
        if not pk_parts:
            raise KetasimInputError("species", None, "the species of a chain without PK")
        species = pk_parts[0][0].species
    if not regimen.doses:
        raise RegimenError("regimen", repr(regimen), "a regimen needs at least one dose")

    b = _Builder(n)
    names = chain.state_names
    ids = [_sid(name) for name in names]
    if len(set(ids)) != len(ids):
        raise ValueError("two ketasim states map to the same SBML identifier")
    sid = dict(zip(names, ids, strict=True))
    for i in ids:
        b.rates[i] = []

    for model, prefix, reg in pk_parts:
        _pk_layer(b, model, prefix, sid)
        # as ChainModel.breakpoints: a second drug takes its routes' default readings
        _dosing(b, model, prefix, reg, sid, None if prefix else readings, allow_anesthetic)
    spec = load_mechanism(species)
    _mechanism(b, chain, sid, spec, pk_parts)
    charge = b.param(
        "placebo_charge",
        1.0,
        "dimensionless",
        Provenance(
            "ketasim.model.ChainModel.breakpoints",
            "assumed",
            "placebo expectation charged by each administration",
            "every administration, saline included, adds 1 to the expectation",
        ),
    )
    for t_h, _ in regimen.doses:
        b.add_at(t_h, sid["placebo_expectation"], charge)

    # rounding residues of an equilibrated initial state (|y| ~ 1e-36 where the steady state
    # is 0) are written as 0: libRoadRunner scales a scalar absolute tolerance by them
    y0 = system.initial_state()
    y0 = np.where(np.abs(y0) < TINY, 0.0, y0)
    layers = _state_layers(chain)
    states = tuple(
        SbmlState(
            sid[name],
            name,
            _state_unit(name, layers[name]),
            y0[:, k].copy(),
            _sum(b.rates[sid[name]], _lit(0, _rate_unit(_state_unit(name, layers[name])))),
            layers[name],
        )
        for k, name in enumerate(names)
    )
    drug = chain.drug.name
    model_id = _sid(f"ketasim_{drug}_{species}")
    title = f"ketasim: {chain.drug.display_name} in {species}, {regimen!r}"
    description = (
        f"Exported by ketasim {__version__} from the full model of {chain.drug.display_name} "
        f"in {species} (states: {', '.join(names)}). Regimen: {regimen!r}. Time in hours; "
        "PK amounts in mg, concentrations in ng/mL, mechanism states relative to their "
        "drug-free baseline. "
        "Doses are events triggered just after the dose time, so that output sampled at a dose "
        "time is the state before the dose (ketasim's convention)."
    )
    every_id = [*b.parameters, *b.rules, *ids, *b.switches]
    if len(set(every_id)) != len(every_id):
        clash = sorted({i for i in every_id if every_id.count(i) > 1})
        raise ValueError(f"SBML ids used twice: {', '.join(clash)}")
    return SbmlExport(
        model_id,
        title,
        tuple(b.parameters.values()),
        states,
        tuple(b.rules.values()),
        b.events(),
        n,
        tuple(b.switches),
        description,
    )


def _state_layers(chain: ChainModel) -> dict[str, str]:
    names = chain.state_names
    out = {}
    n_pk = len(chain.system.pk_names)
    for k, name in enumerate(names):
        if k < n_pk:
            out[name] = "pk"
        elif name.startswith("block_rest_"):
            out[name] = "receptor"
    for layer, states in (
        ("circuit", circuit_layer.STATES),
        ("signalling", signalling_layer.STATES),
        ("synapse", synapse_layer.STATES),
        ("symptoms", symptoms_layer.STATES),
    ):
        for name in states:
            out[name] = layer
    return out


def _rate_unit(unit: str) -> str:
    """The unit of d(state)/dt for a state's unit."""
    return {
        "mg": "mg_per_hour",
        "ng_per_ml": "ng_per_ml_per_hour",
        "ng_h_per_ml": "ng_per_ml",
    }.get(unit, "per_hour")


def _state_unit(name: str, layer: str) -> str:
    if layer != "pk":
        return "dimensionless"
    base = name.removeprefix("co_")
    if base.startswith("auc_"):
        return "ng_h_per_ml"
    if base.endswith(("_venous", "_effect")):
        return "ng_per_ml"
    return "mg"


# --------------------------------------------------------------------------------------------
# PK: mirrors ketasim.pk.compartments.rate_matrix term by term
# --------------------------------------------------------------------------------------------


#: The disposition constants: key -> (SBML unit, what it is, scaled by weight).
_DISPOSITION: dict[str, tuple[str, str, bool]] = {
    "v1": ("litre", "central (arterial) volume V1", True),
    "cl": ("litre_per_hour", "clearance CL", True),
    "v2": ("litre", "rapid peripheral volume V2", True),
    "q2": ("litre_per_hour", "intercompartmental clearance Q2", True),
    "v3": ("litre", "slow peripheral volume V3", True),
    "q3": ("litre_per_hour", "intercompartmental clearance Q3", True),
    "k_venous": ("per_hour", "equilibration rate of venous blood with arterial plasma", False),
    "ke0": ("per_hour", "equilibration rate of the brain effect site", False),
}


def _disposition_params(
    b: _Builder,
    prefix: str,
    analyte: str,
    d: DispositionValues,
    spec: Disposition,
    how: str,
) -> dict[str, str | None]:
    """One compartment set's per-patient constants (``DispositionValues``)."""
    out: dict[str, str | None] = {}
    for key, (unit, what, scaled) in _DISPOSITION.items():
        value = getattr(d, key)
        p: Parameter | None = getattr(spec, key)
        if value is None or p is None:
            out[key] = None
            continue
        prov = Provenance.of(p, how if scaled else "")
        prov = Provenance(
            prov.source,
            prov.kind,
            f"{what} of the {analyte}, this patient ({p.description})",
            prov.reason,
        )
        out[key] = b.param(f"{prefix}{analyte}_{key}", value, unit, prov, per_patient=True)
    kp = spec.kp_brain
    out["kp_brain"] = b.param(
        f"{prefix}{analyte}_kp_brain",
        d.kp_brain,
        "dimensionless",
        Provenance.of(kp)
        if kp is not None
        else Provenance(
            "ketasim.pk.compartments",
            "assumed",
            "brain:plasma ratio of the effect site",
            "no kp_brain in the drug file: the effect site reads plasma-equivalent (1)",
        ),
    )
    return out


def _pk_layer(b: _Builder, model: Model, prefix: str, sid: Mapping[str, str]) -> None:
    """The linear PK of one drug: dA/dt = K A, written with named volumes and clearances."""
    s, v = model.structure, model.values
    drug = model.drug
    spk = drug.species[model.species]

    def state(name: str) -> str:
        return sid[prefix + name]

    weight_note = (
        "scaled to the patient's body weight (per kg, or allometrically from "
        f"{spk.reference_weight_kg:g} kg: volumes W^1, clearances W^0.75) and times the "
        "patient's between-patient factor (1 without variability)"
    )
    parent = _disposition_params(b, prefix, "parent", v.parent, spk.disposition, weight_note)
    met: dict[str, str | None] | None = None
    met_spec = metabolite_disposition(drug, model.species, model.metabolite)
    if s.metabolite is not None and v.metabolite is not None and met_spec is not None:
        met = _disposition_params(
            b, prefix, "metabolite", v.metabolite, met_spec, "scaled to the patient's body weight"
        )
    mw_ratio = None
    if s.metabolite is not None:
        assert model.metabolite is not None
        mw_sources = [m.mw.source for m in (drug, model.metabolite) if m.mw is not None]
        mw_ratio = b.param(
            f"{prefix}mw_ratio",
            v.mw_ratio,
            "dimensionless",
            Provenance(
                ", ".join(mw_sources) or "definition",
                "derived",
                "molar mass of the metabolite over the parent's (mass balance of formation)",
                "ratio of the drug files' mw values",
            ),
        )
    pc = state("parent_central")
    for pw in s.pathways:
        ka = b.param(
            f"{prefix}ka_{pw.state}",
            v.ka[pw.state],
            "per_hour",
            Provenance.of(pw.spec.ka, "times the patient's ka factor (1 without variability)"),
            per_patient=True,
        )
        d = state(pw.state)
        b.add_rate(d, f"-{ka} * {d}")
        b.add_rate(pc, f"{ka} * {d}")
        if prefix + pw.fp_state in sid:
            assert mw_ratio is not None
            f = state(pw.fp_state)
            b.add_rate(f, f"-{ka} * {f}")
            b.add_rate(state("metabolite_central"), f"{ka} * {mw_ratio} * {f}")
    _compartments(b, state, "parent", parent, s.has_venous)
    if met is not None:
        assert spk.fm is not None
        assert mw_ratio is not None
        fm = b.param(f"{prefix}fm", v.fm, "dimensionless", Provenance.of(spk.fm))
        b.add_rate(
            state("metabolite_central"),
            f"{fm} * {mw_ratio} * {parent['cl']} / {parent['v1']} * {pc}",
        )
        _compartments(b, state, "metabolite", met, s.metabolite_has_venous)
    analytes: list[tuple[str, str, dict[str, str | None], bool]] = [
        (s.parent, "parent", parent, s.has_venous)
    ]
    if met is not None and s.metabolite is not None:
        analytes.append((s.metabolite, "metabolite", met, s.metabolite_has_venous))
    for analyte, cpt, p, has_venous in analytes:
        for site in s.sites:
            if site == "arterial" or (
                site == "plasma" and (s.sampling == "arterial" or not has_venous)
            ):
                reading = f"{MG_PER_L} / {p['v1']} * {state(cpt + '_central')}"
            elif site == "plasma":
                reading = state(cpt + "_venous")
            else:
                reading = f"{p['kp_brain']} * {state(cpt + '_effect')}"
            b.add_rate(state(f"auc_{analyte}_{site}"), reading)


def _compartments(
    b: _Builder,
    state: Callable[[str], str],
    cpt: str,
    p: Mapping[str, str | None],
    has_venous: bool,
) -> None:
    """Central, peripheral, venous and effect-site terms of one analyte (``_fill_compartments``)."""
    c = state(f"{cpt}_central")
    v1, cl = p["v1"], p["cl"]
    b.add_rate(c, f"-{cl} / {v1} * {c}")
    for periph, (v, q) in {"periph2": (p["v2"], p["q2"]), "periph3": (p["v3"], p["q3"])}.items():
        if v is None or q is None:
            continue
        a = state(f"{cpt}_{periph}")
        b.add_rate(c, f"-{q} / {v1} * {c}")
        b.add_rate(a, f"{q} / {v1} * {c}")
        b.add_rate(c, f"{q} / {v} * {a}")
        b.add_rate(a, f"-{q} / {v} * {a}")
    e = state(f"{cpt}_effect")
    b.add_rate(e, f"{p['ke0']} * {MG_PER_L} / {v1} * {c}")
    b.add_rate(e, f"-{p['ke0']} * {e}")
    if has_venous and p["k_venous"] is not None:
        ven = state(f"{cpt}_venous")
        b.add_rate(ven, f"{p['k_venous']} * {MG_PER_L} / {v1} * {c}")
        b.add_rate(ven, f"-{p['k_venous']} * {ven}")


def _dosing(
    b: _Builder,
    model: Model,
    prefix: str,
    regimen: Regimen,
    sid: Mapping[str, str],
    readings: dict[str, str] | None,
    allow_anesthetic: bool,
) -> None:
    """Doses as events: the inputs ``Model.breakpoints`` integrates, per patient."""
    inputs = regimen_inputs(
        regimen,
        model.drug,
        model.species,
        model.structure,
        model.weight_kg,
        model.factors["f"],
        readings,
        allow_anesthetic,
    )
    amounts: dict[tuple[str, bool], list[np.ndarray]] = {}

    def amount_param(state: str, amount: np.ndarray, rate: bool) -> str:
        # one parameter per distinct amount (the same dose repeated shares it)
        seen = amounts.setdefault((state, rate), [])
        k = next((j for j, known in enumerate(seen) if np.array_equal(known, amount)), len(seen))
        if k == len(seen):
            seen.append(amount)
        suffix = "" if k == 0 else f"_{k + 1}"
        kind = "rate" if rate else "dose"
        unit = "mg_per_hour" if rate else "mg"
        what = "infusion rate" if rate else "dose"
        return b.param(
            f"{prefix}{kind}_{state}{suffix}_{'mg_per_h' if rate else 'mg'}",
            amount,
            unit,
            Provenance(
                "regimen",
                "input",
                f"{what} into {state} per administration for this patient",
                f"{regimen!r}; mg/kg doses times the patient's weight, extravascular doses "
                "times the route's bioavailability and pathway share (ketasim.pk.dosing)",
            ),
            per_patient=True,
        )

    for item in inputs:
        target = sid[prefix + item.state]
        amount = np.asarray(item.amount, dtype=float)
        if item.end_h is None:
            dose = amount_param(item.state, amount, rate=False)
            b.add_at(item.start_h, target, dose)
            continue
        rate = amount_param(item.state, amount, rate=True)
        switch = f"{prefix}infusion_{sum(sw.startswith(prefix) for sw in b.switches) + 1}_mg_per_h"
        b.switches.append(switch)
        b.add_rate(target, switch)
        b.set_at(item.start_h, switch, rate)
        b.set_at(item.end_h, switch, _lit(0, "mg_per_hour"))


# --------------------------------------------------------------------------------------------
# Receptor, circuit, signalling, synapse, symptoms: mirrors model.ChainSystem.rhs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BlockerSource:
    """Where a blocker's constants come from: a drug file, scaled for a metabolite."""

    drug: Drug
    mw_drug: Drug
    potency: tuple[float, Provenance] | None = None


def _blocker_params(
    b: _Builder,
    blocker: Blocker,
    mw: float,
    src: _BlockerSource,
    kp_default: str,
) -> dict[str, str | None]:
    """One blocker's constants (``Blocker``'s fields), with the drug-file keys they came from."""
    ph = src.drug.pharmacology
    name = _sid(blocker.name)
    code = "ketasim.receptor.block.Blocker.from_drug"

    def prov(
        what: str, *keys: str, how: str = "", default: str = "", scaled: bool = False
    ) -> Provenance:
        """``what`` the value is, read from the first of ``keys`` in the drug file."""
        found = next((ph[k] for k in keys if k in ph), None)
        if found is None:
            out = Provenance(code, "assumed", what, default)
        else:
            out = Provenance.of(found, how)
            out = Provenance(out.source, out.kind, f"{what} ({found.description})", out.reason)
        if src.potency is not None:
            factor, potency = src.potency
            note = (
                f"{src.drug.name}'s value scaled by the metabolite potency {factor:g}"
                if scaled
                else f"{src.drug.name}'s value (the metabolite blocks like its parent)"
            )
            out = out.but(f"{note} (receptor.metabolite_potency, {potency.source})")
        return out

    def param(key: str, value: float, unit: str, provenance: Provenance) -> str:
        return b.param(f"{name}_{key}", value, unit, provenance)

    out: dict[str, str | None] = {}
    mw_file = src.mw_drug.mw
    out["mw"] = param(
        "mw",
        mw,
        "g_per_mol",
        Provenance.of(mw_file)
        if mw_file is not None
        else Provenance(code, "assumed", f"molar mass of {blocker.name}", "none in the drug file"),
    )
    out["kp_uu"] = (
        param("kp_uu", blocker.kp_uu, "dimensionless", prov("Kp,uu", "kp_uu"))
        if blocker.kp_uu is not None
        else kp_default
    )
    if blocker.pore:
        kon_how = "" if "kon" in ph else "kon = koff / Kd, Kd from ic50_um or ki_um"
        out["kon"] = param(
            "kon_per_m_s",
            blocker.kon_per_m_s,
            "per_M_per_s",
            prov(
                "blocking rate constant at -70 mV",
                "kon",
                "ic50_um",
                "ki_um",
                how=kon_how,
                scaled=True,
            ),
        )
        out["koff"] = param(
            "koff_per_s",
            blocker.koff_per_s,
            "per_second",
            prov("unblocking rate at -70 mV", "koff", default="none in the drug file: 0.22 /s"),
        )
        out["delta"] = param(
            "woodhull_delta",
            blocker.delta,
            "dimensionless",
            prov("electrical distance of the site", "woodhull_delta", default="none: 0"),
        )
        out["k_esc"] = param(
            "k_esc_per_s",
            blocker.k_esc_per_s,
            "per_second",
            prov(
                "escape rate from closed channels",
                "trapped_fraction",
                how=f"k_esc = -ln(trapped_fraction) / {TRAPPING_WASHOUT_S:g} s",
                default="no trapped fraction in the drug file: fully trapped, 0",
            ),
        )
    if blocker.glun2b_ic50_um is not None:
        out["glun2b_ic50"] = param(
            "glun2b_ic50_um",
            blocker.glun2b_ic50_um,
            "uM",
            prov(
                "IC50 of GluN2B inhibition",
                "glun2b_ic50_um",
                "ic50_glun2b_um",
                "glun2b_kd_um",
                "glun2b_ki_um",
                scaled=True,
            ),
        )
        out["glun2b_hill"] = param(
            "glun2b_hill",
            blocker.glun2b_hill,
            "dimensionless",
            Provenance(code, "assumed", "Hill coefficient of GluN2B inhibition", "one site"),
        )
    if blocker.closed_ic50_um is not None:
        out["closed_ic50"] = param(
            "closed_channel_ic50_um",
            blocker.closed_ic50_um,
            "uM",
            prov("IC50 of closed-state inhibition", "closed_channel_ic50_um", scaled=True),
        )
    if blocker.mu_opioid_ki_um is not None:
        out["mu_ki"] = param(
            "mu_opioid_ki_um",
            blocker.mu_opioid_ki_um,
            "uM",
            prov("Ki at mu-opioid receptors", "mu_opioid_ki_um", scaled=True),
        )
    return out


def _blocker_sources(
    pk_parts: Sequence[tuple[Model, str, Regimen]], potency: tuple[float, Provenance]
) -> dict[str, _BlockerSource]:
    """Blocker name -> the drug files of its constants and molar mass (``model._drug_part``)."""
    out: dict[str, _BlockerSource] = {}
    for model, _, _ in pk_parts:
        parent = Blocker.from_drug(model.drug)
        out[model.drug.analyte] = _BlockerSource(model.drug, model.drug)
        met = model.structure.metabolite
        if met is not None and model.metabolite is not None:
            if parent is not None and parent.pore:
                # the metabolite of a pore blocker blocks like its parent, weaker
                out[met] = _BlockerSource(model.drug, model.metabolite, potency)
            else:
                out[met] = _BlockerSource(model.metabolite, model.metabolite)
    return out


#: Population-file keys (data/population.yaml) behind a virtual patient's own values.
_INDIVIDUAL: dict[str, tuple[str, ...]] = {
    "fast_gain": ("bmi_fast", "fh_aud_fast", "d_serine_fast", "bipolar_gain", "omega_response"),
    "sustained_gain": (
        "bmi_sustained",
        "fh_aud_sustained",
        "suicide_attempt_sustained",
        "shank3_sustained",
        "bipolar_gain",
        "omega_response",
        "fast_sustained_correlation",
    ),
    "placebo_max": ("omega_placebo",),
    "placebo_felt_gain": ("omega_placebo",),
    "tau_mature_loss_h": ("omega_relapse",),
    "lithium_mm": ("lithium_serum_mm",),
    "valproate": ("valproate_gsk3",),
}


def _individual_note(key: str) -> str:
    """How a virtual patient's value of ``key`` was made, with the population sources."""
    params = {k: p for section in population_parameters().values() for k, p in section.items()}
    used = ", ".join(f"{k} ({params[k].source})" for k in _INDIVIDUAL.get(key, ()) if k in params)
    return f"this virtual patient's value (ketasim.population; data/population.yaml: {used})"


class _Mechanism:
    """Writes the pharmacodynamic layers (``ChainSystem.rhs`` and ``layer_values``) as SBML.

    Each method mirrors one layer's numpy functions; the ids of the quantities that later
    layers read (block, rates, surge, drives) are kept on the instance.
    """

    def __init__(
        self,
        b: _Builder,
        chain: ChainModel,
        sid: Mapping[str, str],
        spec: Mapping[str, Mapping[str, Parameter]],
    ) -> None:
        system = chain.system
        self.b, self.chain, self.sid, self.spec = b, chain, sid, spec
        self.ind = system.individual
        self.mech = system.mech if self.ind is None else system.mech.for_patients(self.ind)
        self.pert = self.mech.perturbations

    def prov(self, layer: str, key: str, how: str = "") -> Provenance:
        return Provenance.of(self.spec[layer][key], how)

    def param(
        self, layer: str, key: str, value: Any, unit: str | None = None, per_patient: bool = False
    ) -> str:
        """A mechanism-file constant ``<layer>_<key>`` with its file's provenance."""
        how = _individual_note(key) if per_patient else ""
        return self.b.param(
            f"{layer}_{key}",
            value,
            unit or _unit_of(key),
            self.prov(layer, key, how),
            per_patient,
        )

    def perturbation(self, key: str, value: float | np.ndarray, per_patient: bool = False) -> str:
        """An intervention of :class:`ketasim.model.Perturbations` (0: none)."""
        return self.b.param(
            f"perturbation_{key}",
            value,
            _unit_of(key),
            Provenance(
                "ketasim.model.Perturbations",
                "input",
                f"in-silico intervention {key}",
                _individual_note(key) if per_patient else "",
            ),
            per_patient,
        )

    # ---- receptor: unbound brain concentrations, quasi-steady-state block, block at rest

    def receptor(self, pk_parts: Sequence[tuple[Model, str, Regimen]]) -> None:
        b, system, r = self.b, self.chain.system, self.mech.receptor
        kp_default = self.param("receptor", "kp_uu", r.kp_uu)
        mg_how = "set by the perturbation mg_mm" if self.pert.mg_mm is not None else ""
        self.mg = b.param("receptor_mg_mm", r.mg_mm, "mM", self.prov("receptor", "mg_mm", mg_how))
        self.k0 = self.param("receptor", "mg_k0_mm", r.mg_k0_mm)
        self.slope = self.param("receptor", "mg_slope_per_mv", r.mg_slope_per_mv, "per_mV")
        keys = {
            "interneuron": ("v_interneuron_mv", "p_open_interneuron"),
            "pyramidal": ("v_pyramidal_active_mv", "p_open_pyramidal"),
            "rest": ("v_rest_mv", "p_open_rest"),
        }
        self.v_mv = {
            pop: self.param("receptor", k[0], r.v_mv[pop], "mV") for pop, k in keys.items()
        }
        self.p_open = {pop: self.param("receptor", k[1], r.p_open[pop]) for pop, k in keys.items()}
        share_2b = self.param("receptor", "share_2b_pyramidal", r.share_2b["pyramidal"])
        self.share_2b = {
            "interneuron": self.param(
                "receptor", "share_2b_interneuron", r.share_2b["interneuron"]
            ),
            "pyramidal": share_2b,
            "rest": share_2b,
        }
        self.blockers = list(system.blockers)
        potency = Provenance.of(self.spec["receptor"]["metabolite_potency"])
        sources = _blocker_sources(pk_parts, (r.metabolite_potency, potency))
        self.bp: list[dict[str, str | None]] = []
        self.conc: list[str] = []
        for blocker, mw, i in zip(self.blockers, system.mw, system.effect_index, strict=True):
            params = _blocker_params(b, blocker, mw, sources[blocker.name], kp_default)
            self.bp.append(params)
            effect = self.sid[self.chain.state_names[i]]
            # 1 uM = MW ng/mL
            c = b.rule(
                f"c_um_{blocker.name}", f"{effect} * {params['kp_uu']} / {params['mw']}", "uM"
            )
            self.conc.append(c)
        if not self.blockers:
            for key in (
                "block_interneuron",
                "block_pyramidal",
                "block_pyramidal_channel",
                "block_rest",
                "block_rest_open",
                "mu_opioid_occupancy",
            ):
                b.rule(key, "0", output=key)
            self.block_i, self.block_e = "block_interneuron", "block_pyramidal"
            self.block_ch, self.block_rest = "block_pyramidal_channel", "block_rest"
            self.occupancy_id = "mu_opioid_occupancy"
        else:
            self._block()
        if self.pert.mu_opioid_hypothesis:
            naltrexone = self.perturbation("naltrexone", self.pert.naltrexone)
            formula = f"{self.occupancy_id} * (1 - {naltrexone})"
        else:
            formula = "0"
        self.opioid = b.rule("opioid_signal", formula, output="opioid_signal")

    def _mg_free(self, pop: str, weakening: str | None) -> str:
        """``mg_unblocked``: receptors free of Mg2+ at the population's potential."""
        rid = f"receptor_mg_free_{pop}" + ("_2cd" if weakening else "")
        if rid in self.b.rules:
            return rid
        k0 = f"{self.k0} * {weakening}" if weakening else self.k0
        v = self.v_mv[pop]
        return self.b.rule(rid, f"1 / (1 + {self.mg} / ({k0}) * exp(-{self.slope} * {v}))")

    def _binding(
        self, params: Mapping[str, str | None], c: str, pop: str, free: str
    ) -> tuple[str, str]:
        """``receptor.block._rates``: the binding and the unbinding rate (1/s), as formulas."""
        po, v = self.p_open[pop], self.v_mv[pop]
        on = f"{po} * {params['kon']} * {_max0(c, 'uM')} * {_lit(1e-6, 'M_per_uM')} * {free}"
        koff_v = (
            f"{params['koff']} * exp({params['delta']} * ({v} + {_lit(70, 'mV')}) "
            f"/ {_lit(25.4, 'mV')})"
        )
        off = f"{po} * {koff_v} + (1 - {po}) * {params['k_esc']}"
        return f"({on})", f"({off})"

    def _occupancy(self, rid: str, key: str, power: str | None = None, output: str = "") -> str:
        """A site shared by competing ligands: x / (1 + x), x = sum (C / K)^n."""
        terms = []
        for params, c in zip(self.bp, self.conc, strict=True):
            k = params.get(key)
            if k is None:
                continue
            ratio = f"{_max0(c, 'uM')} / {k}"
            terms.append(ratio if power is None else f"({ratio})^{params[power]}")
        x = _sum(terms)
        return self.b.rule(rid, f"({x}) / (1 + {x})", output=output)

    def _population(self, pop: str, allosteric: bool, out: str) -> str:
        """``population_block``: pore, closed-state and GluN2B routes combined."""
        r = self.mech.receptor
        groups: list[tuple[str | None, str | None]] = [(None, None)]
        if r.share_2cd[pop] > 0:
            share = self.param("receptor", f"share_2cd_{pop}", r.share_2cd[pop])
            weak = self.param("receptor", "mg_weakening_2cd", r.mg_weakening_2cd)
            groups = [(f"(1 - {share})", None), (share, weak)]
        parts = []
        for share_id, weak_id in groups:
            free = self._mg_free(pop, weak_id)
            ratios = [
                "{} / {}".format(*self._binding(params, c, pop, free))
                for blocker, params, c in zip(self.blockers, self.bp, self.conc, strict=True)
                if blocker.pore
            ]
            x = _sum(ratios)
            term = f"({x}) / (1 + ({x}))"
            parts.append(term if share_id is None else f"{share_id} * {term}")
        allo = f"{self.share_2b[pop]} * {self.glun2b}" if allosteric else "0"
        return self.b.rule(
            out, f"1 - (1 - ({_sum(parts)})) * (1 - {allo}) * (1 - {self.closed})", output=out
        )

    def _block(self) -> None:
        b = self.b
        self.glun2b = self._occupancy("glun2b_inhibition", "glun2b_ic50", "glun2b_hill")
        self.closed = self._occupancy("closed_channel_block", "closed_ic50")
        self.block_i = self._population("interneuron", True, "block_interneuron")
        self.block_e = self._population("pyramidal", True, "block_pyramidal")
        # dissociation and the pressor response follow channel block, not GluN2B inhibition
        self.block_ch = self._population("pyramidal", False, "block_pyramidal_channel")
        rest = [self.sid[f"block_rest_{blocker.name}"] for blocker in self.blockers]
        rest_open = b.rule("block_rest_open", _sum(rest), output="block_rest_open")
        self.block_rest = b.rule(
            "block_rest",
            f"1 - (1 - {rest_open}) * (1 - {self.glun2b} * {self.share_2b['rest']}) "
            f"* (1 - {self.closed})",
            output="block_rest",
        )
        self.occupancy_id = self._occupancy(
            "mu_opioid_occupancy", "mu_ki", output="mu_opioid_occupancy"
        )
        # kinetic block at rest (rest_block_rates): blockers compete for the free receptors
        free_mg = self._mg_free("rest", None)
        free = f"(1 - ({_sum(rest)}))"
        for blocker, params, c, state in zip(self.blockers, self.bp, self.conc, rest, strict=True):
            if not blocker.pore:
                continue
            on, off = self._binding(params, c, "rest", free_mg)
            per_hour = _lit(SECONDS_PER_HOUR, "second_per_hour")
            b.add_rate(state, f"({on} * {free} - {off} * {state}) * {per_hour}")

    # ---- circuit: firing rates in quasi-steady state, glutamate and its adapted reference

    def circuit(self) -> None:
        b, c, sid = self.b, self.mech.circuit, self.sid

        def p(key: str) -> str:
            return self.param("circuit", key, getattr(c, key))

        w_ei, w_ie, w_ee = p("w_ei"), p("w_ie"), p("w_ee")
        nmda_i, share_ee, share_de = p("nmda_drive_i"), p("nmda_share_ee"), p("nmda_share_drive_e")
        block_i, block_e = self.block_i, self.block_e
        theta_i = f"({w_ie} + {nmda_i} - 1)"
        h_e = f"(1 - {w_ee} + {w_ei})"
        drive_i = b.rule("interneuron_drive", f"{nmda_i} * (1 - {block_i}) - {theta_i}")
        drive_e = f"{h_e} * (1 - {share_de} * {block_e})"
        w_ee_eff = f"{w_ee} * (1 - {share_ee} * {block_e})"
        r_e = b.rule(
            "pyramidal_rate_uncollapsed",
            _max0(f"({drive_e} - {w_ei} * {drive_i}) / (1 - {w_ee_eff} + {w_ei} * {w_ie})"),
        )
        collapse = f"1 / (1 + ({_max0(block_e)} / {p('collapse_block')})^{p('collapse_hill')})"
        pyr = b.rule("pyramidal_rate", f"{r_e} * {collapse}", output="pyramidal_rate")
        b.rule("interneuron_rate", _max0(f"{w_ie} * {r_e} + {drive_i}"), output="interneuron_rate")
        glu, ref = sid["glutamate"], sid["glutamate_reference"]
        b.add_rate(glu, f"({pyr} - {glu}) / {p('tau_glutamate_h')}")
        b.add_rate(ref, f"({glu} - {ref}) / {p('tau_adaptation_h')}")
        self.surge = b.rule("glutamate_surge", f"1 + {glu} - {ref}", output="glutamate_surge")
        # the surge that reaches the cascade, lowered by tolerance (model.layer_values)
        s, tol = self.mech.synapse, sid["tolerance"]
        gain = self.param("synapse", "tolerance_gain_efficacy", s.tolerance_gain_efficacy)
        route = self.perturbation("surge_route", self.pert.surge_route)
        surge = f"(1 + {route} * ({self.surge} - 1) * (1 - {gain} * {tol}))"
        if self.pert.presynaptic_hypothesis:
            release = _clip01(f"1 - {p('presynaptic_gain')} * {self.block_rest}")
        else:
            release = "1"
        nbqx = self.perturbation("ampa_block", self.pert.ampa_block)
        self.ampa = b.rule("ampa_drive", f"{surge} * {release} * (1 - {nbqx})", output="ampa_drive")

    # ---- signalling cascade

    def signalling(self) -> None:
        b, sg, cps = self.b, self.mech.signalling, self.mech.cascade_perturbations
        individual = self.ind is not None

        def p(key: str) -> str:
            return self.param("signalling", key, getattr(sg, key))

        release_factor = b.param(
            "signalling_bdnf_release_factor",
            cps.bdnf_release_factor,
            "dimensionless",
            self.prov(
                "signalling",
                "met_allele_release_loss",
                "(1 - met_allele_release_loss)^(Met66 alleles of this patient)",
            ),
            individual,
        )
        targeting = b.param(
            "signalling_mrna_targeting_factor",
            cps.mrna_targeting_factor,
            "dimensionless",
            self.prov(
                "signalling",
                "met_allele_mrna_targeting_loss",
                "1 - met_allele_mrna_targeting_loss * (Met66 alleles of this patient) / 2",
            ),
            individual,
        )
        lithium = self.perturbation("lithium_mm", cps.lithium_mm, individual)
        valproate = self.perturbation("valproate", cps.valproate, individual)
        anisomycin = self.perturbation("anisomycin", cps.anisomycin)
        p0, k_rel = p("p_eef2_baseline"), p("k_release")
        st = {name: self.sid[name] for name in signalling_layer.STATES}
        ek, pe, mrna = st["eef2k_activity"], st["p_eef2"], st["bdnf_mrna"]
        bd, be, akt = st["bdnf_dendritic"], st["bdnf_release"], st["akt_active"]
        mtor, prot, ref = st["mtor_active"], st["synaptic_proteins"], st["potentiation_reference"]
        rest_route = self.perturbation("rest_route", self.pert.rest_route)
        u = _max0(f"1 - {rest_route} * {self.block_rest}")
        q = f"({p0} / (1 - {p0}))"
        tr = b.rule("translation", f"(1 - {pe}) / (1 - {p0}) * (1 - {anisomycin})")
        k_syn = f"(1 / {p('tau_bdnf_h')} + {k_rel})"
        regulated = f"({_max0(self.ampa)}^{p('release_hill')} - 1)"
        release = b.rule(
            "bdnf_release_rate",
            f"{k_rel} * (1 + {release_factor} * {regulated}) * {_max0(bd)}",
            "per_hour",
        )
        inhibitor = self.perturbation("eef2k_inhibitor", cps.eef2k_inhibitor)
        b.add_rate(ek, f"({u}^{p('ek_hill')} * (1 - {inhibitor}) - {ek}) / {p('tau_eef2k_h')}")
        b.add_rate(pe, f"{p('k_dephos_per_h')} * ({ek} * (1 - {pe}) * {q} - {pe})")
        actinomycin = self.perturbation("actinomycin_d", cps.actinomycin_d)
        activity = f"{_max0(self.ampa)}^{p('transcription_hill')}"
        b.add_rate(
            mrna,
            f"({activity} * (1 - {actinomycin}) * {targeting} - {mrna}) / {p('tau_bdnf_mrna_h')}",
        )
        knockout = self.perturbation("bdnf_knockout", cps.bdnf_knockout)
        synthesis = f"{k_syn} * {tr} * {_max0(mrna)} * (1 - {knockout})"
        b.add_rate(bd, f"{synthesis} - {bd} / {p('tau_bdnf_h')} - {release}")
        b.add_rate(be, f"({release} / {k_rel} - {be}) / {p('tau_bdnf_ext_h')}")
        trkb = b.rule(
            "trkb_active", _saturating(be, p("trkb_k"), p("trkb_hill")), output="trkb_active"
        )
        b.add_rate(akt, f"({trkb} - {akt}) / {p('tau_akt_h')}")
        rapamycin = self.perturbation("rapamycin", cps.rapamycin)
        target = f"{_saturating(akt, p('mtor_k'), p('mtor_hill'))} * (1 - {rapamycin})"
        b.add_rate(mtor, f"({target} - {mtor}) / {p('tau_mtor_h')}")
        knockin = self.perturbation("gsk3_knockin", cps.gsk3_knockin)
        sb216763 = self.perturbation("sb216763", cps.sb216763)
        e = f"({p('gsk3_akt_inhibition')} * (1 - {knockin}))"
        a = _max0(akt)
        li = f"({lithium} / ({lithium} + {p('lithium_ki_mm')}))"
        direct = f"(1 - {li}) * (1 - {valproate}) * (1 - {sb216763})"
        gsk3 = b.rule(
            "gsk3_active",
            f"(1 - {e} * {a} / (1 + {a})) / (1 - {e} / 2) * {direct}",
            output="gsk3_active",
        )
        inhibition = _max0(f"1 - {gsk3}")
        gate = f"{inhibition} / ({inhibition} + {p('gsk3_gate_k')})"
        pot = b.rule(
            "potentiation", f"{_max0(f'{mtor} * {tr} - 1')} * {gate}", output="potentiation"
        )
        self.drive = b.rule(
            "synaptic_drive",
            _max0(f"{pot} - {ref} - {p('drive_threshold')}"),
            output="synaptic_drive",
        )
        b.add_rate(
            prot, f"(1 + {p('protein_gain')} * {self.drive} - {prot}) / {p('tau_protein_h')}"
        )
        b.add_rate(ref, f"({pot} - {ref}) / {p('tau_adaptation_h')}")

    # ---- synapse: spines and tolerance

    def synapse(self) -> None:
        b, s, sid = self.b, self.mech.synapse, self.sid

        def p(key: str, per_patient: bool = False) -> str:
            return self.param("synapse", key, getattr(s, key), per_patient=per_patient)

        nsb = b.param(
            "synapse_new_spine_baseline",
            NEW_SPINE_BASELINE,
            "dimensionless",
            Provenance(
                "ketasim.synapse.spines.NEW_SPINE_BASELINE",
                "assumed",
                "share of new spines in the depressed steady state",
            ),
        )
        new, mush, prot = sid["spines_new"], sid["spines_mushroom"], sid["synaptic_proteins"]
        deficit, tau_mat, tau_new = p("spine_deficit"), p("tau_maturation_h"), p("tau_new_loss_h")
        tau_loss = p("tau_mature_loss_h", per_patient=self.ind is not None)
        free = _clip01(f"(1 + {nsb} - {new} - {mush}) / {deficit}")
        extra = f"{p('formation_gain')} * {_max0(f'{prot} - 1')} * {free}"
        formation = f"{nsb} * (1 / {tau_new} + 1 / {tau_mat})"
        b.add_rate(new, f"{formation} * (1 + {extra}) - {new} * (1 / {tau_new} + 1 / {tau_mat})")
        floor = b.rule("mushroom_floor", f"(1 - {deficit}) - {nsb} / {tau_mat} * {tau_loss}")
        b.add_rate(mush, f"{new} / {tau_mat} - ({mush} - {floor}) / {tau_loss}")
        self.restoration = b.rule(
            "spine_restoration",
            f"({new} + {mush} - ({nsb} + (1 - {deficit}))) / {deficit}",
            output="spine_restoration",
        )
        sym = self.spec["symptoms"]
        how = "as the pyramidal block racemic ketamine gives at this effect-site concentration"
        self.c50_cadss = b.param(
            "symptoms_block_c50_cadss",
            self.mech.side.block_c50_cadss,
            "dimensionless",
            Provenance.of(sym["cadss_c50_ng_per_ml"], how),
        )
        self.c50_sbp = b.param(
            "symptoms_block_c50_sbp",
            self.mech.side.block_c50_sbp,
            "dimensionless",
            Provenance.of(sym["sbp_c50_ng_per_ml"], how),
        )
        tol = sid["tolerance"]
        b.add_rate(tol, f"({self.block_ch} / {self.c50_cadss} - {tol}) / {p('tolerance_tau_h')}")

    # ---- side effects: dissociation, psychotomimetic symptoms, blood pressure, sedation

    def side_effects(self) -> None:
        b, side, sid = self.b, self.mech.side, self.sid
        system = self.chain.system

        def p(key: str, unit: str | None = None) -> str:
            return self.param("symptoms", key, getattr(side, key), unit)

        gain = self.param("synapse", "tolerance_gain_dissociation", side.tolerance_gain)
        damp = _clip01(f"1 - {gain} * {sid['tolerance']}")
        x = f"{self.block_ch} / {self.c50_cadss}"
        dissociation = b.rule("dissociation", f"{_emax(x, p('cadss_hill'))} * {damp}")
        pressor = b.rule("pressor", _emax(f"{self.block_ch} / {self.c50_sbp}", p("sbp_hill")))
        if system.sedative_index is not None:
            ce = sid[self.chain.state_names[system.sedative_index]]
            c50 = p("sedation_c50_ng_per_ml", "ng_per_ml")
            sedation = b.rule(
                "sedation", f"{ce} / ({c50} + {_max0(ce, 'ng_per_ml')})", output="sedation"
            )
        else:
            sedation = b.rule("sedation", "0", output="sedation")
        b.rule("cadss", f"{p('cadss_emax')} * {dissociation}", output="cadss")
        b.rule("bprs_positive", f"{p('bprs_emax')} * {dissociation}", output="bprs_positive")
        baseline = Provenance(
            "ketasim.symptoms.side_effects", "assumed", "baseline of a depressed trial patient"
        )
        sbp0 = b.param("symptoms_sbp_baseline_mmhg", SBP_BASELINE_MMHG, "mmHg", baseline)
        hr0 = b.param("symptoms_hr_baseline_bpm", HR_BASELINE_BPM, "per_minute", baseline)
        sbp = p("sbp_emax_mmhg", "mmHg")
        b.rule("sbp_mmhg", f"{sbp0} + {sbp} * {pressor}", "mmHg", output="sbp_mmhg")
        hr = p("hr_emax_bpm", "per_minute")
        b.rule("heart_rate_bpm", f"{hr0} + {hr} * {pressor}", "per_minute", output="heart_rate_bpm")
        self.felt = b.rule("felt", f"max({dissociation}, {sedation})", output="felt")

    # ---- symptoms: severities, fast drive, placebo, rating scales

    def symptoms(self) -> None:
        b, sy, sid = self.b, self.mech.symptoms, self.sid
        system = self.chain.system
        individual = self.ind is not None

        def p(key: str, per_patient: bool = False) -> str:
            return self.param("symptoms", key, getattr(sy, key), per_patient=per_patient)

        fast = sid["fast_drive"]
        expectation, felt, placebo = (
            sid["placebo_expectation"],
            sid["placebo_felt"],
            sid["placebo_effect"],
        )
        fast_gain, sustained_gain = p("fast_gain", individual), p("sustained_gain", individual)
        placebo_max, felt_gain = p("placebo_max", individual), p("placebo_felt_gain", individual)
        emax = p("emax")
        x_mood = f"({_max0(fast)} + {sustained_gain} * {_max0(self.restoration)})"
        e_mood = b.rule("mood_effect", f"{emax} * {x_mood} / (1 + {x_mood})")
        x_direct = f"({_max0(fast)} + {fast_gain} * {_max0(f'{self.surge} - 1')})"
        e_direct = b.rule("direct_effect", f"{emax} * {x_direct} / (1 + {x_direct})")
        fall = b.rule("placebo_fall", f"({placebo_max} + {felt_gain} * {felt}) * {placebo}")
        s0 = p("felt_threshold")
        noticed = _clip01(f"({self.felt} - {s0}) / (1 - {s0})")
        baseline_prov = (
            Provenance(
                "ketasim.population",
                "input",
                "latent baseline severity of this virtual patient",
                "drawn from data/population.yaml covariates.severity",
            )
            if individual
            else self.prov("symptoms", "baseline_severity")
        )
        share = p("suicidal_direct_share")
        for k, dim in enumerate(symptoms_layer.DIMENSIONS):
            base = b.param(
                f"baseline_severity_{dim}",
                system.baseline[:, k],
                "dimensionless",
                baseline_prov,
                per_patient=True,
            )
            if dim == "suicidal_ideation":
                effect = f"((1 - {share}) * {e_mood} + {share} * {e_direct})"
                tau = p("tau_suicidal_h")
            else:
                coupling = b.param(
                    f"symptoms_mood_coupling_{dim}",
                    MOOD_COUPLING[dim],
                    "dimensionless",
                    Provenance(
                        "ketasim.symptoms.severity.MOOD_COUPLING",
                        "assumed",
                        f"how strongly {dim} follows the synaptic (mood) drive",
                        "the review reports antianhedonic (Lally 2014) and anxiolytic "
                        "(Irwin 2010) effects",
                    ),
                )
                effect = f"{coupling} * {e_mood}"
                tau = p("tau_severity_h")
            sev = sid[f"severity_{dim}"]
            b.add_rate(sev, f"({base} * (1 - {effect}) * (1 - {fall}) - {sev}) / {tau}")
        target = f"{fast_gain} * {_max0(self.drive)} + {p('opioid_gain')} * {_max0(self.opioid)}"
        b.add_rate(fast, f"({target} - {fast}) / {p('tau_fast_h')}")
        tau_off = p("tau_placebo_off_h")
        b.add_rate(expectation, f"-{expectation} / {tau_off}")
        felt_rate = b.param(
            "symptoms_felt_rate_per_h",
            10.0,
            "per_hour",
            Provenance(
                "ketasim.symptoms.severity.rhs",
                "assumed",
                "rate at which a noticed treatment is registered as felt",
            ),
        )
        b.add_rate(felt, f"{felt_rate} * {noticed} * (1 - {felt}) - {felt} / {tau_off}")
        rise = f"(1 - exp(-{_max0(expectation)}))"
        b.add_rate(placebo, f"({rise} - {placebo}) / {p('tau_placebo_on_h')}")
        for name, scale in load_scales().items():
            terms = []
            for dim, w in scale.weights.items():
                weight = b.param(
                    f"scale_{name}_weight_{dim}",
                    w,
                    "dimensionless",
                    Provenance(
                        scale.source, "assumed", f"weight of {dim} in {name}", "data/scales.yaml"
                    ),
                )
                terms.append(f"{weight} * {sid[f'severity_{dim}']}")
            top = b.param(
                f"scale_{name}_max_score",
                scale.max_score,
                "dimensionless",
                Provenance(scale.source, "literature", f"maximal {name} score"),
            )
            b.rule(f"score_{name}", f"{top} * {_clip01(_sum(terms))}", output=f"score_{name}")
        if self.mech.fst_immobility_s is not None:
            fst = b.param(
                "symptoms_fst_immobility_s",
                self.mech.fst_immobility_s,
                "second",
                self.prov("symptoms", "fst_immobility_s"),
            )
            core = sid["severity_core_mood"]
            b.rule(
                "fst_immobility",
                f"{fst} * {core} / baseline_severity_core_mood",
                "second",
                output="fst_immobility",
            )


def _saturating(x: str, k: str, hill: str) -> str:
    """``signalling.saturating``: x^n (1 + K^n) / (K^n + x^n), 1 at x = 1."""
    xn = f"{_max0(x)}^{hill}"
    kn = f"{k}^{hill}"
    return f"{xn} * (1 + {kn}) / ({kn} + {xn})"


def _emax(x: str, hill: str) -> str:
    """``side_effects._emax``: x^n / (1 + x^n) for x >= 0."""
    return f"{_max0(x)}^{hill} / (1 + {_max0(x)}^{hill})"


def _mechanism(
    b: _Builder,
    chain: ChainModel,
    sid: Mapping[str, str],
    spec: Mapping[str, Mapping[str, Parameter]],
    pk_parts: Sequence[tuple[Model, str, Regimen]],
) -> None:
    """Receptor to symptoms, in the order ``ChainSystem.layer_values`` computes them."""
    layers = _Mechanism(b, chain, sid, spec)
    layers.receptor(pk_parts)
    layers.circuit()
    layers.signalling()
    layers.synapse()
    layers.side_effects()
    layers.symptoms()


def _unit_of(key: str) -> str:
    """The SBML unit of a layer parameter from the unit its name promises."""
    if key.endswith("_per_h") or key == "k_release":
        return "per_hour"
    if key.endswith("_h"):
        return "hour"
    if key.endswith("_mm"):
        return "mM"
    if key.endswith("_um"):
        return "uM"
    return "dimensionless"


# --------------------------------------------------------------------------------------------
# Writing the document
# --------------------------------------------------------------------------------------------


def _ok(code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(
            f"libsbml could not {what}: {libsbml.OperationReturnValue_toString(code)}"
        )


def _math(formula: str) -> Any:
    """Parse a Level 3 formula; numbers written without a unit are dimensionless."""
    ast = libsbml.parseL3Formula(formula)
    if ast is None:
        raise ValueError(f"not an SBML formula ({libsbml.getLastParseL3Error()}): {formula}")
    stack = [ast]
    while stack:
        node = stack.pop()
        if node.isNumber() and not node.isSetUnits():
            _ok(node.setUnits("dimensionless"), "give a number its unit")
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    return ast


def _notes(text: str) -> str:
    return f'<body xmlns="http://www.w3.org/1999/xhtml"><p>{escape(text)}</p></body>'


def _annotation(prov: Provenance, per_patient: bool) -> str:
    attrs = {
        "source": prov.source,
        "kind": prov.kind,
        "perPatient": "true" if per_patient else "false",
    }
    body = " ".join(f'{PROVENANCE_PREFIX}:{k}="{escape(v, quote=True)}"' for k, v in attrs.items())
    return (
        f'<annotation><{PROVENANCE_PREFIX}:provenance xmlns:{PROVENANCE_PREFIX}="{PROVENANCE_NS}" '
        f"{body}/></annotation>"
    )


def _describe(prov: Provenance) -> str:
    parts = [prov.description.strip() or "parameter", f"Source: {prov.source} ({prov.kind})."]
    if prov.reason:
        parts.append(prov.reason.strip())
    return " ".join(parts)


def _write_document(export: SbmlExport, patient: int) -> libsbml.SBMLDocument:
    doc = libsbml.SBMLDocument(SBML_LEVEL, SBML_VERSION)
    model = doc.createModel()
    _ok(model.setId(export.model_id), "set the model id")
    model.setName(export.title)
    model.setNotes(_notes(export.description))
    for uid, factors in UNITS.items():
        ud = model.createUnitDefinition()
        ud.setId(uid)
        for kind, exponent, scale, multiplier in factors:
            unit = ud.createUnit()
            unit.setKind(kind)
            unit.setExponent(exponent)
            unit.setScale(scale)
            unit.setMultiplier(multiplier)
    model.setTimeUnits("hour")
    comp = model.createCompartment()
    comp.setId("body")
    comp.setName("the patient (nominal container; the states are parameters with rate rules)")
    comp.setSpatialDimensions(3)
    comp.setSize(1.0)
    comp.setUnits("litre")
    comp.setConstant(True)

    for p in export.parameters:
        par = model.createParameter()
        _ok(par.setId(p.id), f"use the id {p.id}")
        name = p.provenance.description or p.id
        par.setName(
            name if not p.per_patient or "this patient" in name else f"{name}, this patient"
        )
        par.setValue(float(p.values[patient]))
        par.setUnits(p.unit)
        par.setConstant(True)
        par.setNotes(_notes(_describe(p.provenance)))
        _ok(par.setAnnotation(_annotation(p.provenance, p.per_patient)), f"annotate {p.id}")
    for s in export.states:
        par = model.createParameter()
        _ok(par.setId(s.id), f"use the id {s.id}")
        par.setName(f"{s.state} ({s.layer} state)")
        par.setValue(float(s.initial[patient]))
        par.setUnits(s.unit)
        par.setConstant(False)
        prov = Provenance(
            f"ketasim.{s.layer}",
            "state",
            f"{s.layer} state {s.state}",
            "initial value: the untreated (or perturbed) steady state of this patient",
        )
        par.setNotes(_notes(_describe(prov)))
        _ok(par.setAnnotation(_annotation(prov, True)), f"annotate {s.id}")
        rule = model.createRateRule()
        rule.setVariable(s.id)
        _ok(rule.setMath(_math(s.rate)), f"set the rate of {s.id}")
    for var in export.switches:
        par = model.createParameter()
        _ok(par.setId(var), f"use the id {var}")
        par.setName("infusion rate, switched on and off by the dosing events")
        par.setValue(0.0)
        par.setUnits("mg_per_hour")
        par.setConstant(False)
        prov = Provenance("regimen", "input", "infusion rate switched on and off by events")
        par.setNotes(_notes(_describe(prov)))
        _ok(par.setAnnotation(_annotation(prov, False)), f"annotate {var}")
    for rule_spec in export.rules:
        par = model.createParameter()
        _ok(par.setId(rule_spec.id), f"use the id {rule_spec.id}")
        par.setName(rule_spec.description)
        par.setUnits(rule_spec.unit)
        par.setConstant(False)
        prov = Provenance(
            "ketasim.model.ChainSystem.layer_values",
            "output" if rule_spec.output else "intermediate",
            f"quasi-steady-state quantity {rule_spec.description}",
        )
        par.setNotes(_notes(_describe(prov)))
        par.setAnnotation(_annotation(prov, False))
        rule = model.createAssignmentRule()
        rule.setVariable(rule_spec.id)
        _ok(rule.setMath(_math(rule_spec.formula)), f"set the rule of {rule_spec.id}")
    for k, ev in enumerate(export.events):
        event = model.createEvent()
        event.setId(f"dose_event_{k + 1}")
        event.setName(f"administration events just after t = {ev.t_h:g} h")
        event.setUseValuesFromTriggerTime(True)
        trigger = event.createTrigger()
        trigger.setInitialValue(False)
        trigger.setPersistent(True)
        trigger.setMath(_math(f"time > {_lit(ev.t_h, 'hour')}"))
        for var, formula in ev.assignments:
            ea = event.createEventAssignment()
            ea.setVariable(var)
            _ok(ea.setMath(_math(formula)), f"set an event assignment to {var}")
    return doc


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def export_sbml(
    chain: ChainModel,
    regimen: Regimen,
    patient: int = 0,
    *,
    species: str | None = None,
    readings: dict[str, str] | None = None,
    allow_anesthetic: bool = False,
    co_regimen: Regimen | None = None,
) -> str:
    """SBML Level 3 Version 2 of ``chain`` under ``regimen`` for ``patient`` of its batch.

    See :func:`sbml_export` for the arguments; the result is the XML document as a string.
    """
    export = sbml_export(
        chain,
        regimen,
        species=species,
        readings=readings,
        allow_anesthetic=allow_anesthetic,
        co_regimen=co_regimen,
    )
    return export.to_xml(patient)


def patient_parameters(
    chain: ChainModel,
    i: int,
    regimen: Regimen,
    *,
    readings: dict[str, str] | None = None,
    allow_anesthetic: bool = False,
) -> dict[str, float]:
    """The SBML values of patient ``i`` of a batched ``chain`` (see
    :meth:`SbmlExport.patient_parameters`). For many patients, build :func:`sbml_export` once
    and call its method instead: this function rebuilds the export each time."""
    export = sbml_export(chain, regimen, readings=readings, allow_anesthetic=allow_anesthetic)
    return export.patient_parameters(i)


#: Columns of a patient row that :func:`export_sbml_for` needs (a ``sample_patients`` row).
PATIENT_COLUMNS: tuple[str, ...] = (
    "weight_kg",
    "bmi_kg_m2",
    "fh_aud",
    "bipolar",
    "d_serine_um",
    "suicide_attempt",
    "shank3_z",
    "comedication",
    "met_alleles",
    "z_fast",
    "z_sustained",
    "z_placebo",
    "z_relapse",
    *(f"severity_{d}" for d in symptoms_layer.DIMENSIONS),
)


def read_patient(source: str | Path | pd.DataFrame | Mapping[str, Any]) -> pd.DataFrame:
    """One virtual patient as a one-row table, from a CSV or YAML file, a mapping or a table.

    The row has the columns of :func:`ketasim.population.sample_patients` (weight, covariates,
    baseline severities, random effects ``z_*``); ``patient`` (the id that seeds its PK
    variability) defaults to 0.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.reset_index(drop=True)
    elif isinstance(source, Mapping):
        frame = pd.DataFrame([dict(source)])
    else:
        path = Path(source)
        if not path.is_file():
            raise KetasimInputError("patient", str(source), "an existing CSV or YAML file")
        try:
            if path.suffix.lower() in (".yaml", ".yml", ".json"):
                raw = yaml.safe_load(path.read_text(encoding="utf-8"))
                if not isinstance(raw, dict):
                    raise KetasimInputError("patient", str(source), "a mapping of column: value")
                frame = pd.DataFrame([raw])
            else:
                frame = pd.read_csv(path)
        except (yaml.YAMLError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise KetasimInputError("patient", str(source), f"a readable file ({exc})") from exc
    if len(frame) != 1:
        raise KetasimInputError("patient", f"{len(frame)} rows", "exactly one patient (one row)")
    missing = [c for c in PATIENT_COLUMNS if c not in frame.columns]
    if missing:
        raise KetasimInputError(
            "patient",
            ", ".join(missing),
            f"the columns of a sample_patients row: {', '.join(PATIENT_COLUMNS)}",
        )
    if "patient" not in frame.columns:
        frame = frame.assign(patient=0)
    return _checked_patient(frame)


_YES_NO: dict[str, bool] = {"true": True, "false": False, "yes": True, "no": False}
_COMEDICATIONS: tuple[str, ...] = ("none", "antidepressants", "lithium", "valproate")


def _checked_patient(frame: pd.DataFrame) -> pd.DataFrame:
    """The row with its values checked and typed, or an error naming the first bad column."""
    row = frame.iloc[0]
    out: dict[str, Any] = dict(row)

    def bad(column: str, allowed: str) -> KetasimInputError:
        value = row[column]
        value = value.item() if isinstance(value, np.generic) else value
        return KetasimInputError(f"patient.{column}", value, allowed)

    for column in ("fh_aud", "bipolar", "suicide_attempt"):
        value = row[column]
        if isinstance(value, str) and value.strip().lower() in _YES_NO:
            value = _YES_NO[value.strip().lower()]
        if value not in (True, False):  # 0 and 1 compare equal to False and True
            raise bad(column, "true or false")
        out[column] = bool(value)
    if row["comedication"] not in _COMEDICATIONS:
        raise bad("comedication", f"one of {', '.join(_COMEDICATIONS)}")
    numeric = [c for c in PATIENT_COLUMNS if c not in ("fh_aud", "bipolar", "suicide_attempt")]
    for column in numeric:
        if column == "comedication":
            continue
        value = pd.to_numeric(pd.Series([row[column]]), errors="coerce").iloc[0]
        if not np.isfinite(value):
            raise bad(column, "a number")
        out[column] = float(value)
    if not out["weight_kg"] > 0:
        raise bad("weight_kg", "a body weight above 0 kg")
    if out["met_alleles"] not in (0, 1, 2):
        raise bad("met_alleles", "0, 1 or 2 BDNF Met66 alleles")
    out["met_alleles"] = int(out["met_alleles"])
    patient_id = pd.to_numeric(pd.Series([row["patient"]]), errors="coerce").iloc[0]
    if not (np.isfinite(patient_id) and patient_id >= 0 and patient_id == int(patient_id)):
        raise bad("patient", "a whole number, 0 or more (it seeds the PK variability)")
    out["patient"] = int(patient_id)
    for dim in symptoms_layer.DIMENSIONS:
        if not 0.0 <= out[f"severity_{dim}"] <= 1.0:
            raise bad(f"severity_{dim}", "a latent severity from 0 to 1")
    return pd.DataFrame([out])


def build_chain_for(
    drug: str,
    *,
    dose: str | None = None,
    route: str = "iv-infusion",
    over: str | None = None,
    every: str | None = None,
    count: int | None = None,
    schedule: Sequence[str] | None = None,
    rates: Sequence[tuple[str, str]] | None = None,
    species: str = "human",
    weight: str | None = None,
    patient: str | Path | pd.DataFrame | Mapping[str, Any] | None = None,
    variability: bool = False,
    seed: int = 0,
) -> tuple[ChainModel, Regimen]:
    """The one-patient full model and regimen from the flat options of the CLI, built as
    :func:`ketasim.simulate` builds them (a ``patient`` row sets the weight, the covariate
    factors and baseline severities; its ``patient`` id seeds the PK variability)."""
    load_drug(drug)
    if species not in SPECIES:
        raise UnknownNameError("species", species, SPECIES)
    if load_drug(drug).is_placebo and rates is None:
        if dose is not None and Dose(dose, route=route, over=over).amount > 0:
            raise RegimenError("dose", dose, f"{drug} contains no drug: leave the dose out")
        dose = "0 mg"
    regimen = build_regimen(
        dose, route, over, every=every, count=count, schedule=schedule, rates=rates
    )
    individual = None
    patient_ids = None
    if patient is not None:
        row = read_patient(patient)
        if weight is not None:
            raise KetasimInputError("weight", weight, "leave it out: the patient sets the weight")
        individual = individual_parameters(row, PopulationParams.load())
        weights = row["weight_kg"].to_numpy(dtype=float)
        patient_ids = row["patient"].to_numpy()
    elif weight is not None:
        weights = np.array([parse_weight_kg(weight, "weight")])
    else:
        weights = np.array([SPECIES[species]])
    if not np.all(weights > 0):
        raise KetasimInputError("weight", list(weights), "a body weight above 0 kg")
    chain = build_chain(
        drug,
        species,
        regimen.routes,
        weights,
        seed=seed,
        variability=variability,
        individual=individual,
        patient_ids=patient_ids,
    )
    return chain, regimen


def export_sbml_for(
    drug: str,
    *,
    dose: str | None = None,
    route: str = "iv-infusion",
    over: str | None = None,
    every: str | None = None,
    count: int | None = None,
    schedule: Sequence[str] | None = None,
    rates: Sequence[tuple[str, str]] | None = None,
    species: str = "human",
    weight: str | None = None,
    patient: str | Path | pd.DataFrame | Mapping[str, Any] | None = None,
    variability: bool = False,
    seed: int = 0,
    bioavailability: dict[str, str] | None = None,
    allow_anesthetic: bool = False,
) -> str:
    """SBML of the full model for one patient, from the options ``ketasim export sbml`` takes.

    Parameters
    ----------
    drug, dose, route, over, every, count, schedule, rates, species, weight
        As in :func:`ketasim.simulate`.
    patient
        A virtual patient (CSV or YAML file, mapping or one-row table with the columns of
        :func:`ketasim.population.sample_patients`); default the typical patient.
    variability, seed
        Draw this patient's PK factors (CL, V, ka, F) from the drug file's variability.
    bioavailability
        Route -> named published reading.
    allow_anesthetic
        Export doses that reach anaesthetic exposure.

    Returns
    -------
    str
        The SBML Level 3 Version 2 document.
    """
    chain, regimen = build_chain_for(
        drug,
        dose=dose,
        route=route,
        over=over,
        every=every,
        count=count,
        schedule=schedule,
        rates=rates,
        species=species,
        weight=weight,
        patient=patient,
        variability=variability,
        seed=seed,
    )
    return export_sbml(
        chain,
        regimen,
        species=species,
        readings=bioavailability,
        allow_anesthetic=allow_anesthetic,
    )


# --------------------------------------------------------------------------------------------
# Running an export in libRoadRunner, patient by patient
# --------------------------------------------------------------------------------------------


def load_roadrunner(xml: str, *, rtol: float = 1e-6, atol: float = 1e-9) -> Any:
    """A compiled libRoadRunner model of ``xml`` with CVODE at ketasim's tolerances.

    ``rtol`` and ``atol`` mean what they mean in :class:`ketasim.engine.SolveOptions`: the
    absolute tolerance is the same for every state, in the state's own unit. Given a single
    number, libRoadRunner would multiply it by each state's initial value where that is
    below 1 (a state starting at 1e-36 would get an absolute tolerance of 1e-45 and stall
    CVODE), so it is set as a vector, which libRoadRunner uses as it is.
    """
    import roadrunner

    rr = roadrunner.RoadRunner(xml)
    integrator = rr.integrator
    integrator.relative_tolerance = rtol
    integrator.absolute_tolerance = atol
    size = len(integrator.getAbsoluteToleranceVector())
    integrator.setValue("absolute_tolerance", [float(atol)] * size)
    return rr


def set_patient(rr: Any, values: Mapping[str, float]) -> None:
    """Reset a loaded model and give it one patient's values (:meth:`patient_parameters`).

    ``resetAll`` also switches the infusion rates off (event-set parameters that a plain
    ``reset`` keeps). The events trigger just after their dose times, so none fires at the
    reset and the order of the settings does not matter.
    """
    rr.resetAll()
    for key, value in values.items():
        rr.setValue(key, float(value))


def simulate_roadrunner(
    rr: Any,
    times_h: Sequence[float] | np.ndarray,
    ids: Sequence[str],
    values: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Simulate a loaded model on ``times_h`` and return ``ids`` (times x ids).

    ``values``: a patient's values to set first (:func:`set_patient`); without them the model
    is reset to the patient it was written for.
    """
    if values is None:
        rr.resetAll()
    else:
        set_patient(rr, values)
    t = np.asarray(times_h, dtype=float)
    rr.timeCourseSelections = ["time", *ids]
    result = np.asarray(rr.simulate(times=list(t)))
    return result[:, 1:]


__all__ = [
    "PATIENT_COLUMNS",
    "Provenance",
    "SbmlExport",
    "build_chain_for",
    "export_sbml",
    "export_sbml_for",
    "load_roadrunner",
    "patient_parameters",
    "read_patient",
    "sbml_export",
    "set_patient",
    "simulate_roadrunner",
]
