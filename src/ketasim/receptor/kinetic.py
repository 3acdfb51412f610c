"""Kinetic reference form of trapping open-channel block, with explicit channel gating.

This is the scheme that :mod:`ketasim.receptor.block` reduces (reference section 1.4). One
receptor population, one or several competing pore blockers ``i``; states::

      C  <->  O         gating: opening alpha, closing beta
                        (p_open = alpha / (alpha + beta), gating time tau_g = 1 / (alpha + beta))
      O  <->  OB_i      block: kon_i * C_i * B_Mg(V) (the pore must be open and free of Mg2+),
                        unblock: koff_i(V) = koff_i * exp(delta_i * (V + 70) / 25.4)   (Woodhull)
      OB_i <-> CB_i     the blocked channel closes and reopens with the same gating (trapping)
      CB_i  -> C        escape from closed channels, k_esc_i (partial trapping)

``C`` closed and free, ``O`` open and free, ``OB_i`` open and blocked, ``CB_i`` closed and
blocked (trapped). The blocked fraction is ``sum_i OB_i + CB_i``.

When gating is much faster than block (``tau_g`` much shorter than ``1 / (kon C B_Mg)``,
``1 / koff`` and ``p_open / k_esc``), free and blocked receptors are each open a share
``p_open`` of the time and the scheme averages to block.py's one-state equation::

    db_i/dt = p kon_i C_i B_Mg (1 - sum_j b_j) - (p koff_i(V) + (1 - p) k_esc_i) b_i

whose steady state is :func:`ketasim.receptor.block.equilibrium_block` and whose time constant
for one blocker is :func:`relaxation_time_s`. ``tests/numerics/test_block_reduction.py``
shows where that reduction, and the further quasi-steady-state reduction of block.py, hold.

Units: concentrations in uM, potentials in mV, rate constants in 1/s (``kon`` in 1/M/s), time
courses in hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import solve_ivp

from ketasim.receptor.block import SECONDS_PER_HOUR, Blocker

__all__ = [
    "DEFAULT_GATING_TIME_S",
    "KineticBlock",
    "gating_rates",
    "generator",
    "integrate_block",
    "koff_at",
    "relaxation_time_s",
    "state_names",
    "steady_block",
    "steady_state",
]

#: Default gating time constant 1 / (alpha + beta), s: NMDA receptors open for a few ms in
#: bursts of tens of ms (Orser 1997: mean open time 3.3 ms).
DEFAULT_GATING_TIME_S = 0.01

FloatArray = NDArray[np.float64]


def koff_at(blocker: Blocker, v_mv: float) -> float:
    """Unblocking rate at potential ``v_mv`` (Woodhull), 1/s.

    Parameters
    ----------
    blocker
        The pore blocker; ``koff_per_s`` is its rate at -70 mV.
    v_mv
        Membrane potential, mV.

    Returns
    -------
    float
        ``koff * exp(delta * (V + 70 mV) / 25.4 mV)``, 1/s.
    """
    return blocker.koff_at(v_mv)


def gating_rates(
    p_open: float, gating_time_s: float = DEFAULT_GATING_TIME_S
) -> tuple[float, float]:
    """Opening and closing rates with open probability ``p_open`` and gating time ``tau_g``.

    Parameters
    ----------
    p_open
        Time-averaged open probability, strictly between 0 and 1.
    gating_time_s
        Relaxation time of gating, ``1 / (alpha + beta)``, s (> 0).

    Returns
    -------
    tuple of float
        ``(alpha, beta)``, 1/s, with ``alpha / (alpha + beta) = p_open``.
    """
    if not 0.0 < p_open < 1.0:
        raise ValueError(f"p_open must lie strictly between 0 and 1, got {p_open}")
    if gating_time_s <= 0.0:
        raise ValueError(f"gating_time_s must be positive, got {gating_time_s}")
    return p_open / gating_time_s, (1.0 - p_open) / gating_time_s


def _pore(
    blockers: Sequence[Blocker], c_um: Sequence[ArrayLike]
) -> list[tuple[Blocker, FloatArray]]:
    if len(blockers) != len(c_um):
        raise ValueError(f"{len(blockers)} blockers but {len(c_um)} concentrations")
    out = []
    for b, c in zip(blockers, c_um, strict=True):
        if b.pore:
            if b.koff_per_s <= 0.0:
                raise ValueError(f"{b.name}: the kinetic scheme needs koff > 0")
            out.append((b, np.maximum(np.asarray(c, dtype=float), 0.0)))
    return out


def state_names(blockers: Sequence[Blocker]) -> tuple[str, ...]:
    """Names of the states, in the order of :func:`generator`: C, O, then OB_i, CB_i per blocker.

    Parameters
    ----------
    blockers
        The drugs; only pore blockers get states.

    Returns
    -------
    tuple of str
        ``("C", "O", "OB_<name>", "CB_<name>", ...)``.
    """
    names = ["C", "O"]
    for b in blockers:
        if b.pore:
            names += [f"OB_{b.name}", f"CB_{b.name}"]
    return tuple(names)


def _generator_parts(
    blockers: Sequence[Blocker],
    v_mv: float,
    p_open: float,
    mg_free: float,
    gating_time_s: float,
) -> tuple[FloatArray, FloatArray]:
    """``Q0`` (1/s) and ``Q1`` (1/s/uM, one slice per pore blocker): ``Q = Q0 + sum C_i Q1_i``."""
    pores = [b for b in blockers if b.pore]
    alpha, beta = gating_rates(p_open, gating_time_s)
    n = 2 + 2 * len(pores)
    q0 = np.zeros((n, n))
    q1 = np.zeros((len(pores), n, n))

    def add(q: FloatArray, src: int, dst: int, k: float) -> None:
        q[dst, src] += k
        q[src, src] -= k

    add(q0, 0, 1, alpha)
    add(q0, 1, 0, beta)
    for i, b in enumerate(pores):
        ob, cb = 2 + 2 * i, 3 + 2 * i
        add(q1[i], 1, ob, b.kon_per_m_s * 1e-6 * mg_free)
        add(q0, ob, 1, koff_at(b, v_mv))
        add(q0, ob, cb, beta)
        add(q0, cb, ob, alpha)
        add(q0, cb, 0, b.k_esc_per_s)
    return q0, q1


def generator(
    blockers: Sequence[Blocker],
    c_um: Sequence[float],
    v_mv: float,
    p_open: float,
    mg_free: float,
    gating_time_s: float = DEFAULT_GATING_TIME_S,
) -> FloatArray:
    """Rate matrix ``Q`` of the scheme at constant concentrations: ``dx/dt = Q x``.

    Parameters
    ----------
    blockers
        The competing drugs; allosteric (non-pore) drugs are ignored.
    c_um
        Unbound concentration at the receptor of each drug, uM.
    v_mv
        Membrane potential, mV.
    p_open
        Time-averaged open probability of the population, in (0, 1).
    mg_free
        Fraction of channels free of Mg2+ at ``v_mv`` (:func:`~ketasim.receptor.mg_unblocked`).
    gating_time_s
        Gating time constant ``1 / (alpha + beta)``, s.

    Returns
    -------
    numpy.ndarray
        ``Q``, shape ``(n, n)``, 1/s, states as :func:`state_names`; columns sum to 0.
    """
    q0, q1 = _generator_parts(blockers, v_mv, p_open, mg_free, gating_time_s)
    conc = [float(np.maximum(c, 0.0)) for b, c in zip(blockers, c_um, strict=True) if b.pore]
    return q0 + np.tensordot(np.asarray(conc, dtype=float), q1, axes=1) if conc else q0


def steady_state(
    blockers: Sequence[Blocker],
    c_um: Sequence[ArrayLike],
    v_mv: float,
    p_open: float,
    mg_free: float,
    gating_time_s: float = DEFAULT_GATING_TIME_S,
) -> FloatArray:
    """Steady-state occupancy of every state for constant concentrations.

    Solves ``Q x = 0``, ``sum x = 1`` in closed form. With ``O`` as reference, each blocker's
    flux balance gives ``OB_i = a_i O / D_i`` with ``a_i = kon_i C_i B_Mg`` and
    ``D_i = koff_i(V) + beta k_esc_i / (alpha + k_esc_i)``, trapping gives
    ``CB_i = beta OB_i / (alpha + k_esc_i)``, and the balance of ``C`` gives
    ``alpha C = beta O + sum_i k_esc_i CB_i``. All terms are positive, so the result is exact to
    rounding even when gating is many orders of magnitude faster than block.

    Parameters
    ----------
    blockers
        The competing drugs; allosteric (non-pore) drugs are ignored.
    c_um
        Unbound concentration of each drug, uM: scalars or arrays of one shape (broadcast).
    v_mv
        Membrane potential, mV.
    p_open
        Time-averaged open probability, in (0, 1).
    mg_free
        Fraction of channels free of Mg2+ at ``v_mv``.
    gating_time_s
        Gating time constant ``1 / (alpha + beta)``, s.

    Returns
    -------
    numpy.ndarray
        Occupancies, shape ``c.shape + (n,)``, states as :func:`state_names`; they sum to 1.
    """
    alpha, beta = gating_rates(p_open, gating_time_s)
    pores = _pore(blockers, c_um)
    shape = np.broadcast_shapes(*(c.shape for _, c in pores)) if pores else ()
    o = np.ones(shape)
    cols: list[FloatArray] = []
    escape = np.zeros(shape)
    for b, c in pores:
        a = b.kon_per_m_s * 1e-6 * mg_free * np.broadcast_to(c, shape)
        e = b.k_esc_per_s
        d = koff_at(b, v_mv) + beta * e / (alpha + e)
        ob = a * o / d
        cb = beta * ob / (alpha + e)
        escape = escape + e * cb
        cols += [ob, cb]
    c_free = (beta * o + escape) / alpha
    x = np.stack([c_free, o, *cols], axis=-1)
    return np.asarray(x / x.sum(axis=-1, keepdims=True), dtype=float)


def steady_block(
    blockers: Sequence[Blocker],
    c_um: Sequence[ArrayLike],
    v_mv: float,
    p_open: float,
    mg_free: float,
    gating_time_s: float = DEFAULT_GATING_TIME_S,
) -> FloatArray:
    """Steady-state blocked fraction ``sum_i OB_i + CB_i`` for constant concentrations.

    Parameters
    ----------
    blockers, c_um, v_mv, p_open, mg_free, gating_time_s
        As :func:`steady_state` (uM, mV, dimensionless, s).

    Returns
    -------
    numpy.ndarray
        Blocked fraction, dimensionless, shape of the broadcast concentrations.
    """
    x = steady_state(blockers, c_um, v_mv, p_open, mg_free, gating_time_s)
    return np.asarray(x[..., 2:].sum(axis=-1), dtype=float)


def relaxation_time_s(
    blocker: Blocker, c_um: ArrayLike, v_mv: float, p_open: float, mg_free: float
) -> FloatArray:
    """Time constant of approach to equilibrium block of the averaged (one-state) scheme.

    ``tau = 1 / (p (kon C B_Mg + koff(V)) + (1 - p) k_esc)``: the blocked fraction relaxes
    exponentially with ``tau`` after a step in concentration (fast gating).

    Parameters
    ----------
    blocker
        The pore blocker.
    c_um
        Unbound concentration, uM.
    v_mv
        Membrane potential, mV.
    p_open
        Time-averaged open probability.
    mg_free
        Fraction of channels free of Mg2+ (1 for 0 Mg2+).

    Returns
    -------
    numpy.ndarray
        ``tau``, s.
    """
    c = np.maximum(np.asarray(c_um, dtype=float), 0.0)
    on = blocker.kon_per_m_s * 1e-6 * c * mg_free
    rate = p_open * (on + koff_at(blocker, v_mv)) + (1.0 - p_open) * blocker.k_esc_per_s
    return np.asarray(1.0 / rate, dtype=float)


@dataclass(frozen=True)
class KineticBlock:
    """Time course of the kinetic scheme.

    Attributes
    ----------
    t_h
        Times, h, shape ``(n_t,)``.
    states
        Occupancy of each state, shape ``(n_t, n_states)``, order ``names``.
    names
        State names (:func:`state_names`).
    """

    t_h: FloatArray
    states: FloatArray
    names: tuple[str, ...]

    @property
    def blocked(self) -> FloatArray:
        """Blocked fraction ``sum_i OB_i + CB_i`` over time, shape ``(n_t,)``."""
        return np.asarray(self.states[:, 2:].sum(axis=1), dtype=float)

    @property
    def trapped(self) -> FloatArray:
        """Trapped fraction ``sum_i CB_i`` (blocked and closed) over time, shape ``(n_t,)``."""
        return np.asarray(self.states[:, 3::2].sum(axis=1), dtype=float)

    def blocked_by(self, i: int) -> FloatArray:
        """Fraction blocked by the ``i``-th pore blocker (``OB_i + CB_i``), shape ``(n_t,)``."""
        return np.asarray(self.states[:, 2 + 2 * i] + self.states[:, 3 + 2 * i], dtype=float)


def integrate_block(
    blockers: Sequence[Blocker],
    t_h: ArrayLike,
    c_um: Sequence[ArrayLike],
    v_mv: float,
    p_open: float,
    mg_free: float,
    gating_time_s: float = DEFAULT_GATING_TIME_S,
    x0: ArrayLike | None = None,
    method: str = "Radau",
    rtol: float = 1e-6,
    atol: float = 1e-10,
) -> KineticBlock:
    """Integrate the kinetic scheme for a concentration time course.

    Concentrations are interpolated linearly between the samples; the step never exceeds the
    largest sampling interval, so no feature of ``C(t)`` is stepped over. The system is linear
    and stiff (gating in ms, block in minutes); the Jacobian ``Q(t)`` is passed to the solver.

    Parameters
    ----------
    blockers
        The competing drugs; allosteric (non-pore) drugs are ignored.
    t_h
        Sample and output times, h, increasing, shape ``(n_t,)``.
    c_um
        Unbound concentration of each drug at ``t_h``, uM, each shape ``(n_t,)``.
    v_mv
        Membrane potential, mV.
    p_open
        Time-averaged open probability, in (0, 1).
    mg_free
        Fraction of channels free of Mg2+ at ``v_mv``.
    gating_time_s
        Gating time constant ``1 / (alpha + beta)``, s (ms to s).
    x0
        Initial occupancies (order :func:`state_names`); default the drug-free steady state
        ``C = 1 - p_open``, ``O = p_open``.
    method
        ``solve_ivp`` method for stiff systems: ``"Radau"``, ``"BDF"`` or ``"LSODA"``.
    rtol, atol
        Solver tolerances (occupancies are dimensionless).

    Returns
    -------
    KineticBlock
        Occupancies over ``t_h``; ``.blocked`` is the blocked fraction ``OB + CB``.
    """
    t = np.asarray(t_h, dtype=float)
    if t.ndim != 1 or t.size < 2 or np.any(np.diff(t) <= 0):
        raise ValueError("t_h must be a strictly increasing 1-d array of at least 2 times")
    pores = _pore(blockers, c_um)
    conc = np.array([np.broadcast_to(c, t.shape) for _, c in pores]).reshape(len(pores), t.size)
    q0, q1 = _generator_parts(blockers, v_mv, p_open, mg_free, gating_time_s)
    q0, q1 = q0 * SECONDS_PER_HOUR, q1 * SECONDS_PER_HOUR  # 1/h
    names = state_names(blockers)
    if x0 is None:
        start = np.zeros(len(names))
        start[0], start[1] = 1.0 - p_open, p_open
    else:
        start = np.asarray(x0, dtype=float)
        if start.shape != (len(names),):
            raise ValueError(f"x0 must have shape ({len(names)},), got {start.shape}")

    def q_at(time: float) -> FloatArray:
        if not pores:
            return q0
        c_now = np.array([np.interp(time, t, row) for row in conc])
        return q0 + np.tensordot(c_now, q1, axes=1)

    def rhs(time: float, x: FloatArray) -> FloatArray:
        return q_at(time) @ x

    def jac(time: float, x: FloatArray) -> FloatArray:
        return q_at(time)

    sol = solve_ivp(
        rhs,
        (float(t[0]), float(t[-1])),
        start,
        method=method,
        t_eval=t,
        jac=jac,
        rtol=rtol,
        atol=atol,
        max_step=float(np.max(np.diff(t))),
    )
    if not sol.success:
        raise RuntimeError(f"kinetic block integration failed: {sol.message}")
    return KineticBlock(t_h=t, states=np.asarray(sol.y.T, dtype=float), names=names)
