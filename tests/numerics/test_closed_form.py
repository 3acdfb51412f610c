"""The ODE engine against closed-form sums of exponentials (ketasim.pk.analytic).

The analytic solutions get their exponents from the quadratic formula and the trigonometric
solution of the characteristic cubic, not from an eigen-decomposition or a matrix exponential,
so agreement here is an independent check of the integrator, of its event handling (bolus,
start and end of an infusion) and of the dosing layer that feeds it.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

import ketasim
from ketasim import Dose, Regimen
from ketasim.data import Parameter
from ketasim.engine import Breakpoint, LinearSystem, SolveOptions, integrate
from ketasim.engine.solve import Method
from ketasim.pk import analytic

# these tests check the pharmacokinetics: the mechanistic layers are left out for speed
simulate_pk = functools.partial(ketasim.simulate, mechanism=False)

# ketamine-like disposition per 70 kg (L, L/h) and intramuscular absorption (1/h)
V1, V2, V3 = 25.0, 56.0, 171.0
CL, Q2, Q3 = 79.0, 161.0, 79.0
KA = 4.2

# states of the hand-built system (amounts, mg)
DEPOT, CENTRAL, PERIPH2, PERIPH3 = range(4)
N_STATES = 4

DOSE_MG = 50.0
INFUSION_H = 40.0 / 60.0

# three patients per batch: the ketamine-like one and two with other CL and V, so the test
# also covers patients that share a solve
FACTORS = ((1.0, 1.0), (0.6, 1.3), (1.7, 0.8))  # (CL and Q factor, volume factor)

# dense early (distribution, infusion end), sparse late (terminal phase)
TIMES_H = np.unique(
    np.concatenate(
        [
            np.geomspace(1.0 / 3600.0, 48.0, 80),
            np.linspace(0.05, 2.0, 40),
            [INFUSION_H - 1e-3, INFUSION_H, INFUSION_H + 1e-3],
        ]
    )
)

RTOL, ATOL = 1e-10, 1e-12
REL_TOL = 1e-6
SIGNIFICANT = 1e-6  # compare where the analytic concentration exceeds this fraction of its peak


def disposition(n_cmt: int, cl_factor: float = 1.0, v_factor: float = 1.0) -> dict[str, float]:
    """Keyword arguments of the analytic functions for a 1-, 2- or 3-compartment model."""
    params = {"v_l": V1 * v_factor, "cl_l_per_h": CL * cl_factor}
    if n_cmt >= 2:
        params |= {"v2_l": V2 * v_factor, "q2_l_per_h": Q2 * cl_factor}
    if n_cmt >= 3:
        params |= {"v3_l": V3 * v_factor, "q3_l_per_h": Q3 * cl_factor}
    return params


def rate_matrix(n_cmt: int, ka: float = KA) -> np.ndarray:
    """K (patients, 4, 4) of depot -> central <-> periph2, periph3 with central elimination."""
    K = np.zeros((len(FACTORS), N_STATES, N_STATES))
    for p, (fc, fv) in enumerate(FACTORS):
        d = disposition(n_cmt, fc, fv)
        v1 = d["v_l"]
        K[p, DEPOT, DEPOT] = -ka
        K[p, CENTRAL, DEPOT] = ka
        K[p, CENTRAL, CENTRAL] = -d["cl_l_per_h"] / v1
        for state, v_key, q_key in (
            (PERIPH2, "v2_l", "q2_l_per_h"),
            (PERIPH3, "v3_l", "q3_l_per_h"),
        ):
            if v_key not in d:
                continue
            q, v = d[q_key], d[v_key]
            K[p, CENTRAL, CENTRAL] -= q / v1
            K[p, state, CENTRAL] = q / v1
            K[p, CENTRAL, state] = q / v
            K[p, state, state] = -q / v
    return K


def breakpoints(kind: str) -> list[Breakpoint]:
    n = len(FACTORS)
    if kind == "bolus":
        bolus = np.zeros((n, N_STATES))
        bolus[:, CENTRAL] = DOSE_MG
        return [Breakpoint(0.0, bolus=bolus)]
    if kind == "infusion":
        rate = np.zeros((n, N_STATES))
        rate[:, CENTRAL] = DOSE_MG / INFUSION_H
        return [Breakpoint(0.0, rate_change=rate), Breakpoint(INFUSION_H, rate_change=-rate)]
    if kind == "first-order":
        depot = np.zeros((n, N_STATES))
        depot[:, DEPOT] = DOSE_MG
        return [Breakpoint(0.0, bolus=depot)]
    raise ValueError(kind)


def analytic_mg_per_l(kind: str, n_cmt: int, fc: float, fv: float, t: np.ndarray) -> np.ndarray:
    d = disposition(n_cmt, fc, fv)
    if kind == "bolus":
        return analytic.bolus_concentration(t, DOSE_MG, **d)
    if kind == "infusion":
        return analytic.infusion_concentration(t, DOSE_MG, INFUSION_H, **d)
    return analytic.first_order_concentration(t, DOSE_MG, KA, **d)


def engine_mg_per_l(kind: str, n_cmt: int, options: SolveOptions) -> np.ndarray:
    """Central concentration (patients, times) from the engine."""
    y = integrate(
        LinearSystem(rate_matrix(n_cmt)),
        np.zeros((len(FACTORS), N_STATES)),
        breakpoints(kind),
        TIMES_H,
        options,
    )
    v1 = np.array([V1 * fv for _, fv in FACTORS])
    return y[:, :, CENTRAL] / v1[:, None]


def max_relative_error(numeric: np.ndarray, exact: np.ndarray) -> float:
    """Largest |numeric/exact - 1| where ``exact`` exceeds SIGNIFICANT x its peak."""
    mask = exact > SIGNIFICANT * exact.max()
    assert mask.sum() > 10
    return float(np.max(np.abs(numeric[mask] / exact[mask] - 1.0)))


@pytest.mark.parametrize("method", ["Radau", "BDF"])
@pytest.mark.parametrize("kind", ["bolus", "infusion", "first-order"])
@pytest.mark.parametrize("n_cmt", [1, 2, 3])
def test_engine_matches_sum_of_exponentials_at_tight_tolerance(
    n_cmt: int, kind: str, method: Method
) -> None:
    """The integrator, with its bolus and infusion events, reproduces the closed form."""
    numeric = engine_mg_per_l(kind, n_cmt, SolveOptions(method=method, rtol=RTOL, atol=ATOL))
    for p, (fc, fv) in enumerate(FACTORS):
        exact = analytic_mg_per_l(kind, n_cmt, fc, fv, TIMES_H)
        err = max_relative_error(numeric[p], exact)
        assert err <= REL_TOL, f"patient {p}: max relative error {err:.2e}"


@pytest.mark.parametrize("n_cmt", [1, 2, 3])
def test_analytic_bolus_starts_at_dose_over_central_volume(n_cmt: int) -> None:
    """Sanity of the closed form itself: C(0) = D/V1 and the coefficients sum to 1/V1."""
    d = disposition(n_cmt)
    c0 = analytic.bolus_concentration(np.array([0.0]), DOSE_MG, **d)
    assert c0[0] == pytest.approx(DOSE_MG / V1, rel=1e-13)
    coef, lam = analytic.macro_constants(**d)
    assert coef.sum() == pytest.approx(1.0 / V1, rel=1e-13)
    assert np.all(lam > 0)
    assert np.all(np.diff(lam) < 0)


def test_cubic_roots_satisfy_invariants_of_the_rate_matrix() -> None:
    """The trigonometric roots sum to the trace and multiply to the determinant of -K."""
    lam = analytic.characteristic_roots(**disposition(3))
    k10, k12, k21, k13, k31 = CL / V1, Q2 / V1, Q2 / V2, Q3 / V1, Q3 / V3
    assert lam.sum() == pytest.approx(k10 + k12 + k21 + k13 + k31, rel=1e-14)
    assert np.prod(lam) == pytest.approx(k10 * k21 * k31, rel=1e-13)


def test_bateman_limit_when_ka_equals_an_exponent() -> None:
    """ka equal to a disposition exponent is a removable singularity, not a division by 0."""
    d = disposition(2)
    lam = analytic.characteristic_roots(**d)
    t = np.array([0.1, 1.0, 5.0, 24.0])
    at = analytic.first_order_concentration(t, DOSE_MG, float(lam[1]), **d)
    near = analytic.first_order_concentration(t, DOSE_MG, float(lam[1]) * (1 + 1e-7), **d)
    assert np.all(np.isfinite(at))
    np.testing.assert_allclose(at, near, rtol=1e-6)


def test_analytic_is_zero_before_the_dose() -> None:
    """Negative times (before the dose or the lag) give zero, which makes shifts easy."""
    d = disposition(3)
    t = np.array([-1.0, -1e-9])
    assert np.all(analytic.bolus_concentration(t, DOSE_MG, **d) == 0.0)
    assert np.all(analytic.infusion_concentration(t, DOSE_MG, INFUSION_H, **d) == 0.0)
    lagged = analytic.first_order_concentration(np.array([0.2]), DOSE_MG, KA, **d, t_lag_h=0.3)
    assert lagged[0] == 0.0


# --- the public API against the closed form ------------------------------------------------


def _human_ketamine() -> tuple[dict[str, float], float, float]:
    """The 70 kg human's ketamine disposition, intramuscular ka and F, from the drug file."""
    spk = ketasim.load_drug("ketamine-racemic").species["human"]
    assert spk.reference_weight_kg == 70
    d = spk.disposition
    assert d.v2 is not None
    assert d.q2 is not None
    assert d.v3 is not None
    assert d.q3 is not None
    params = {
        "v_l": d.v1.to("L"),
        "cl_l_per_h": d.cl.to("L/h"),
        "v2_l": d.v2.to("L"),
        "q2_l_per_h": d.q2.to("L/h"),
        "v3_l": d.v3.to("L"),
        "q3_l_per_h": d.q3.to("L/h"),
    }
    im = spk.routes["intramuscular"]
    ka = im.pathways["muscle"].ka.to("1/h")
    f_im = im.bioavailability.readings[im.bioavailability.default]
    assert isinstance(f_im, Parameter)  # a constant F, not a dose table
    return params, ka, f_im.to("dimensionless")


