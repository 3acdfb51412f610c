"""Properties of the whole chain: bounded fractions, no drift without drug, non-negative states."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ketasim
from ketasim.engine import integrate
from ketasim.model import build_chain
from ketasim.pk.regimen import Dose, Regimen

FAST = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
GRID_H = np.concatenate([np.arange(0.0, 4.0, 0.1), np.arange(4.0, 14 * 24.0 + 1e-9, 6.0)])
DRUG_DOSES = {
    "ketamine-racemic": ("iv-infusion", (0.05, 1.5), "mg/kg"),
    "esketamine": ("intranasal", (14.0, 112.0), "mg"),
    "memantine": ("oral", (5.0, 40.0), "mg"),
    "lanicemine": ("iv-infusion", (50.0, 300.0), "mg"),
    "traxoprodil": ("iv-infusion", (0.1, 1.0), "mg/kg"),
    "rislenemdaz": ("oral", (1.0, 16.0), "mg"),
    "midazolam": ("iv-infusion", (0.01, 0.1), "mg/kg"),
}
FRACTIONS = ("_fraction",)


@FAST
@given(
    drug=st.sampled_from(sorted(DRUG_DOSES)),
    position=st.floats(0.0, 1.0),
)
def test_fractions_stay_in_unit_interval_and_states_stay_non_negative(
    drug: str, position: float
) -> None:
    route, (low, high), unit = DRUG_DOSES[drug]
    amount = low + position * (high - low)
    over = "40 min" if route == "iv-infusion" else None
    res = ketasim.simulate(
        drug,
        dose=f"{amount:.4g} {unit}",
        route=route,
        over=over,
        until="14 d",
        times_h=GRID_H,
        allow_anesthetic=True,
    )
    tc = res.timecourse
    tol = 1e-6
    for col in tc.columns:
        if col.endswith("_fraction") and not col.startswith("spine_restoration"):
            assert tc[col].between(-tol, 1 + tol).all(), col
    for col in ("cadss_points", "madrs_points", "hdrs_17_points", "ssi_points"):
        assert (tc[col] >= -tol).all(), col
    assert np.isfinite(res.states).all()
    # no state below zero beyond the solver's tolerance (outputs are never clipped)
    assert res.states.min() > -1e-6


def test_without_drug_or_placebo_the_model_stays_at_its_depressed_baseline() -> None:
    chain = build_chain("ketamine-racemic", "human", ("iv-infusion",), np.array([70.0, 90.0]))
    y0 = chain.system.initial_state()
    y = integrate(chain.system, y0, [], np.array([0.0, 24.0, 28 * 24.0]))
    assert np.allclose(y[:, -1, :], y0, atol=1e-9, rtol=0)


def test_saline_moves_only_the_placebo_process() -> None:
    regimen = Regimen.single(Dose("0 mg", over="40 min"))
    chain = build_chain("saline", "human", regimen.routes, np.array([70.0]))
    y = integrate(
        chain.system,
        chain.system.initial_state(),
        chain.breakpoints(regimen),
        np.array([0.0, 24.0]),
    )
    values = chain.system.layer_values(y[0])
    assert values["glutamate"][-1] == 1.0
    assert values["mtor_active"][-1] == pytest.approx(1.0, abs=1e-12)
    assert values["placebo_effect"][-1] > 0.1
