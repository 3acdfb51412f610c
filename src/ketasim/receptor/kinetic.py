"""Kinetic reference forms of the block, against which the model's reductions are tested.

Two levels:

* :func:`markov_generator`: the full trapping scheme with explicit channel gating
  (reference section 1.4)::

      C  <-> O     opening alpha, closing beta          (p_open = alpha / (alpha + beta))
      O  <-> OB    blocking kon * C_u * B_Mg(V), unblocking koff(V)
      OB <-> CB    the blocked channel closes and reopens with the same gating (trapping)
      CB  -> C     escape from closed channels, k_esc

  Blocked fraction = OB + CB. When gating is much faster than blocking, the blocked pool is
  open a share ``p_open`` of the time and the scheme averages to the one-state equation of
  ``block.py``.

* :func:`kinetic_block`: that one-state equation, ``db/dt = p a (1 - b) - d b``, integrated
  for a concentration time course. The model keeps it as a state where receptors rarely open
  (rest) and uses its steady state elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp

from ketasim.receptor.block import SECONDS_PER_HOUR, Blocker


def markov_generator(
    blocker: Blocker,
    c_um: float,
    v_mv: float,
    p_open: float,
    mg_free: float,
    gating_time_s: float = 0.01,
) -> np.ndarray:
    """Rate matrix Q (1/s) of the states (C, O, OB, CB): d x/dt = Q x."""
    rate = 1.0 / gating_time_s
    alpha, beta = p_open * rate, (1.0 - p_open) * rate
    kon = blocker.kon_per_m_s * c_um * 1e-6 * mg_free
    koff = blocker.koff_per_s * np.exp(blocker.delta * (v_mv + 70.0) / 25.4)
    q = np.zeros((4, 4))
    c, o, ob, cb = range(4)
    for src, dst, k in (
        (c, o, alpha),
        (o, c, beta),
        (o, ob, kon),
        (ob, o, koff),
        (ob, cb, beta),
        (cb, ob, alpha),
        (cb, c, blocker.k_esc_per_s),
    ):
        q[dst, src] += k
        q[src, src] -= k
    return q


def markov_steady_block(
    blocker: Blocker,
    c_um: float,
    v_mv: float,
    p_open: float,
    mg_free: float,
    gating_time_s: float = 0.01,
) -> float:
    """Steady-state blocked fraction (OB + CB) of the full gating scheme."""
    q = markov_generator(blocker, c_um, v_mv, p_open, mg_free, gating_time_s)
    a = np.vstack([q, np.ones(4)])
    rhs = np.zeros(5)
    rhs[-1] = 1.0
    x, *_ = np.linalg.lstsq(a, rhs, rcond=None)
    return float(x[2] + x[3])


def kinetic_block(
    blocker: Blocker,
    c_um_of_t: Callable[[float], float],
    t_h: np.ndarray,
    v_mv: float,
    p_open: float,
    mg_free: float,
) -> np.ndarray:
    """Blocked fraction over ``t_h`` (hours) from the one-state kinetic equation.

    Parameters
    ----------
    blocker
        The drug's blocking constants.
    c_um_of_t
        Unbound brain concentration (uM) as a function of time (h).
    t_h
        Output times (h), increasing from 0.
    v_mv, p_open, mg_free
        The population's potential (mV), open probability and Mg2+-free fraction.
    """
    koff_v = blocker.koff_per_s * np.exp(blocker.delta * (v_mv + 70.0) / 25.4)
    d = (p_open * koff_v + (1.0 - p_open) * blocker.k_esc_per_s) * SECONDS_PER_HOUR

    def rhs(t: float, b: np.ndarray) -> np.ndarray:
        on = p_open * blocker.kon_per_m_s * max(c_um_of_t(t), 0.0) * 1e-6 * mg_free
        return np.array([on * SECONDS_PER_HOUR * (1.0 - b[0]) - d * b[0]])

    sol = solve_ivp(
        rhs,
        (float(t_h[0]), float(t_h[-1])),
        [0.0],
        t_eval=t_h,
        method="LSODA",
        rtol=1e-8,
        atol=1e-12,
        max_step=1.0 / 60.0,
    )
    return np.asarray(sol.y[0])
