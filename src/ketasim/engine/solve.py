"""Batched, event-split integration with SciPy's stiff solvers.

Every system is written for a batch: the state is an array of shape (patients, states) and
the right-hand side returns the same shape, with no Python loop over patients. The engine
flattens the batch patient by patient, so the Jacobian is block-diagonal; it hands SciPy that
structure as a sparse matrix (exact blocks when the system gives them, finite differences over
the sparsity pattern otherwise), so a batch costs about as many right-hand-side evaluations as
one patient.

Doses are events. The integration is split at every breakpoint (a bolus, or the start or end
of a constant-rate input); between breakpoints the input ``u`` is constant. Samples at a
breakpoint time are taken before the bolus given then (the NONMEM convention).

Patients in one batch share the solver's step-size control, so a patient's numbers depend on
its batch-mates within the solver tolerance. :func:`integrate` therefore cuts the patients
into chunks of a fixed size (``SolveOptions.chunk_size``) set by the job, never by the number
of workers. It also runs BLAS single-threaded (threadpoolctl): a multithreaded BLAS sums in an
order that depends on its thread count, and Dask's workers run BLAS on one thread, so without
this a chunk solved in the main process and the same chunk solved on a worker differed in the
sixth digit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from scipy import sparse
from scipy.integrate import solve_ivp
from threadpoolctl import threadpool_limits

from ketasim.errors import SolverError

Method = Literal["BDF", "Radau", "LSODA"]


class OdeSystem(Protocol):
    """What the engine integrates: a batched right-hand side with an optional Jacobian."""

    @property
    def n_patients(self) -> int:
        """Number of patients in the batch."""
        ...

    @property
    def n_states(self) -> int:
        """Number of states per patient."""
        ...

    def rhs(self, t: float, y: np.ndarray, u: np.ndarray) -> np.ndarray:
        """dy/dt of shape (patients, states) for state ``y`` and constant input ``u``."""
        ...

    def jac(self, t: float, y: np.ndarray) -> np.ndarray | None:
        """Per-patient Jacobian blocks (patients, states, states), or ``None``."""
        ...

    def subset(self, patients: np.ndarray) -> OdeSystem:
        """The same system for a subset of patients (a chunk)."""
        ...


@dataclass(frozen=True)
class LinearSystem:
    """dy/dt = K y + u with one matrix K per patient (shape (patients, states, states))."""

    K: np.ndarray

    @property
    def n_patients(self) -> int:
        return int(self.K.shape[0])

    @property
    def n_states(self) -> int:
        return int(self.K.shape[1])

    def rhs(self, t: float, y: np.ndarray, u: np.ndarray) -> np.ndarray:
        return np.einsum("pij,pj->pi", self.K, y) + u

    def jac(self, t: float, y: np.ndarray) -> np.ndarray:
        return self.K

    def subset(self, patients: np.ndarray) -> LinearSystem:
        return LinearSystem(self.K[patients])


@dataclass(frozen=True)
class Breakpoint:
    """What happens at ``t_h``: boluses added to the state and a change of the input rates.

    ``bolus`` and ``rate_change`` have shape (patients, states); either may be ``None``.
    """

    t_h: float
    bolus: np.ndarray | None = None
    rate_change: np.ndarray | None = None


@dataclass(frozen=True)
class SolveOptions:
    """How to integrate.

    ``rtol``/``atol`` are SciPy's tolerances (``atol`` in each state's own unit);
    ``chunk_size`` fixes how many patients share one solve.
    """

    method: Method = "BDF"
    rtol: float = 1e-6
    atol: float = 1e-9
    chunk_size: int = 256
    max_step_h: float = np.inf
    first_step_h: float | None = None
    extra: dict[str, float] = field(default_factory=dict)


def _block_diag(blocks: np.ndarray) -> sparse.csc_matrix:
    n, s, _ = blocks.shape
    bsr = sparse.bsr_matrix(
        (blocks, np.arange(n), np.arange(n + 1)), shape=(n * s, n * s), blocksize=(s, s)
    )
    return bsr.tocsc()


def _merge(breakpoints: Sequence[Breakpoint], n_pat: int, n_states: int) -> list[Breakpoint]:
    """Breakpoints at equal times merged into one, sorted by time."""
    by_time: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    for bp in breakpoints:
        bolus, rate = by_time.setdefault(
            float(bp.t_h), (np.zeros((n_pat, n_states)), np.zeros((n_pat, n_states)))
        )
        if bp.bolus is not None:
            bolus += bp.bolus
        if bp.rate_change is not None:
            rate += bp.rate_change
    return [Breakpoint(t, b, r) for t, (b, r) in sorted(by_time.items())]


def _chunk(bp: Breakpoint, rows: np.ndarray) -> Breakpoint:
    return Breakpoint(
        bp.t_h,
        None if bp.bolus is None else bp.bolus[rows],
        None if bp.rate_change is None else bp.rate_change[rows],
    )


def integrate(
    system: OdeSystem,
    y0: np.ndarray,
    breakpoints: Sequence[Breakpoint],
    t_out_h: np.ndarray,
    options: SolveOptions | None = None,
) -> np.ndarray:
    """Integrate ``system`` from time 0 and return the states at ``t_out_h``.

    Parameters
    ----------
    system
        The batched ODE system.
    y0
        Initial state, shape (patients, states), at time 0 h.
    breakpoints
        Boluses and rate changes, at times >= 0 h.
    t_out_h
        Sorted output times in hours, >= 0.
    options
        Solver settings.

    Returns
    -------
    numpy.ndarray
        States at the output times, shape (patients, times, states).
    """
    opts = options or SolveOptions()
    t_out = np.asarray(t_out_h, dtype=float)
    if t_out.ndim != 1 or np.any(np.diff(t_out) < 0) or (t_out.size and t_out[0] < 0):
        raise ValueError("t_out_h must be sorted, one-dimensional and non-negative")
    n_pat, n_states = y0.shape
    merged = _merge(breakpoints, n_pat, n_states)
    out = np.empty((n_pat, t_out.size, n_states))
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, n_pat, opts.chunk_size):
            rows = np.arange(start, min(start + opts.chunk_size, n_pat))
            sub = system.subset(rows) if rows.size != n_pat else system
            chunk = [_chunk(b, rows) for b in merged]
            out[rows] = _integrate_chunk(sub, y0[rows], chunk, t_out, opts)
    return out


def _integrate_chunk(
    system: OdeSystem,
    y0: np.ndarray,
    breakpoints: list[Breakpoint],
    t_out: np.ndarray,
    opts: SolveOptions,
) -> np.ndarray:
    n_pat, n_states = y0.shape
    out = np.empty((n_pat, t_out.size, n_states))
    y = y0.astype(float).copy()
    u = np.zeros_like(y)
    t_end = float(t_out[-1]) if t_out.size else 0.0
    cuts = sorted({0.0, t_end, *(bp.t_h for bp in breakpoints if bp.t_h <= t_end)})
    pending = {bp.t_h: bp for bp in breakpoints}
    done = np.zeros(t_out.size, dtype=bool)

    def fun(t: float, yf: np.ndarray) -> np.ndarray:
        return system.rhs(t, yf.reshape(n_pat, n_states), u).reshape(-1)

    fixed_jac = None
    probe = system.jac(0.0, y)
    constant = isinstance(system, LinearSystem)
    if probe is not None and constant:
        fixed_jac = _block_diag(probe)

    def jac(t: float, yf: np.ndarray) -> sparse.csc_matrix:
        blocks = system.jac(t, yf.reshape(n_pat, n_states))
        assert blocks is not None
        return _block_diag(blocks)

    jac_arg: object
    if fixed_jac is not None:
        jac_arg = fixed_jac
    elif probe is not None:
        jac_arg = jac
    else:
        jac_arg = None
    sparsity = _block_diag(np.ones((n_pat, n_states, n_states))) if probe is None else None

    for a, b in zip(cuts, [*cuts[1:], None], strict=False):
        # samples at exactly t = a are taken before a's bolus
        at_a = (~done) & (t_out == a)
        out[:, at_a, :] = y[:, None, :]
        done |= at_a
        bp = pending.get(a)
        if bp is not None:
            if bp.bolus is not None:
                y = y + bp.bolus
            if bp.rate_change is not None:
                u = u + bp.rate_change
                # a rate switched on and off again cancels to rounding error: make it zero
                u[np.abs(u) < 1e-12 * (1.0 + np.abs(bp.rate_change).max())] = 0.0
        if b is None or b - a <= 1e-12 * (1.0 + abs(a)):
            continue  # nothing to integrate over a (numerically) empty interval
        inside = (~done) & (t_out > a) & (t_out < b)
        kwargs: dict[str, object] = {
            "method": opts.method,
            "rtol": opts.rtol,
            "atol": opts.atol,
            "max_step": opts.max_step_h,
        }
        if opts.method == "LSODA":
            kwargs["lband"] = kwargs["uband"] = n_states - 1
        elif jac_arg is not None:
            kwargs["jac"] = jac_arg
        else:
            kwargs["jac_sparsity"] = sparsity
        if opts.first_step_h is not None:
            kwargs["first_step"] = min(opts.first_step_h, b - a)
        t_eval = np.append(t_out[inside], b)
        sol = solve_ivp(fun, (a, b), y.reshape(-1), t_eval=t_eval, **kwargs)
        if not sol.success:
            raise SolverError(
                f"the solver ({opts.method}) failed between {a:g} h and {b:g} h: {sol.message}; "
                "try method='Radau' or a looser rtol"
            )
        if inside.any():
            inner = sol.y[:, :-1].T.reshape(int(inside.sum()), n_pat, n_states)
            out[:, inside, :] = inner.transpose(1, 0, 2)
            done |= inside
        y = sol.y[:, -1].reshape(n_pat, n_states)
    remaining = ~done
    if remaining.any():  # output times at the very end
        out[:, remaining, :] = y[:, None, :]
    return out
