"""Closed-form concentrations of linear mammillary 1-, 2- and 3-compartment models.

These are the textbook sums of exponentials (macro-constants) of a mammillary model with
elimination from the central compartment (Gibaldi & Perrier, *Pharmacokinetics*, 2nd ed.,
chapters 1-3; Abuhelwa, Foster & Upton 2015, "ADVAN-style analytical solutions for common
pharmacokinetic models", J Pharmacol Toxicol Methods 73:42-48). They exist to check the ODE
engine independently: the exponents come from the quadratic formula (2 compartments) and the
trigonometric solution of the characteristic cubic (3 compartments), never from a numerical
eigen-decomposition or matrix exponential.

Model (amounts in mg, volumes in L, clearances in L/h, rate constants in 1/h)::

    dA1/dt = input - (k10 + k12 + k13) A1 + k21 A2 + k31 A3
    dA2/dt = k12 A1 - k21 A2,        dA3/dt = k13 A1 - k31 A3
    k10 = CL/V1,  k12 = Q2/V1,  k21 = Q2/V2,  k13 = Q3/V1,  k31 = Q3/V3

The central concentration after a unit (1 mg) bolus is ``sum_i A_i exp(-lambda_i t)`` with
``A_i = prod_j (k_j1 - lambda_i) / (V1 prod_{m != i} (lambda_m - lambda_i))`` (``j`` over
the peripheral compartments). Every function here returns the central concentration in
**mg/L** (numerically equal to ug/mL); multiply by 1000 for ketasim's ng/mL.

The formulas assume distinct exponents (and ``ka`` distinct from them, except that
``ka == lambda_i`` is handled); parameter sets with repeated eigenvalues are degenerate
and not supported.

This module imports only numpy.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

__all__ = [
    "bolus_concentration",
    "characteristic_roots",
    "first_order_concentration",
    "infusion_concentration",
    "macro_constants",
]


def _micro_constants(
    v_l: float,
    cl_l_per_h: float,
    v2_l: float | None,
    q2_l_per_h: float | None,
    v3_l: float | None,
    q3_l_per_h: float | None,
) -> tuple[float, list[tuple[float, float]]]:
    """``k10`` and the ``(k1j, kj1)`` pairs of each peripheral compartment (1/h)."""
    if not (v_l > 0 and cl_l_per_h > 0):
        raise ValueError("v_l and cl_l_per_h must be positive")
    periph: list[tuple[float, float]] = []
    for name, v, q in (("2", v2_l, q2_l_per_h), ("3", v3_l, q3_l_per_h)):
        if v is None and q is None:
            continue
        if v is None or q is None or not (v > 0 and q > 0):
            raise ValueError(f"v{name}_l and q{name}_l_per_h must both be given and positive")
        periph.append((q / v_l, q / v))
    if v3_l is not None and v2_l is None:
        raise ValueError("a third compartment needs a second one (give v2_l, q2_l_per_h first)")
    return cl_l_per_h / v_l, periph


def _cubic_roots(a2: float, a1: float, a0: float) -> FloatArray:
    """Roots of ``x**3 - a2 x**2 + a1 x - a0`` (three real roots), largest first.

    Trigonometric (Viete) solution: with ``x = y + a2/3`` the cubic becomes
    ``y**3 + p y + q = 0`` with ``p < 0``, whose roots are
    ``2 sqrt(-p/3) cos(theta/3 - 2 pi k/3)``, ``cos(theta) = (3q / 2p) sqrt(-3/p)``.
    Each root is then polished with one Newton step on the original cubic.
    """
    p = a1 - a2**2 / 3.0
    q = -2.0 * a2**3 / 27.0 + a1 * a2 / 3.0 - a0
    if p >= 0:  # only possible for a triple root
        raise ValueError("the characteristic cubic has a repeated root (degenerate parameters)")
    m = 2.0 * np.sqrt(-p / 3.0)
    arg = float(np.clip(3.0 * q / (p * m), -1.0, 1.0))  # (3q/2p) sqrt(-3/p) = 3q / (p m)
    theta = np.arccos(arg) / 3.0
    k = np.arange(3)
    roots = m * np.cos(theta - 2.0 * np.pi * k / 3.0) + a2 / 3.0
    f = ((roots - a2) * roots + a1) * roots - a0
    df = (3.0 * roots - 2.0 * a2) * roots + a1
    step = np.divide(f, df, out=np.zeros_like(roots), where=np.abs(df) > 0)
    polished = roots - step
    f_new = ((polished - a2) * polished + a1) * polished - a0
    roots = np.where(np.abs(f_new) <= np.abs(f), polished, roots)
    return np.sort(roots)[::-1]


def characteristic_roots(
    v_l: float,
    cl_l_per_h: float,
    v2_l: float | None = None,
    q2_l_per_h: float | None = None,
    v3_l: float | None = None,
    q3_l_per_h: float | None = None,
) -> FloatArray:
    """Disposition exponents (alpha, beta, gamma) of the model, largest first.

    Parameters
    ----------
    v_l
        Central volume V1, L.
    cl_l_per_h
        Clearance from the central compartment, L/h.
    v2_l, q2_l_per_h
        Volume (L) and intercompartmental clearance (L/h) of the second compartment, or
        ``None`` for a 1-compartment model.
    v3_l, q3_l_per_h
        The same for the third compartment, or ``None``.

    Returns
    -------
    numpy.ndarray
        The 1, 2 or 3 hybrid rate constants ``lambda_i``, 1/h, in decreasing order.
    """
    k10, periph = _micro_constants(v_l, cl_l_per_h, v2_l, q2_l_per_h, v3_l, q3_l_per_h)
    if not periph:
        return np.array([k10])
    if len(periph) == 1:
        ((k12, k21),) = periph
        s = k10 + k12 + k21  # alpha + beta
        prod = k10 * k21  # alpha * beta
        disc = s * s - 4.0 * prod
        if disc <= 0:
            raise ValueError("repeated exponents (degenerate parameters)")
        alpha = 0.5 * (s + np.sqrt(disc))
        return np.array([alpha, prod / alpha])  # beta without cancellation
    (k12, k21), (k13, k31) = periph
    a2 = k10 + k12 + k13 + k21 + k31
    a1 = k10 * k21 + k10 * k31 + k21 * k31 + k12 * k31 + k13 * k21
    a0 = k10 * k21 * k31
    return _cubic_roots(a2, a1, a0)


def macro_constants(
    v_l: float,
    cl_l_per_h: float,
    v2_l: float | None = None,
    q2_l_per_h: float | None = None,
    v3_l: float | None = None,
    q3_l_per_h: float | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Coefficients and exponents of the unit-bolus central concentration.

    Parameters
    ----------
    v_l, cl_l_per_h, v2_l, q2_l_per_h, v3_l, q3_l_per_h
        As in :func:`characteristic_roots` (L and L/h).

    Returns
    -------
    coefficients : numpy.ndarray
        ``A_i`` in 1/L (mg/L per mg dosed); they sum to ``1 / v_l``.
    exponents : numpy.ndarray
        ``lambda_i`` in 1/h, largest first, so that a 1 mg bolus gives
        ``C(t) = sum_i A_i exp(-lambda_i t)`` mg/L.
    """
    lam = characteristic_roots(v_l, cl_l_per_h, v2_l, q2_l_per_h, v3_l, q3_l_per_h)
    _, periph = _micro_constants(v_l, cl_l_per_h, v2_l, q2_l_per_h, v3_l, q3_l_per_h)
    coef = np.empty_like(lam)
    for i, li in enumerate(lam):
        num = 1.0
        for _, kj1 in periph:
            num *= kj1 - li
        den = 1.0
        for m, lm in enumerate(lam):
            if m != i:
                den *= lm - li
        coef[i] = num / (v_l * den)
    return coef, lam


