"""Where the quasi-steady-state reduction of channel block holds, and where it does not.

The full gating scheme averages to block.py's one-state equation when gating is fast; the
one-state equation settles within seconds to minutes where receptors open often
(interneurons, active pyramidal synapses) and lags by tens of minutes at rest, which is why
the model keeps block at rest as a kinetic state.
"""

from __future__ import annotations

import numpy as np
import pytest

import ketasim
from ketasim.data import load_drug, load_mechanism
from ketasim.receptor import Blocker, ReceptorParams, equilibrium_block, mg_unblocked
from ketasim.receptor.kinetic import kinetic_block, markov_steady_block

RP = ReceptorParams.from_spec(load_mechanism("human")["receptor"])
BLOCKERS = {
    name: Blocker.from_drug(load_drug(name))
    for name in ("ketamine-racemic", "memantine", "lanicemine")
}


def _mg(v: float) -> float:
    return mg_unblocked(v, RP.mg_mm, RP.mg_k0_mm, RP.mg_slope_per_mv)


@pytest.mark.parametrize("drug", sorted(BLOCKERS))
@pytest.mark.parametrize(("v_mv", "p_open"), [(-70.0, 0.002), (-50.0, 0.1), (-40.0, 0.01)])
@pytest.mark.parametrize("c_um", [0.3, 3.0, 30.0])
def test_full_gating_scheme_averages_to_the_one_state_equilibrium(
    drug: str, v_mv: float, p_open: float, c_um: float
) -> None:
    blocker = BLOCKERS[drug]
    assert blocker is not None
    full = markov_steady_block(blocker, c_um, v_mv, p_open, _mg(v_mv), gating_time_s=1e-4)
    reduced = float(equilibrium_block([blocker], [np.array(c_um)], v_mv, p_open, _mg(v_mv)))
    assert full == pytest.approx(reduced, rel=1e-3)


def test_time_to_equilibrium_matches_reference_section_1_4_for_ketamine() -> None:
    k = BLOCKERS["ketamine-racemic"]
    assert k is not None
    c = 1e-6  # 1 uM, 0 Mg2+: the reference's derivation ignores the small escape term
    for p_open, minutes in ((0.001, 45.0), (0.01, 4.5), (0.05, 0.9)):
        tau_min = 1.0 / (p_open * (k.kon_per_m_s * c + k.koff_per_s)) / 60.0
        assert tau_min == pytest.approx(minutes, rel=0.15)


@pytest.fixture(scope="module")
def infusion() -> tuple[np.ndarray, np.ndarray]:
    """Unbound brain ketamine (uM) after 0.5 mg/kg over 40 min, on a fine grid."""
    t = np.arange(0.0, 6.0 + 1e-9, 0.5 / 60.0)
    res = ketasim.simulate(
        "ketamine-racemic", dose="0.5 mg/kg", over="40 min", until="6 h", times_h=t, mechanism=False
    )
    return t, res.timecourse["ketamine_brain_um"].to_numpy() * RP.kp_uu


def _lag_error(infusion: tuple[np.ndarray, np.ndarray], population: str) -> float:
    t, c = infusion
    k = BLOCKERS["ketamine-racemic"]
    assert k is not None
    v, p = RP.v_mv[population], RP.p_open[population]
    kinetic = kinetic_block(k, lambda x: float(np.interp(x, t, c)), t, v, p, _mg(v))
    qss = equilibrium_block([k], [c], v, p, _mg(v))
    return float(np.max(np.abs(kinetic - qss)) / np.max(kinetic))


def test_quasi_steady_block_holds_for_tonically_active_interneurons(infusion) -> None:  # type: ignore[no-untyped-def]
    # measured: 3.6 % of the peak
    assert _lag_error(infusion, "interneuron") < 0.05


def test_quasi_steady_block_is_a_fair_approximation_at_active_pyramidal_synapses(infusion) -> None:  # type: ignore[no-untyped-def]
    # measured: 16 % of the peak, during the rise of the infusion (a lag of minutes)
    assert _lag_error(infusion, "pyramidal") < 0.2


def test_quasi_steady_block_fails_at_rest_so_the_model_keeps_it_kinetic(infusion) -> None:  # type: ignore[no-untyped-def]
    # measured: 38 % of the peak, after the infusion, when the brain concentration falls
    # faster than block at rest can follow (its time constant is about 10 min)
    assert _lag_error(infusion, "rest") > 0.3
    k = BLOCKERS["ketamine-racemic"]
    assert k is not None
    p = RP.p_open["rest"]
    tau_min = 1.0 / (p * k.koff_per_s + (1.0 - p) * k.k_esc_per_s) / 60.0
    assert tau_min > 5.0
