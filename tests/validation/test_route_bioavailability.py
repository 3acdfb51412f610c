"""For every drug, species and extravascular route: AUC(route) / AUC(IV) equals the library's F."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import ketasim
from ketasim.model import build_model
from ketasim.pk.dosing import route_fraction
from ketasim.pk.regimen import Dose
from ketasim.pk.routes import INTRAVENOUS

# these tests check the pharmacokinetics: the mechanistic layers are left out for speed
simulate_pk = functools.partial(ketasim.simulate, mechanism=False)

DOSES_MG_PER_KG = (0.1, 0.5)
INTRANASAL_DOSES_MG = (10.0, 30.0, 50.0)


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for name in ketasim.drug_names():
        drug = ketasim.load_drug(name)
        for species, spk in drug.species.items():
            for route in spk.routes:
                if route not in INTRAVENOUS:
                    cases.append((name, species, route))
    return cases


def _until_h(drug: str, species: str, route: str) -> float:
    """Long enough for the slowest process to finish: 30 of its time constants."""
    model = build_model(drug, species, (route,), np.array([ketasim.data.SPECIES[species]]))
    rates = -np.linalg.eigvals(model.system().K[0]).real
    slowest = rates[rates > 1e-9].min()
    return 30.0 / slowest


def _parent_auc(drug: str, species: str, dose: str, route: str, until_h: float) -> float:
    over = "40 min" if route == "iv-infusion" else None
    res = simulate_pk(
        drug,
        dose=dose,
        route=route,
        over=over,
        species=species,
        until=f"{until_h} h",
        times_h=np.array([0.0, until_h]),
        allow_anesthetic=True,
    )
    parent = ketasim.load_drug(drug).analyte
    return float(res.summary.set_index("analyte").loc[parent, "auc_ng_h_per_ml"])


def _iv_auc(drug: str, species: str, dose_mg: float, route: str) -> float:
    """AUC of the same dose given intravenously: dose / CL (linear PK), in ng*h/mL."""
    weight = np.array([ketasim.data.SPECIES[species]])
    model = build_model(drug, species, (route,), weight)
    return dose_mg / float(model.values.parent.cl[0]) * 1000.0


@pytest.mark.parametrize(("drug", "species", "route"), _cases())
def test_auc_ratio_to_iv_equals_library_bioavailability(
    drug: str, species: str, route: str
) -> None:
    weight = ketasim.data.SPECIES[species]
    until_h = _until_h(drug, species, route)
    doses = (
        [f"{mg} mg" for mg in INTRANASAL_DOSES_MG]
        if species == "human" and route == "intranasal"
        else [f"{d} mg/kg" for d in DOSES_MG_PER_KG]
    )
    d = ketasim.load_drug(drug)
    for dose in doses:
        dose_obj = Dose(dose, route=route)
        dose_mg = dose_obj.amount_mg(np.array([weight]))
        auc_iv = _iv_auc(drug, species, float(dose_mg[0]), route)
        auc_route = _parent_auc(drug, species, dose, route, until_h)
        f = route_fraction(d, species, dose_obj, dose_mg, np.ones(1))[0]
        assert auc_route / auc_iv == pytest.approx(f, rel=0.02), (drug, species, route, dose)


@pytest.mark.parametrize(
    ("drug", "species"),
    [
        (n, sp)
        for n in ketasim.drug_names()
        for sp, spk in ketasim.load_drug(n).species.items()
        if "iv-infusion" in spk.intravenous_routes
    ],
)
def test_iv_infusion_auc_equals_dose_over_clearance(drug: str, species: str) -> None:
    weight = ketasim.data.SPECIES[species]
    until_h = _until_h(drug, species, "iv-infusion")
    dose = "0.1 mg/kg"
    auc = _parent_auc(drug, species, dose, "iv-infusion", until_h)
    expected = _iv_auc(drug, species, 0.1 * weight, "iv-infusion")
    assert auc == pytest.approx(expected, rel=1e-3)