def _times(t_h: ArrayLike) -> FloatArray:
    return np.asarray(t_h, dtype=np.float64)


def bolus_concentration(
    t_h: ArrayLike,
    dose_mg: float,
    v_l: float,
    cl_l_per_h: float,
    v2_l: float | None = None,
    q2_l_per_h: float | None = None,
    v3_l: float | None = None,
    q3_l_per_h: float | None = None,
) -> FloatArray:
    """Central concentration after an intravenous bolus at time 0.

    Parameters
    ----------
    t_h
        Times after the bolus, h (any shape); times before 0 give 0.
    dose_mg
        Bolus into the central compartment, mg.
    v_l, cl_l_per_h, v2_l, q2_l_per_h, v3_l, q3_l_per_h
        Central volume (L), clearance (L/h) and the optional peripheral volumes (L) and
        intercompartmental clearances (L/h); leave a pair ``None`` for fewer compartments.

    Returns
    -------
    numpy.ndarray
        Central concentration, mg/L, same shape as ``t_h`` (``dose_mg / v_l`` at t = 0).
    """
    t = _times(t_h)
    coef, lam = macro_constants(v_l, cl_l_per_h, v2_l, q2_l_per_h, v3_l, q3_l_per_h)
    tt = np.maximum(t, 0.0)[..., None]
    c = dose_mg * np.sum(coef * np.exp(-lam * tt), axis=-1)
    return np.where(t >= 0, c, 0.0)


