"""Properties any correct linear PK simulator has, checked on drawn parameters and regimens.

Mass balance, dose proportionality, superposition of doses, non-negative states and
reproducible variability draws. Hypothesis runs a fixed, derandomized set of examples so CI
is fast and every failure replays.
"""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import ketasim
from ketasim import Dose, Regimen
from ketasim.data import Parameter
from ketasim.engine import Breakpoint, LinearSystem, SolveOptions, integrate
from ketasim.engine.solve import Method
from ketasim.pk.routes import ROUTES

# these tests check the pharmacokinetics: the mechanistic layers are left out for speed
simulate_pk = functools.partial(ketasim.simulate, mechanism=False)

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: each example costs solver runs
    suppress_health_check=[HealthCheck.too_slow],
)

DRUG = "ketamine-racemic"
TIGHT = SolveOptions(rtol=1e-9, atol=1e-12)
TIMES_H = np.unique(np.concatenate([np.linspace(0.0, 24.0, 97), np.geomspace(1e-3, 2.0, 30)]))

# routes whose bioavailability does not depend on the dose (intranasal's does)
LINEAR_ROUTES = ("iv-infusion", "intramuscular", "oral")


def _positive(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _time_h(hi: float) -> st.SearchStrategy[float]:
    """0 or a time of at least a second: sub-femtosecond event gaps are out of scope (SciPy's
    Radau fails on intervals below about 1e-308 h and LSODA stalls on 1e-300 h)."""
    return st.one_of(st.just(0.0), _positive(1.0 / 3600.0, hi))


def make_dose(route: str, amount_mg: float, over_min: float) -> Dose:
    """A dose in mg; ``over_min`` is used by iv-infusion only."""
    over = over_min / 60.0 if route == "iv-infusion" else None
    return Dose(amount_mg, route=route, over=over, per_kg=False)


def concentration_columns(res: ketasim.SimulationResult) -> dict[str, np.ndarray]:
    tc = res.timecourse
    return {c: tc[c].to_numpy() for c in tc.columns if c.endswith("_ng_per_ml")}


def assert_relatively_close(
    actual: np.ndarray, expected: np.ndarray, rel: float, what: str, floor: float = 1e-6
) -> float:
    """|actual/expected - 1| <= rel where expected exceeds ``floor`` x its peak.

    Below the floor, the absolute difference must stay under ``rel * floor * peak``.
    Returns the largest relative error seen.
    """
    peak = float(np.max(np.abs(expected)))
    if peak == 0.0:
        assert np.all(actual == 0.0), what
        return 0.0
    mask = np.abs(expected) > floor * peak
    err = float(np.max(np.abs(actual[mask] / expected[mask] - 1.0))) if mask.any() else 0.0
    assert err <= rel, f"{what}: max relative error {err:.2e}"
    assert np.all(np.abs(actual[~mask] - expected[~mask]) <= rel * floor * peak), what
    return err


# --- mass balance ----------------------------------------------------------------------------

DEPOT, CENTRAL, PERIPH2, PERIPH3, SINK = range(5)


@PROPERTY_SETTINGS
@given(
    v=st.tuples(_positive(1.0, 100.0), _positive(1.0, 300.0), _positive(1.0, 500.0)),
    q=st.tuples(_positive(1.0, 200.0), _positive(0.5, 300.0), _positive(0.5, 200.0)),
    ka=_positive(0.05, 20.0),
    depot_mg=_positive(0.0, 100.0),
    bolus=st.tuples(_time_h(8.0), _positive(0.0, 100.0)),
    infusion=st.tuples(_time_h(8.0), _positive(0.01, 6.0), _positive(0.0, 50.0)),
    method=st.sampled_from(["BDF", "Radau"]),
)
def test_mass_balance_with_elimination_into_a_sink(
    v: tuple[float, float, float],
    q: tuple[float, float, float],
    ka: float,
    depot_mg: float,
    bolus: tuple[float, float],
    infusion: tuple[float, float, float],
    method: Method,
) -> None:
    """With elimination into an explicit sink, the amounts add up to every dose given so far.

    Depot -> central <-> two peripheral compartments, CL to the sink; a depot dose at 0, a
    central bolus at t_b and an infusion from t_i. Columns of K sum to zero, so the solver must
    conserve the total (a linear invariant) at any tolerance.
    """
    (v1, v2, v3), (cl, q2, q3) = v, q
    K = np.zeros((1, 5, 5))
    K[0, DEPOT, DEPOT] = -ka
    K[0, CENTRAL, DEPOT] = ka
    K[0, CENTRAL, CENTRAL] = -(cl + q2 + q3) / v1
    K[0, SINK, CENTRAL] = cl / v1
    for state, vol, qq in ((PERIPH2, v2, q2), (PERIPH3, v3, q3)):
        K[0, state, CENTRAL] = qq / v1
        K[0, CENTRAL, state] = qq / vol
        K[0, state, state] = -qq / vol
    np.testing.assert_allclose(K.sum(axis=1), 0.0, atol=1e-12)

    t_b, bolus_mg = bolus
    t_i, dur_i, rate = infusion
    at = np.zeros((1, 5))
    at[0, DEPOT] = depot_mg
    central = np.zeros((1, 5))
    central[0, CENTRAL] = bolus_mg
    r = np.zeros((1, 5))
    r[0, CENTRAL] = rate
    bps = [
        Breakpoint(0.0, bolus=at),
        Breakpoint(t_b, bolus=central),
        Breakpoint(t_i, rate_change=r),
        Breakpoint(t_i + dur_i, rate_change=-r),
    ]
    t = np.unique(np.concatenate([np.linspace(0.0, 24.0, 49), [t_b, t_i, t_i + dur_i]]))
    y = integrate(LinearSystem(K), np.zeros((1, 5)), bps, t, SolveOptions(method=method))

    # samples at a bolus time are taken before the bolus
    given_mg = depot_mg * (t > 0.0) + bolus_mg * (t > t_b) + rate * np.clip(t - t_i, 0.0, dur_i)
    total = y[0].sum(axis=1)
    scale = max(depot_mg + bolus_mg + rate * dur_i, 1e-300)
    assert np.max(np.abs(total - given_mg)) <= 1e-11 * scale
    assert np.all(np.diff(y[0, :, SINK]) >= -1e-9 * scale)  # elimination never runs backwards


def _human() -> tuple[float, float, float, float]:
    """Parent CL, metabolite CL (L/h), fm and the metabolite/parent molar-mass ratio."""
    drug = ketasim.load_drug(DRUG)
    met = ketasim.load_drug("norketamine")
    spk = drug.species["human"]
    assert spk.fm is not None
    assert drug.mw is not None
    assert met.mw is not None
    mw_ratio = met.mw.to("g/mol") / drug.mw.to("g/mol")
    cl_m = met.species["human"].disposition.cl.to("L/h")
    return spk.disposition.cl.to("L/h"), cl_m, spk.fm.to("dimensionless"), mw_ratio


def _route_input(
    route: str, amount_mg: float, over_h: float, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Parent mg reaching the body's states, and mg entering first-pass depots, by time t."""
    if route == "iv-infusion":
        return amount_mg * np.clip(t / over_h, 0.0, 1.0), np.zeros_like(t)
    spk = ketasim.load_drug(DRUG).species["human"]
    spec = spk.routes[route]
    f = spec.bioavailability.readings[spec.bioavailability.default]
    assert isinstance(f, Parameter)
    parent = np.zeros_like(t)
    fp = np.zeros_like(t)
    for pw in spec.pathways.values():
        lag = pw.lag.to("hour") if pw.lag is not None else 0.0
        assert pw.duration is None
        arrived = t > lag
        parent += amount_mg * f.to("dimensionless") * pw.share.to("dimensionless") * arrived
        if pw.first_pass_metabolite is not None:
            fp += amount_mg * pw.first_pass_metabolite.to("dimensionless") * arrived
    return parent, fp


@PROPERTY_SETTINGS
@given(
    route=st.sampled_from(LINEAR_ROUTES),
    amount_mg=_positive(1.0, 100.0),
    over_min=_positive(5.0, 240.0),
)
def test_simulated_drug_is_conserved_between_body_and_elimination(
    route: str, amount_mg: float, over_min: float
) -> None:
    """ketasim's model has no sink, but its arterial AUC is one: eliminated = CL x AUC.

    Parent amounts (depots, central, peripheral) + CL x AUC_arterial equal the parent dose
    delivered; metabolite amounts + CL_m x AUC_m equal what was formed (fm x eliminated parent
    plus first-pass metabolite), in metabolite mass.
    """
    cl, cl_m, fm, mw_ratio = _human()
    res = simulate_pk(
        DRUG,
        Regimen.single(make_dose(route, amount_mg, over_min)),
        weight="70 kg",
        times_h=TIMES_H,
        allow_anesthetic=True,
    )
    y = res.states[0]
    idx = {n: i for i, n in enumerate(res.state_names)}
    parent_states = [
        i
        for n, i in idx.items()
        if (n.startswith("depot_") and not n.endswith("_fp"))
        or n in ("parent_central", "parent_periph2", "parent_periph3")
    ]
    met_states = [
        idx[n]
        for n in idx
        if n in ("metabolite_central", "metabolite_periph2", "metabolite_periph3")
    ]
    fp_states = [i for n, i in idx.items() if n.endswith("_fp")]
    eliminated = cl * y[:, idx["auc_ketamine_arterial"]] / 1000.0  # L/h * ng*h/mL -> mg
    parent_given, fp_given = _route_input(route, amount_mg, over_min / 60.0, TIMES_H)
    body = y[:, parent_states].sum(axis=1)
    assert np.max(np.abs(body + eliminated - parent_given)) <= 1e-11 * amount_mg

    formed = mw_ratio * (fm * eliminated + fp_given - y[:, fp_states].sum(axis=1))
    met_eliminated = cl_m * y[:, idx["auc_norketamine_arterial"]] / 1000.0
    met_body = y[:, met_states].sum(axis=1)
    assert np.max(np.abs(met_body + met_eliminated - formed)) <= 1e-11 * amount_mg


# --- linearity -------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    route=st.sampled_from(LINEAR_ROUTES),
    amount_mg=_positive(1.0, 60.0),
    over_min=_positive(5.0, 240.0),
    weight_kg=_positive(40.0, 120.0),
)
def test_doubling_a_dose_doubles_every_concentration(
    route: str, amount_mg: float, over_min: float, weight_kg: float
) -> None:
    """Linear PK: for routes whose F does not depend on the dose, C(2D) = 2 C(D).

    Compared where C exceeds 1e-4 of its peak; below that (the first seconds of the
    metabolite's brain curve) the solver's atol, not linearity, sets the relative error.
    """

    def run(mg: float) -> dict[str, np.ndarray]:
        res = simulate_pk(
            DRUG,
            Regimen.single(make_dose(route, mg, over_min)),
            weight=f"{weight_kg} kg",
            times_h=TIMES_H,
            solver=TIGHT,
            allow_anesthetic=True,
        )
        return concentration_columns(res)

    single, double = run(amount_mg), run(2.0 * amount_mg)
    for name, c in single.items():
        assert_relatively_close(double[name], 2.0 * c, 1e-6, name, floor=1e-4)


@PROPERTY_SETTINGS
@given(
    routes=st.tuples(st.sampled_from(LINEAR_ROUTES), st.sampled_from(LINEAR_ROUTES)),
    amounts=st.tuples(_positive(1.0, 60.0), _positive(1.0, 60.0)),
    over_min=_positive(5.0, 120.0),
    second_h=_positive(0.1, 12.0),
)
def test_two_doses_are_the_sum_of_two_single_doses_shifted_in_time(
    routes: tuple[str, str],
    amounts: tuple[float, float],
    over_min: float,
    second_h: float,
) -> None:
    """Superposition: a regimen's curve is the sum of its doses' curves (parent and metabolite).

    The second dose may come before the first infusion ends and by another route.
    """
    first = make_dose(routes[0], amounts[0], over_min)
    second = make_dose(routes[1], amounts[1], over_min)

    def run(regimen: Regimen) -> dict[str, np.ndarray]:
        res = simulate_pk(DRUG, regimen, times_h=TIMES_H, solver=TIGHT, allow_anesthetic=True)
        return concentration_columns(res)

    both = run(Regimen(((0.0, first), (second_h, second))))
    alone_first = run(Regimen(((0.0, first),)))
    alone_second = run(Regimen(((second_h, second),)))
    for name in ("ketamine_plasma_ng_per_ml", "norketamine_plasma_ng_per_ml"):
        summed = alone_first[name] + alone_second[name]
        assert_relatively_close(both[name], summed, 1e-6, name, floor=1e-4)


# --- sign and reproducibility ----------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    route=st.sampled_from([r for r in ROUTES if r != "intraperitoneal"]),  # human routes
    amount_mg=_positive(1.0, 100.0),
    over_min=_positive(5.0, 240.0),
    count=st.integers(1, 3),
    every_h=_positive(0.5, 24.0),
    seed=st.integers(0, 2**31 - 1),
    method=st.sampled_from(["BDF", "Radau", "LSODA"]),
)
def test_no_state_goes_negative_beyond_solver_tolerance(
    route: str,
    amount_mg: float,
    over_min: float,
    count: int,
    every_h: float,
    seed: int,
    method: Method,
) -> None:
    """Amounts, concentrations and AUCs are never negative beyond the absolute tolerance.

    Default tolerances and every route, with between-patient variability: decaying
    exponentials may undershoot zero by a rounding-level amount, never by more than atol.
    """
    dose = make_dose(route, amount_mg, over_min)
    regimen = Regimen(tuple((i * every_h, dose) for i in range(count)))
    opts = SolveOptions(method=method)
    res = simulate_pk(
        DRUG,
        regimen,
        n_patients=3,
        variability=True,
        seed=seed,
        until="48 h",
        solver=opts,
        allow_anesthetic=True,
    )
    assert res.states.min() >= -opts.atol, res.state_names[int(np.argmin(res.states.min((0, 1))))]