API_TIMES_H = np.unique(np.concatenate([np.geomspace(1e-3, 24.0, 60), [INFUSION_H]]))


@pytest.mark.parametrize("route", ["iv-bolus", "iv-infusion", "intramuscular"])
def test_simulate_ketamine_arterial_matches_closed_form(route: str) -> None:
    """ketasim.simulate (drug file -> doses -> engine) gives the analytic 3-cmt curve."""
    params, ka, f_im = _human_ketamine()
    if route == "iv-bolus":
        dose = Dose("50 mg", route="iv-bolus", over="0 min")
        exact = analytic.bolus_concentration(API_TIMES_H, 50.0, **params)
    elif route == "iv-infusion":
        dose = Dose("50 mg", route="iv-infusion", over="40 min")
        exact = analytic.infusion_concentration(API_TIMES_H, 50.0, INFUSION_H, **params)
    else:
        dose = Dose("50 mg", route="intramuscular")
        exact = analytic.first_order_concentration(API_TIMES_H, 50.0, ka, **params, f=f_im)
    res = simulate_pk(
        "ketamine-racemic",
        Regimen.single(dose),
        weight="70 kg",
        times_h=API_TIMES_H,
        solver=SolveOptions(rtol=RTOL, atol=ATOL),
    )
    numeric = res.timecourse["ketamine_arterial_ng_per_ml"].to_numpy()
    err = max_relative_error(numeric, 1000.0 * exact)  # mg/L -> ng/mL
    assert err <= REL_TOL, f"max relative error {err:.2e}"


def test_engine_error_falls_as_rtol_tightens() -> None:
    """Convergence: the error against the closed form shrinks with the tolerance."""
    exact = np.stack([analytic_mg_per_l("first-order", 3, fc, fv, TIMES_H) for fc, fv in FACTORS])
    errors = []
    for rtol in (1e-4, 1e-6, 1e-8, 1e-10):
        numeric = engine_mg_per_l("first-order", 3, SolveOptions(rtol=rtol, atol=rtol * 1e-2))
        errors.append(max(max_relative_error(numeric[p], exact[p]) for p in range(len(FACTORS))))
    assert all(b < a for a, b in itertools.pairwise(errors)), errors
    assert errors[-1] < 1e-4 * errors[0], errors
