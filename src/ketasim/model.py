"""Assembles ketasim's layers into one ODE system (the only module that knows them all).

:class:`Model` is the pharmacokinetic layer alone (parent and metabolite compartments, the
absorption depots of the routes a regimen uses, venous sampling and brain effect sites).
:class:`ChainModel` follows the review's Figure 1 from there: unbound brain concentrations
block NMDA receptors (``receptor``), the block disinhibits pyramidal cells (``circuit``), the
glutamate surge and the block at rest drive BDNF, mTORC1 and GSK-3 (``signalling``), synaptic
proteins build spines (``synapse``), and the synaptic drive lowers the latent severity read by
the rating scales, beside dissociation, blood pressure and placebo (``symptoms``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ketasim import circuit as circuit_layer
from ketasim import signalling as signalling_layer
from ketasim import symptoms as symptoms_layer
from ketasim import synapse as synapse_layer
from ketasim.circuit import CircuitParams, ampa_drive, firing_rates, presynaptic_release
from ketasim.data import load_drug, load_mechanism
from ketasim.data.spec import Drug
from ketasim.engine import Breakpoint, LinearSystem, SolveOptions, integrate
from ketasim.errors import KetasimInputError, RegimenError, UnknownNameError
from ketasim.pk.compartments import (
    PkStructure,
    PkValues,
    build_structure,
    disposition_values,
    metabolite_disposition,
    rate_matrix,
)
from ketasim.pk.dosing import regimen_inputs
from ketasim.pk.regimen import Input, Regimen
from ketasim.pk.variability import sample_factors
from ketasim.population import Individual
from ketasim.receptor import (
    Blocker,
    ReceptorParams,
    closed_channel_block,
    glun2b_inhibition,
    mu_opioid_occupancy,
    population_block,
    rest_block_rates,
)
from ketasim.signalling import (
    SignallingParams,
    SignallingPerturbations,
    potentiation,
    synaptic_drive,
)
from ketasim.symptoms import SideEffects, SymptomParams, scale_scores, side_effects
from ketasim.synapse import SynapseParams


@dataclass(frozen=True)
class Model:
    """One drug in one species for a batch of patients, ready to integrate."""

    drug: Drug
    metabolite: Drug | None
    species: str
    structure: PkStructure
    values: PkValues
    weight_kg: np.ndarray
    factors: dict[str, np.ndarray]

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.structure.state_names

    def system(self) -> LinearSystem:
        """The batched ODE system dy/dt = K y + u."""
        return LinearSystem(rate_matrix(self.structure, self.values))

    def initial_state(self) -> np.ndarray:
        """All states at zero: no drug on board."""
        return np.zeros((self.weight_kg.size, len(self.state_names)))

    def mw(self, analyte: str) -> float:
        """Molar mass (g/mol) of an analyte, for ng/mL -> uM (1 uM = MW ng/mL)."""
        drug = self.drug if analyte == self.structure.parent else self.metabolite
        if drug is None or drug.mw is None:
            raise KeyError(analyte)
        return drug.mw.to("g/mol")

    def breakpoints(
        self,
        regimen: Regimen,
        readings: dict[str, str] | None = None,
        allow_anesthetic: bool = False,
    ) -> list[Breakpoint]:
        """The regimen as engine breakpoints (boluses and rate changes per patient)."""
        inputs = regimen_inputs(
            regimen,
            self.drug,
            self.species,
            self.structure,
            self.weight_kg,
            self.factors["f"],
            readings,
            allow_anesthetic,
        )
        return inputs_to_breakpoints(inputs, self.state_names, self.weight_kg.size)

    def breakpoints_per_patient(
        self,
        regimens: list[Regimen],
        readings: dict[str, str] | None = None,
        allow_anesthetic: bool = False,
    ) -> list[Breakpoint]:
        """Breakpoints when each patient has a regimen of its own (an event table).

        The inputs are worked out patient by patient (set-up only; the integration stays
        batched) and padded with zeros for the other patients.
        """
        n = self.weight_kg.size
        out: list[Breakpoint] = []
        for p, regimen in enumerate(regimens):
            rows = slice(p, p + 1)
            inputs = regimen_inputs(
                regimen,
                self.drug,
                self.species,
                self.structure,
                self.weight_kg[rows],
                self.factors["f"][rows],
                readings,
                allow_anesthetic,
            )
            for bp in inputs_to_breakpoints(inputs, self.state_names, 1):
                out.append(
                    Breakpoint(
                        bp.t_h,
                        None if bp.bolus is None else _pad(bp.bolus, p, n),
                        None if bp.rate_change is None else _pad(bp.rate_change, p, n),
                    )
                )
        return out


def _pad(row: np.ndarray, p: int, n: int) -> np.ndarray:
    full = np.zeros((n, row.shape[1]))
    full[p] = row[0]
    return full


def inputs_to_breakpoints(
    inputs: list[Input], state_names: tuple[str, ...], n_patients: int
) -> list[Breakpoint]:
    """Turn named inputs into engine breakpoints on the state vector."""
    index = {name: i for i, name in enumerate(state_names)}
    out: list[Breakpoint] = []
    for item in inputs:
        delta = np.zeros((n_patients, len(state_names)))
        delta[:, index[item.state]] = item.amount
        if item.end_h is None:
            out.append(Breakpoint(item.start_h, bolus=delta))
        else:
            out.append(Breakpoint(item.start_h, rate_change=delta))
            out.append(Breakpoint(item.end_h, rate_change=-delta))
    return out


def as_drug(drug: str | Drug) -> Drug:
    """A library drug by name, or a drug spec given as it is (a virtual compound made with
    :meth:`~ketasim.data.spec.Drug.replace`)."""
    return drug if isinstance(drug, Drug) else load_drug(drug)


def build_model(
    drug_name: str | Drug,
    species: str,
    routes: tuple[str, ...],
    weight_kg: np.ndarray,
    *,
    patient_ids: np.ndarray | None = None,
    seed: int = 0,
    variability: bool = False,
) -> Model:
    """The model of ``drug_name`` in ``species`` for patients of the given weights.

    Parameters
    ----------
    drug_name
        A library drug (``ketasim params`` lists them), or a drug spec (a virtual compound).
    species
        ``human``, ``mouse`` or ``rat``.
    routes
        The routes the regimen uses (their absorption depots become states).
    weight_kg
        Body weight of each patient, kg.
    patient_ids
        Stable ids seeding each patient's variability (default 0..n-1).
    seed
        Seed of the between-patient variability.
    variability
        Draw log-normal CL, V, ka and F factors per patient (else the typical patient).
    """
    drug = as_drug(drug_name)
    if drug.is_placebo:
        raise KetasimInputError(
            "drug",
            drug.name,
            "saline has no pharmacokinetics; it is a comparator of the trial layer",
        )
    if species not in drug.species:
        raise UnknownNameError(f"species (for {drug.name})", species, drug.species)
    spk = drug.species[species]
    metabolite = load_drug(drug.metabolite) if drug.metabolite else None
    structure = build_structure(drug, species, metabolite, routes)
    weight = np.asarray(weight_kg, dtype=float)
    ids = np.arange(weight.size) if patient_ids is None else np.asarray(patient_ids)
    factors = sample_factors(spk.variability, ids, seed, enabled=variability)
    parent = disposition_values(
        spk.disposition, weight, spk.reference_weight_kg, factors["cl"], factors["v"]
    )
    met = None
    met_disp = metabolite_disposition(drug, species, metabolite)
    if structure.metabolite is not None and met_disp is not None:
        ones = np.ones_like(weight)
        met = disposition_values(met_disp, weight, spk.reference_weight_kg, ones, ones)
    ka = {pw.state: pw.spec.ka.to("1/h") * factors["ka"] for pw in structure.pathways}
    mw_ratio = 1.0
    if metabolite is not None and drug.mw is not None and metabolite.mw is not None:
        mw_ratio = metabolite.mw.to("g/mol") / drug.mw.to("g/mol")
    values = PkValues(
        parent=parent,
        metabolite=met,
        fm=spk.fm.to("dimensionless") if spk.fm is not None else 0.0,
        mw_ratio=mw_ratio,
        ka=ka,
    )
    return Model(drug, metabolite, species, structure, values, weight, factors)


# --------------------------------------------------------------------------------------------
# The full chain of Figure 1: PK -> receptor -> circuit -> signalling -> synapse -> symptoms
# --------------------------------------------------------------------------------------------

REFERENCE_DRUG = "ketamine-racemic"  # side-effect links are anchored on racemic ketamine
#: A pore blocker's GluN2B-site (ifenprodil-site) IC50, uM: only virtual compounds have it
#: (``Drug.replace(glun2b_site_ic50_um=...)``), making them part channel blocker, part NAM.
GLUN2B_SITE_KEY = "glun2b_site_ic50_um"
EQUILIBRATION_H = 24.0 * 90  # a chronic perturbation is simulated this long before time 0

Fraction = Field(default=0.0, ge=0.0, le=1.0)


@dataclass(frozen=True)
class MetAllele:
    """What each BDNF Met66 allele does to the cascade (``signalling`` constants).

    ``release_loss``: fall of activity-dependent BDNF release per allele (multiplicative).
    ``mrna_loss``: share of dendritic targeting a Met transcript loses (Chiaruttini 2009);
    each allele makes half the transcripts, so the targeted share falls linearly with the
    allele count (Val/Met keeps ``1 - mrna_loss / 2``, Met/Met ``1 - mrna_loss``).
    """

    release_loss: float = 0.0
    mrna_loss: float = 0.0

    def factors(self, alleles: Any) -> dict[str, Any]:
        """The cascade's ``bdnf_release_factor`` and ``mrna_targeting_factor`` for ``alleles``
        (0, 1 or 2, or an array with one entry per patient)."""
        n = np.asarray(alleles, dtype=float)
        return {
            "bdnf_release_factor": (1.0 - self.release_loss) ** n,
            "mrna_targeting_factor": 1.0 - 0.5 * self.mrna_loss * n,
        }


class Perturbations(BaseModel):
    """Interventions for in-silico experiments, each acting on one layer only.

    Receptor: ``mg_mm`` (extracellular Mg2+; ``None`` keeps the physiological 1 mM).
    Circuit: ``ampa_block`` (NBQX; Maeng 2008); ``presynaptic_hypothesis`` (Muller 2013).
    Signalling: ``anisomycin``, ``actinomycin_d``, ``rapamycin``, ``bdnf_knockout``,
    ``eef2k_inhibitor`` (fractions inhibited), ``lithium_mm`` (brain lithium), ``valproate``
    and ``sb216763`` (fraction of GSK-3 inhibited), ``gsk3_knockin`` (S9A; Beurel 2011),
    ``bdnf_met_alleles`` (Val66Met: 0, 1 or 2 Met alleles lower activity-dependent release and
    the dendritic targeting of BDNF mRNA).
    Symptoms: ``mu_opioid_hypothesis`` (ketamine's mu-opioid action adds to the fast drive),
    ``naltrexone`` (fraction of mu-opioid receptors antagonised).
    Synapse: ``tolerance_off`` (the homeostatic tolerance state still integrates but acts on
    neither the synaptic drive nor dissociation: the no-tolerance counterfactual of repeated
    dosing; drug-free, tolerance is zero, so use it with ``chronic=False``).

    ``chronic`` (default): the perturbation has been in place long enough that time 0 is its
    steady state (a knockout, a genotype, lithium in the drinking water); ``False``: it starts
    at time 0 from the unperturbed state (an acute pretreatment).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mg_mm: float | None = Field(default=None, gt=0.0, le=10.0)
    ampa_block: float = Fraction
    presynaptic_hypothesis: bool = False
    anisomycin: float = Fraction
    actinomycin_d: float = Fraction
    rapamycin: float = Fraction
    bdnf_knockout: float = Fraction
    eef2k_inhibitor: float = Fraction
    lithium_mm: float = Field(default=0.0, ge=0.0, le=5.0)
    valproate: float = Fraction
    sb216763: float = Fraction
    gsk3_knockin: float = Fraction
    bdnf_met_alleles: int = Field(default=0, ge=0, le=2)
    mu_opioid_hypothesis: bool = False
    naltrexone: float = Fraction
    tolerance_off: bool = False
    rest_route: float = Field(default=1.0, ge=0.0, le=1.0)
    surge_route: float = Field(default=1.0, ge=0.0, le=1.0)
    chronic: bool = True

    @classmethod
    def from_mapping(cls, value: dict[str, object], field: str = "perturbations") -> Perturbations:
        """Build from a mapping (a form, a file) with a one-line error naming the field."""
        unknown = sorted(set(value) - set(cls.model_fields))
        if unknown:
            allowed = "one of " + ", ".join(cls.model_fields)
            raise KetasimInputError(f"{field}.{unknown[0]}", value[unknown[0]], allowed)
        try:
            return cls(**value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise KetasimInputError(f"{field}.{where}", first.get("input"), first["msg"]) from None

    @property
    def is_none(self) -> bool:
        """True when nothing is perturbed (the switches' defaults)."""
        return self.model_dump(exclude={"chronic"}) == Perturbations().model_dump(
            exclude={"chronic"}
        )

    def signalling(self, met: MetAllele) -> SignallingPerturbations:
        """The cascade's share of the perturbation (``met``: what a Met66 allele does)."""
        return SignallingPerturbations(
            anisomycin=self.anisomycin,
            actinomycin_d=self.actinomycin_d,
            rapamycin=self.rapamycin,
            bdnf_knockout=self.bdnf_knockout,
            eef2k_inhibitor=self.eef2k_inhibitor,
            lithium_mm=self.lithium_mm,
            valproate=self.valproate,
            sb216763=self.sb216763,
            gsk3_knockin=self.gsk3_knockin,
            **{k: float(v) for k, v in met.factors(self.bdnf_met_alleles).items()},
            rest_route=self.rest_route,
            surge_route=self.surge_route,
        )


@dataclass(frozen=True)
class Mechanism:
    """The pharmacodynamic layers' constants for one species."""

    receptor: ReceptorParams
    circuit: CircuitParams
    signalling: SignallingParams
    synapse: SynapseParams
    symptoms: SymptomParams
    side: SideEffects
    baseline_severity: float
    perturbations: Perturbations
    cascade_perturbations: SignallingPerturbations
    fst_immobility_s: float | None = None
    met: MetAllele = MetAllele()

    @classmethod
    def load(cls, species: str, perturbations: Perturbations | None = None) -> Mechanism:
        spec = load_mechanism(species)
        pert = perturbations or Perturbations()
        receptor = ReceptorParams.from_spec(spec["receptor"])
        synapse = SynapseParams.from_spec(spec["synapse"])
        if pert.tolerance_off:
            synapse = replace(synapse, tolerance_gain_efficacy=0.0, tolerance_gain_dissociation=0.0)
        sym = spec["symptoms"]
        ref = load_drug(REFERENCE_DRUG)
        ref_blocker = Blocker.from_drug(ref)
        assert ref_blocker is not None
        ref_mw = ref_blocker.mw_g_per_mol

        # the side-effect links are anchored at physiological Mg2+, before any perturbation
        def block_at(c_ng_per_ml: float) -> float:
            c_um = np.array([c_ng_per_ml * receptor.kp_uu / ref_mw])
            return float(population_block("pyramidal", [ref_blocker], [c_um], receptor)[0])

        side = SideEffects.from_spec(
            sym,
            block_c50_cadss=block_at(sym["cadss_c50_ng_per_ml"].to("ng/mL")),
            block_c50_sbp=block_at(sym["sbp_c50_ng_per_ml"].to("ng/mL")),
            tolerance_gain=synapse.tolerance_gain_dissociation,
        )
        if pert.mg_mm is not None:
            receptor = replace(receptor, mg_mm=pert.mg_mm)
        met = MetAllele(
            release_loss=spec["signalling"]["met_allele_release_loss"].to("dimensionless"),
            mrna_loss=spec["signalling"]["met_allele_mrna_targeting_loss"].to("dimensionless"),
        )
        return cls(
            receptor=receptor,
            circuit=CircuitParams.from_spec(spec["circuit"]),
            signalling=SignallingParams.from_spec(spec["signalling"]),
            synapse=synapse,
            symptoms=SymptomParams.from_spec(sym),
            side=side,
            baseline_severity=sym["baseline_severity"].to("dimensionless"),
            perturbations=pert,
            cascade_perturbations=pert.signalling(met),
            fst_immobility_s=sym["fst_immobility_s"].to("s") if "fst_immobility_s" in sym else None,
            met=met,
        )

    def for_patients(self, ind: Individual) -> Mechanism:
        """The constants with each patient's own values (arrays with one entry per patient):
        clinical gains, placebo response and relapse time constant, and in the cascade the
        Met allele's release and dendritic mRNA losses and lithium or valproate comedication."""
        s, cp = self.symptoms, self.cascade_perturbations
        met = self.met.factors(ind.met_alleles)
        symptoms = replace(
            s,
            fast_gain=s.fast_gain * ind.fast_gain_factor,
            sustained_gain=s.sustained_gain * ind.sustained_gain_factor,
            placebo_max=np.minimum(s.placebo_max * ind.placebo_factor, 0.9),
            placebo_felt_gain=s.placebo_felt_gain * ind.placebo_factor,
        )
        synapse = replace(
            self.synapse, tau_mature_loss_h=self.synapse.tau_mature_loss_h * ind.relapse_factor
        )
        cascade = replace(
            cp,
            bdnf_release_factor=cp.bdnf_release_factor * met["bdnf_release_factor"],
            mrna_targeting_factor=cp.mrna_targeting_factor * met["mrna_targeting_factor"],
            lithium_mm=np.maximum(cp.lithium_mm, ind.lithium_mm),
            valproate=1.0 - (1.0 - cp.valproate) * (1.0 - ind.valproate),
        )
        return replace(self, symptoms=symptoms, synapse=synapse, cascade_perturbations=cascade)


def _shaped(obj: Any, k: int) -> Any:
    """``obj`` (a dataclass of constants) with its per-patient arrays shaped ``(n, 1, ...)`` to
    broadcast against values of ``k`` dimensions whose first axis is the patient."""
    if isinstance(obj, np.ndarray):
        return obj.reshape((-1,) + (1,) * (k - 1))
    changes = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.ndarray) or (is_dataclass(value) and not isinstance(value, type)):
            changes[f.name] = _shaped(value, k)
    return replace(obj, **changes) if changes else obj


LAYER_STATES: dict[str, tuple[str, ...]] = {
    "circuit": circuit_layer.STATES,
    "signalling": signalling_layer.STATES,
    "synapse": synapse_layer.STATES,
    "symptoms": symptoms_layer.STATES,
}


@dataclass(frozen=True)
class ChainSystem:
    """The whole model as one batched ODE system (patients x states).

    States: the PK states of ``pk`` (linear, ``K``), one kinetic block-at-rest state per
    blocker, then the circuit, signalling, synapse and symptom states.
    """

    K: np.ndarray
    pk_names: tuple[str, ...]
    effect_index: tuple[int, ...]
    mw: tuple[float, ...]
    blockers: tuple[Blocker, ...]
    sedative_index: int | None
    mech: Mechanism
    baseline: np.ndarray
    individual: Individual | None = None

    @cached_property
    def _patient_mech(self) -> Mechanism:
        """The constants with each patient's own values (the mechanism itself without an
        :class:`~ketasim.population.Individual`)."""
        return self.mech if self.individual is None else self.mech.for_patients(self.individual)

    def _mech(self, k: int) -> Mechanism:
        """Per-patient constants shaped for values of ``k`` dimensions (patients first)."""
        m = self._patient_mech
        return m if self.individual is None or k == 1 else _shaped(m, k)

    @property
    def n_patients(self) -> int:
        return int(self.baseline.shape[0])

    @property
    def state_names(self) -> tuple[str, ...]:
        rest = tuple(f"block_rest_{b.name}" for b in self.blockers)
        return (
            self.pk_names
            + rest
            + circuit_layer.STATES
            + signalling_layer.STATES
            + synapse_layer.STATES
            + symptoms_layer.STATES
        )

    @property
    def n_states(self) -> int:
        return len(self.state_names)

    def _offsets(self) -> dict[str, slice]:
        n_pk, n_rest = len(self.pk_names), len(self.blockers)
        sizes = [("pk", n_pk), ("rest", n_rest)] + [(k, len(v)) for k, v in LAYER_STATES.items()]
        out, start = {}, 0
        for name, size in sizes:
            out[name] = slice(start, start + size)
            start += size
        return out

    def initial_state(self) -> np.ndarray:
        """The untreated steady state; with a chronic perturbation, its perturbed steady state
        (the drug-free system integrated for ``EQUILIBRATION_H`` from the untreated one)."""
        y0 = self._untreated_state()
        pert = self.mech.perturbations
        ind = self.individual
        lifelong = ind is not None and bool(
            np.any(ind.met_alleles) or np.any(ind.lithium_mm) or np.any(ind.valproate)
        )
        if (pert.is_none or not pert.chronic) and not lifelong:
            return y0
        end = np.array([0.0, EQUILIBRATION_H])
        return integrate(self, y0, [], end, SolveOptions(method="BDF"))[:, -1, :]

    def _untreated_state(self) -> np.ndarray:
        n = self.n_patients
        parts = [
            np.zeros((n, len(self.pk_names) + len(self.blockers))),
            np.ones((n, len(circuit_layer.STATES))),
            signalling_layer.initial(n, self.mech.signalling),
            synapse_layer.initial(n, self.mech.synapse),
            symptoms_layer.initial(n, self.baseline),
        ]
        return np.concatenate(parts, axis=1)

    def concentrations_um(self, pk: np.ndarray) -> list[np.ndarray]:
        """Unbound brain concentrations (uM) of each blocker from the effect-site states.

        A drug file's own ``kp_uu`` (a highly bound drug) replaces ketamine's mechanism value.
        """
        default = self.mech.receptor.kp_uu
        out = []
        for i, mw, b in zip(self.effect_index, self.mw, self.blockers, strict=True):
            kp = default if b.kp_uu is None else b.kp_uu
            out.append(pk[..., i] * kp / mw)
        return out

    def layer_values(self, y: np.ndarray, outputs: bool = True) -> dict[str, np.ndarray]:
        """Every intermediate quantity of the chain for states ``y`` (any leading shape).

        ``outputs=False`` leaves out what only the outputs need (rating-scale scores, the
        forced-swim readout, TrkB and GSK-3 activity): the right-hand side's fast path."""
        o = self._offsets()
        pk, rest = y[..., o["pk"]], y[..., o["rest"]]
        m = self._mech(y.ndim - 1)
        out: dict[str, np.ndarray] = {}
        blockers = list(self.blockers)
        zero = np.zeros(y.shape[:-1])
        if blockers:
            c = self.concentrations_um(pk)
            out["block_interneuron"] = population_block("interneuron", blockers, c, m.receptor)
            out["block_pyramidal"] = population_block("pyramidal", blockers, c, m.receptor)
            # dissociation and the pressor response follow channel block, not GluN2B-selective
            # inhibition (GluN2B NAMs dissociate little: Ibrahim 2012, Preskorn 2008)
            out["block_pyramidal_channel"] = population_block(
                "pyramidal", blockers, c, m.receptor, allosteric=False
            )
            glun2b = glun2b_inhibition(blockers, c) * m.receptor.share_2b["rest"]
            closed = closed_channel_block(blockers, c)
            out["block_rest_open"] = rest.sum(axis=-1)
            out["block_rest"] = 1.0 - (1.0 - out["block_rest_open"]) * (1.0 - glun2b) * (
                1.0 - closed
            )
            occupancy = mu_opioid_occupancy(blockers, c)
        else:
            for key in (
                "block_interneuron",
                "block_pyramidal",
                "block_pyramidal_channel",
                "block_rest",
                "block_rest_open",
            ):
                out[key] = zero
            occupancy = zero
        pert = m.perturbations
        out["mu_opioid_occupancy"] = occupancy
        out["opioid_signal"] = (
            occupancy * (1.0 - pert.naltrexone) if pert.mu_opioid_hypothesis else zero
        )
        r_e, r_i = firing_rates(out["block_interneuron"], out["block_pyramidal"], m.circuit)
        out["pyramidal_rate"], out["interneuron_rate"] = r_e, r_i
        circ = y[..., o["circuit"]]
        glu = circ[..., 0]
        sig = y[..., o["signalling"]]
        syn = y[..., o["synapse"]]
        tol = syn[..., 2]
        out["glutamate"] = glu
        out["glutamate_surge"] = circuit_layer.surge(circ)
        surge = 1.0 + pert.surge_route * (out["glutamate_surge"] - 1.0) * (
            1.0 - m.synapse.tolerance_gain_efficacy * tol
        )
        release = presynaptic_release(out["block_rest"], m.circuit, pert.presynaptic_hypothesis)
        out["ampa_drive"] = ampa_drive(surge, release, pert.ampa_block)
        cp = m.cascade_perturbations
        for i, name in enumerate(signalling_layer.STATES):
            out[name] = sig[..., i]
        if outputs:
            ix = signalling_layer.STATES.index
            out["trkb_active"] = signalling_layer.trkb_activation(
                sig[..., ix("bdnf_release")], m.signalling
            )
            out["gsk3_active"] = signalling_layer.gsk3_activity(
                sig[..., ix("akt_active")], m.signalling, cp
            )
        out["potentiation"] = potentiation(sig, m.signalling, cp)
        out["synaptic_drive"] = synaptic_drive(sig, m.signalling, cp)
        for i, name in enumerate(synapse_layer.STATES):
            out[name] = syn[..., i]
        out["spine_restoration"] = synapse_layer.spine_restoration(syn, m.synapse)
        sedative = None if self.sedative_index is None else pk[..., self.sedative_index]
        out.update(side_effects(out["block_pyramidal_channel"], tol, sedative, m.side))
        sym = y[..., o["symptoms"]]
        severity = {d: sym[..., k] for k, d in enumerate(symptoms_layer.DIMENSIONS)}
        for d, v in severity.items():
            out[f"severity_{d}"] = v
        out["fast_drive"] = sym[..., len(symptoms_layer.DIMENSIONS)]
        out["placebo_effect"] = sym[..., len(symptoms_layer.DIMENSIONS) + 3]
        if not outputs:
            return out
        for name, score in scale_scores(severity).items():
            out[f"score_{name}"] = score
        if m.fst_immobility_s is not None:
            # rodent forced swim: immobility follows the core mood severity (vehicle = 1)
            core = severity["core_mood"]
            relative = core / self.baseline[:, 0].reshape((-1,) + (1,) * (core.ndim - 1))
            out["fst_immobility"] = m.fst_immobility_s * relative
        return out

    def rhs(self, t: float, y: np.ndarray, u: np.ndarray) -> np.ndarray:
        o = self._offsets()
        m = self._mech(1)
        out = np.empty_like(y)
        pk = y[:, o["pk"]]
        out[:, o["pk"]] = np.einsum("pij,pj->pi", self.K, pk) + u[:, o["pk"]]
        v = self.layer_values(y, outputs=False)
        if self.blockers:
            c = self.concentrations_um(pk)
            out[:, o["rest"]] = rest_block_rates(
                list(self.blockers), c, y[:, o["rest"]], m.receptor
            )
        out[:, o["circuit"]] = circuit_layer.rhs(y[:, o["circuit"]], v["pyramidal_rate"], m.circuit)
        out[:, o["signalling"]] = signalling_layer.rhs(
            y[:, o["signalling"]],
            1.0 - m.perturbations.rest_route * v["block_rest"],
            v["ampa_drive"],
            m.signalling,
            m.cascade_perturbations,
        )
        drive = v["block_pyramidal_channel"] / m.side.block_c50_cadss
        out[:, o["synapse"]] = synapse_layer.rhs(
            y[:, o["synapse"]], v["synaptic_proteins"], drive, m.synapse
        )
        out[:, o["symptoms"]] = symptoms_layer.rhs(
            y[:, o["symptoms"]],
            self.baseline,
            v["synaptic_drive"],
            v["spine_restoration"],
            v["glutamate_surge"] - 1.0,
            v["felt"],
            m.symptoms,
            v["opioid_signal"],
        )
        # inputs act on the PK states only; an administration (saline included) charges the
        # placebo expectation as a bolus at the dose time (ChainModel.breakpoints)
        return out

    def jac(self, t: float, y: np.ndarray) -> None:
        return None

    def subset(self, patients: np.ndarray) -> ChainSystem:
        return ChainSystem(
            self.K[patients],
            self.pk_names,
            self.effect_index,
            self.mw,
            self.blockers,
            self.sedative_index,
            self.mech,
            self.baseline[patients],
            None if self.individual is None else self.individual.subset(patients),
        )


@dataclass(frozen=True)
class ChainModel:
    """A drug (or saline) in a species for a batch of patients, PK and mechanism together."""

    pk: Model | None
    system: ChainSystem
    drug: Drug
    co_pk: Model | None = None  # a second drug, its PK states after the first drug's

    @property
    def co_offset(self) -> int:
        """Where the second drug's PK states start in the state vector."""
        return 0 if self.pk is None else len(self.pk.state_names)

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.system.state_names

    def breakpoints(
        self,
        regimen: Regimen,
        readings: dict[str, str] | None = None,
        allow_anesthetic: bool = False,
        per_patient: list[Regimen] | None = None,
        co_regimen: Regimen | None = None,
    ) -> list[Breakpoint]:
        """PK dosing events, widened to the full state, plus the placebo charge per dose.

        ``co_regimen`` doses the second drug (it charges no placebo of its own: it comes with
        the first drug's administrations or is a pretreatment given to animals).
        """
        n, names = self.system.n_patients, self.state_names
        out: list[Breakpoint] = []
        if self.pk is not None:
            pk_bps = (
                self.pk.breakpoints_per_patient(per_patient, readings, allow_anesthetic)
                if per_patient is not None
                else self.pk.breakpoints(regimen, readings, allow_anesthetic)
            )
            out += [_widen(bp, 0, len(names)) for bp in pk_bps]
        if self.co_pk is not None:
            if co_regimen is None:
                raise RegimenError("co_regimen", None, "a regimen for the second drug")
            co_bps = self.co_pk.breakpoints(co_regimen, None, allow_anesthetic)
            out += [_widen(bp, self.co_offset, len(names)) for bp in co_bps]
        charge = names.index("placebo_expectation")
        regimens = per_patient if per_patient is not None else [regimen] * n
        for p, reg in enumerate(regimens):
            for t_h, _ in reg.doses:
                bolus = np.zeros((n, len(names)))
                if per_patient is None:
                    bolus[:, charge] = 1.0
                else:
                    bolus[p, charge] = 1.0
                out.append(Breakpoint(t_h, bolus=bolus))
            if per_patient is None:
                break
        return out


def _widen(bp: Breakpoint, offset: int, n_all: int) -> Breakpoint:
    """A PK breakpoint placed at columns ``offset...`` of the full state."""

    def place(a: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return None
        full = np.zeros((a.shape[0], n_all))
        full[:, offset : offset + a.shape[1]] = a
        return full

    return Breakpoint(bp.t_h, place(bp.bolus), place(bp.rate_change))


def _drug_part(
    pk: Model, mech: Mechanism, offset: int
) -> tuple[list[Blocker], list[int], list[float], int | None]:
    """One drug's blockers (parent, and its metabolite), their effect-site columns (shifted by
    ``offset``), molecular weights, and the effect-site column of a sedative."""
    names, drug = pk.state_names, pk.drug
    blockers: list[Blocker] = []
    effect_index: list[int] = []
    mws: list[float] = []
    parent = Blocker.from_drug(drug)
    if parent is not None:
        blockers.append(parent)
        effect_index.append(offset + names.index("parent_effect"))
        mws.append(parent.mw_g_per_mol)
        if pk.structure.metabolite is not None and pk.metabolite is not None:
            met = Blocker.from_drug(pk.metabolite)
            if met is not None and parent.pore:
                # the metabolite of each parent blocks like its parent, weaker (Ebert 1997)
                met = parent.weaker(
                    mech.receptor.metabolite_potency, pk.structure.metabolite
                ).renamed(pk.structure.metabolite, pk.mw(pk.structure.metabolite))
            if met is not None:
                blockers.append(met)
                effect_index.append(offset + names.index("metabolite_effect"))
                mws.append(met.mw_g_per_mol)
    site = drug.pharmacology.get(GLUN2B_SITE_KEY)
    if site is not None and parent is not None and parent.pore:
        # a virtual compound that also binds the GluN2B (ifenprodil) site: an allosteric
        # component on the same effect sites, its metabolite's weaker as for the pore
        ic50_um = site.to("uM")
        for blocker, column, mw in list(zip(blockers, effect_index, mws, strict=True)):
            factor = 1.0 if blocker is parent else mech.receptor.metabolite_potency
            allosteric = Blocker(
                f"{blocker.name}_glun2b",
                mw,
                pore=False,
                glun2b_ic50_um=ic50_um / factor,
                kp_uu=blocker.kp_uu,
            )
            blockers.append(allosteric)
            effect_index.append(column)
            mws.append(mw)
    sedative = "sedation_c50_ng_per_ml" in drug.pharmacology or drug.name == "midazolam"
    sedative_index = offset + names.index("parent_effect") if sedative else None
    return blockers, effect_index, mws, sedative_index


def build_chain(
    drug_name: str | Drug,
    species: str,
    routes: tuple[str, ...],
    weight_kg: np.ndarray,
    *,
    seed: int = 0,
    variability: bool = False,
    perturbations: Perturbations | None = None,
    co_drug: str | None = None,
    co_routes: tuple[str, ...] = (),
    individual: Individual | None = None,
    patient_ids: np.ndarray | None = None,
) -> ChainModel:
    """The full model of Figure 1 for ``drug_name`` (``saline`` has no PK, only placebo), a
    library name or a drug spec (a virtual compound).

    ``co_drug``: a second drug given before or with the first (its own PK states; its blockers
    compete with the first drug's at the receptor). ``individual``: virtual patients' own
    factors and baseline severities (one entry per patient; default the typical patient).
    """
    drug = as_drug(drug_name)
    mech = Mechanism.load(species, perturbations)
    weight = np.asarray(weight_kg, dtype=float)
    n = weight.size
    baseline = np.full((n, len(symptoms_layer.DIMENSIONS)), mech.baseline_severity)
    if individual is not None:
        if individual.n_patients != n:
            raise KetasimInputError("patients", individual.n_patients, f"{n} patients")
        baseline = np.asarray(individual.baseline_severity, dtype=float)
    models: list[Model] = []
    if not drug.is_placebo:
        models.append(
            build_model(
                drug,
                species,
                routes,
                weight,
                seed=seed,
                variability=variability,
                patient_ids=patient_ids,
            )
        )
    if co_drug is not None:
        if load_drug(co_drug).is_placebo:
            raise KetasimInputError("co_drug", co_drug, "a drug (a placebo adds nothing)")
        models.append(
            build_model(
                co_drug,
                species,
                co_routes,
                weight,
                seed=seed,
                variability=variability,
                patient_ids=patient_ids,
            )
        )
    blockers: list[Blocker] = []
    effect_index: list[int] = []
    mws: list[float] = []
    sedative_index: int | None = None
    names: tuple[str, ...] = ()
    for k, model in enumerate(models):
        part = _drug_part(model, mech, len(names))
        blockers += part[0]
        effect_index += part[1]
        mws += part[2]
        sedative_index = sedative_index if sedative_index is not None else part[3]
        prefix = "co_" if k > 0 or drug.is_placebo else ""
        names += tuple(prefix + name for name in model.state_names)
    K = np.zeros((n, len(names), len(names)))
    start = 0
    for model in models:
        size = len(model.state_names)
        K[:, start : start + size, start : start + size] = model.system().K
        start += size
    system = ChainSystem(
        K,
        names,
        tuple(effect_index),
        tuple(mws),
        tuple(blockers),
        sedative_index,
        mech,
        baseline,
        individual,
    )
    first = None if drug.is_placebo else models[0]
    second = models[-1] if co_drug is not None else None
    return ChainModel(first, system, drug, second)