@settings(PROPERTY_SETTINGS, max_examples=10)  # each example is 4 runs and 10 + k solves
@given(
    route=st.sampled_from(LINEAR_ROUTES),
    k=st.integers(1, 9),
    seed=st.integers(0, 2**31 - 1),
    amount_mg=_positive(5.0, 60.0),
)
def test_a_patient_does_not_depend_on_how_many_patients_are_simulated(
    route: str, k: int, seed: int, amount_mg: float
) -> None:
    """Same seed, variability on: the first k of 10 patients are the k-patient run.

    One patient per solve (chunk_size=1) makes them identical to the bit; with the default
    chunk the patients share step-size control, so they agree to within the tolerance.
    """
    regimen = Regimen.single(make_dose(route, amount_mg, 40.0))

    def run(n: int, solver: SolveOptions | None) -> np.ndarray:
        res = simulate_pk(
            DRUG,
            regimen,
            n_patients=n,
            variability=True,
            seed=seed,
            times_h=TIMES_H,
            solver=solver,
            allow_anesthetic=True,
        )
        return res.states

    alone = SolveOptions(chunk_size=1)
    np.testing.assert_array_equal(run(10, alone)[:k], run(k, alone))

    # default chunk (all patients in one solve): batch-mates change the steps, so the two runs
    # differ by the solver error; at rtol 1e-8 that is far below 1e-5 for every state
    shared = SolveOptions(rtol=1e-8, atol=1e-11)
    ten, few = run(10, shared)[:k], run(k, shared)
    for p in range(k):
        for s in range(ten.shape[2]):
            assert_relatively_close(
                few[p, :, s], ten[p, :, s], 1e-5, f"patient {p} state {s}", floor=1e-3
            )