def infusion_concentration(
    t_h: ArrayLike,
    dose_mg: float,
    duration_h: float,
    v_l: float,
    cl_l_per_h: float,
    v2_l: float | None = None,
    q2_l_per_h: float | None = None,
    v3_l: float | None = None,
    q3_l_per_h: float | None = None,
) -> FloatArray:
    """Central concentration during and after a zero-order infusion started at time 0.

    The rate is ``dose_mg / duration_h`` from 0 to ``duration_h``. Each exponential term
    contributes ``R A_i / lambda_i (1 - exp(-lambda_i t))`` during the infusion and
    ``R A_i / lambda_i (1 - exp(-lambda_i T)) exp(-lambda_i (t - T))`` after it.

    Parameters
    ----------
    t_h
        Times after the start of the infusion, h; times before 0 give 0.
    dose_mg
        Total amount infused, mg.
    duration_h
        Infusion duration ``T``, h (> 0).
    v_l, cl_l_per_h, v2_l, q2_l_per_h, v3_l, q3_l_per_h
        As in :func:`bolus_concentration` (L and L/h).

    Returns
    -------
    numpy.ndarray
        Central concentration, mg/L, same shape as ``t_h``.
    """
    if not duration_h > 0:
        raise ValueError("duration_h must be positive (use bolus_concentration for 0)")
    t = _times(t_h)
    coef, lam = macro_constants(v_l, cl_l_per_h, v2_l, q2_l_per_h, v3_l, q3_l_per_h)
    rate = dose_mg / duration_h
    tt = np.maximum(t, 0.0)[..., None]
    during = np.minimum(tt, duration_h)
    after = np.maximum(tt - duration_h, 0.0)
    terms = coef / lam * (-np.expm1(-lam * during)) * np.exp(-lam * after)
    c = rate * np.sum(terms, axis=-1)
    return np.where(t >= 0, c, 0.0)


def _bateman_kernel(t: FloatArray, ka: float, lam: FloatArray) -> FloatArray:
    """``(exp(-lam t) - exp(-ka t)) / (ka - lam)`` for t >= 0, stable when ka ~ lam.

    Where ``|x| = |ka - lam| t < 1`` it is written ``exp(-lam t) * t * g(x)`` with
    ``g(x) = (1 - exp(-x)) / x`` (``g(0) = 1``), which has no cancellation; elsewhere the
    difference of exponentials is evaluated directly (it cannot cancel badly and cannot
    overflow).
    """
    d = ka - lam
    x = d * t
    near = np.abs(x) < 1.0
    tiny = np.abs(x) < 1e-12
    safe_x = np.where(near & ~tiny, x, 1.0)
    g = np.where(tiny, 1.0 - 0.5 * x, -np.expm1(-safe_x) / safe_x)
    close = np.exp(-lam * t) * t * g
    safe_d = np.where(d == 0.0, 1.0, d)
    far = (np.exp(-lam * t) - np.exp(-ka * t)) / safe_d
    out: FloatArray = np.where(near, close, far)
    return out


def first_order_concentration(
    t_h: ArrayLike,
    dose_mg: float,
    ka_per_h: float,
    v_l: float,
    cl_l_per_h: float,
    v2_l: float | None = None,
    q2_l_per_h: float | None = None,
    v3_l: float | None = None,
    q3_l_per_h: float | None = None,
    *,
    f: float = 1.0,
    t_lag_h: float = 0.0,
) -> FloatArray:
    """Central concentration after a dose into a first-order absorption depot (Bateman).

    ``C(t) = F D ka sum_i A_i (exp(-lambda_i t') - exp(-ka t')) / (ka - lambda_i)`` with
    ``t' = t - t_lag``; the case ``ka == lambda_i`` takes its limit ``t' exp(-ka t')``.

    Parameters
    ----------
    t_h
        Times after the dose, h; times before the lag give 0.
    dose_mg
        Amount given into the depot, mg.
    ka_per_h
        First-order absorption rate constant, 1/h (> 0).
    v_l, cl_l_per_h, v2_l, q2_l_per_h, v3_l, q3_l_per_h
        As in :func:`bolus_concentration` (L and L/h).
    f
        Bioavailable fraction of the dose (dimensionless).
    t_lag_h
        Absorption lag, h.

    Returns
    -------
    numpy.ndarray
        Central concentration, mg/L, same shape as ``t_h``.
    """
    if not ka_per_h > 0:
        raise ValueError("ka_per_h must be positive")
    t = _times(t_h) - t_lag_h
    coef, lam = macro_constants(v_l, cl_l_per_h, v2_l, q2_l_per_h, v3_l, q3_l_per_h)
    tt = np.maximum(t, 0.0)[..., None]
    c = f * dose_mg * ka_per_h * np.sum(coef * _bateman_kernel(tt, ka_per_h, lam), axis=-1)
    return np.where(t >= 0, c, 0.0)
