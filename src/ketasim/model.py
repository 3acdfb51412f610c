"""Assembles ketasim's layers into one ODE system (the only module that knows them all).

For now the system is the pharmacokinetic layer: parent and metabolite compartments, the
absorption depots of the routes a regimen uses, the venous sampling site and the brain effect
site. Later layers (receptor, circuit, signalling, synapse, symptoms) add their states here,
driven by the brain concentrations this layer provides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ketasim.data import load_drug
from ketasim.data.spec import Drug
from ketasim.engine import Breakpoint, LinearSystem
from ketasim.errors import KetasimInputError, UnknownNameError
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


def build_model(
    drug_name: str,
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
        A library drug (``ketasim params`` lists them).
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
    drug = load_drug(drug_name)
    if drug.is_placebo:
        raise KetasimInputError(
            "drug",
            drug_name,
            "saline has no pharmacokinetics; it is a comparator of the trial layer",
        )
    if species not in drug.species:
        raise UnknownNameError(f"species (for {drug_name})", species, drug.species)
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
