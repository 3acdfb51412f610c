"""From a regimen to the inputs of the PK states, per patient.

Intravenous doses enter ``parent_central`` (a bolus, a constant rate over the infusion, or
explicit rate steps). An extravascular dose is split over its route's pathways: pathway ``i``
receives ``dose * F(dose) * share_i`` as parent (after its lag, at once or zero-order over its
duration) and ``dose * first_pass_i`` into its first-pass depot, which becomes metabolite.
"""

from __future__ import annotations

import numpy as np

from ketasim.data.spec import Drug
from ketasim.errors import RegimenError
from ketasim.pk.compartments import PkStructure
from ketasim.pk.regimen import Dose, Input, Regimen
from ketasim.pk.routes import INTRAVENOUS, bioavailability, check_bolus_duration, check_route


def route_fraction(
    drug: Drug,
    species: str,
    dose: Dose,
    dose_mg: np.ndarray,
    f_factor: np.ndarray,
    reading: str | None = None,
) -> np.ndarray:
    """Systemic parent fraction F of ``dose`` for each patient (1 for IV routes)."""
    if dose.route in INTRAVENOUS:
        return np.ones_like(dose_mg)
    spec = drug.species[species].routes[dose.route]
    f = bioavailability(spec.bioavailability, dose_mg, reading)
    # between-patient variability acts on the logit of F, so F stays in (0, 1]
    logit = np.log(f / np.maximum(1.0 - f, 1e-12)) + np.log(f_factor)
    return np.where(f >= 1.0, 1.0, 1.0 / (1.0 + np.exp(-logit)))


def regimen_inputs(
    regimen: Regimen,
    drug: Drug,
    species: str,
    structure: PkStructure,
    weight_kg: np.ndarray,
    f_factor: np.ndarray,
    readings: dict[str, str] | None = None,
    allow_anesthetic: bool = False,
) -> list[Input]:
    """The :class:`Input` records of a regimen for a batch of patients."""
    spk = drug.species[species]
    readings = readings or {}
    inputs: list[Input] = []
    fp_states = set(structure.state_names)
    for t_h, dose in regimen.doses:
        check_route(dose.route, spk, drug.name, species)
        dose_mg = dose.amount_mg(weight_kg)
        f = route_fraction(drug, species, dose, dose_mg, f_factor, readings.get(dose.route))
        _check_anesthetic(drug, species, dose, dose_mg * f / weight_kg, allow_anesthetic)
        if dose.route in INTRAVENOUS:
            inputs += _intravenous(t_h, dose, weight_kg, spk.routes.get(dose.route))
            continue
        for pw in structure.pathways:
            if pw.route != dose.route:
                continue
            spec = pw.spec
            start = t_h + (spec.lag.to("hour") if spec.lag else 0.0)
            duration = spec.duration.to("hour") if spec.duration else 0.0
            share = spec.share.to("dimensionless")
            targets = [(pw.state, dose_mg * f * share)]
            if spec.first_pass_metabolite is not None and pw.fp_state in fp_states:
                fp = spec.first_pass_metabolite.to("dimensionless")
                targets.append((pw.fp_state, dose_mg * fp))
            for state, amount in targets:
                if not np.any(amount > 0):
                    continue
                if duration > 0:
                    inputs.append(Input(state, start, amount / duration, start + duration))
                else:
                    inputs.append(Input(state, start, amount))
    return inputs


def _intravenous(t_h: float, dose: Dose, weight_kg: np.ndarray, route_spec: object) -> list[Input]:
    if dose.rate_steps:
        out, t = [], t_h
        for step in dose.rate_steps:
            rate = step.rate * (weight_kg if step.per_kg else np.ones_like(weight_kg))
            out.append(Input("parent_central", t, rate, t + step.duration_h))
            t += step.duration_h
        return out
    over = dose.over_h or 0.0
    if dose.route == "iv-bolus":
        max_duration = getattr(route_spec, "max_duration", None)
        check_bolus_duration(over, max_duration)
    dose_mg = dose.amount_mg(weight_kg)
    if over <= 0:
        return [Input("parent_central", t_h, dose_mg)]
    return [Input("parent_central", t_h, dose_mg / over, t_h + over)]


def _check_anesthetic(
    drug: Drug, species: str, dose: Dose, available_mg_per_kg: np.ndarray, allow: bool
) -> None:
    limit = drug.species[species].anesthetic_dose_mg_per_kg
    if limit is None or allow:
        return
    limit_mg_per_kg = limit.to("mg/kg")
    worst = float(np.max(available_mg_per_kg)) if available_mg_per_kg.size else 0.0
    if worst >= limit_mg_per_kg:
        raise RegimenError(
            "dose",
            repr(dose),
            f"{worst:.3g} mg/kg reaches the circulation, at or above the anaesthetic "
            f"{limit_mg_per_kg:g} mg/kg for {drug.name} in {species}; pass "
            "allow_anesthetic=True (--allow-anesthetic) to simulate it anyway",
        )
