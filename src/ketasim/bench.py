"""Engine benchmarks, reported as ratios against a baseline run in the same process.

The baseline is one patient through the bare engine; each case reports its wall time divided by the
baseline's, and the time per patient relative to the baseline's. Nothing here asserts a time:
tests check what is computed, benchmarks say how fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ketasim.api import simulate
from ketasim.engine.solve import Breakpoint, LinearSystem, SolveOptions, integrate


@dataclass(frozen=True)
class BenchResult:
    """One benchmark case: its name, patients, median seconds and ratios to the baseline."""

    case: str
    n_patients: int
    seconds: float
    ratio_to_baseline: float
    per_patient_ratio: float


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def three_compartment_batch(n_patients: int, seed: int = 0) -> tuple[LinearSystem, np.ndarray]:
    """A ketamine-like 3-compartment model with metabolite for ``n_patients`` (varied CL, V)."""
    rng = np.random.default_rng(seed)
    cl = 79.0 * np.exp(0.3 * rng.standard_normal(n_patients))
    v1, v2, v3, q2, q3 = 25.0, 56.0, 171.0, 161.0, 79.0
    k = np.zeros((n_patients, 5, 5))
    k[:, 0, 0] = -(cl + q2 + q3) / v1
    k[:, 1, 0], k[:, 0, 1], k[:, 1, 1] = q2 / v1, q2 / v2, -q2 / v2
    k[:, 2, 0], k[:, 0, 2], k[:, 2, 2] = q3 / v1, q3 / v3, -q3 / v3
    k[:, 3, 0] = 0.8 * cl / v1  # metabolite formation
    k[:, 3, 3] = -60.0 / 11.6
    k[:, 4, 0], k[:, 4, 4] = 60.0 * 1000.0 / v1, -60.0  # effect site
    return LinearSystem(k), np.zeros((n_patients, 5))


def run_engine_benchmark(
    sizes: tuple[int, ...] = (1, 10, 100, 1000), repeats: int = 3
) -> list[BenchResult]:
    """Time 0.5 mg/kg over 40 min, sampled each minute for 24 h, for growing batches."""
    t_out = np.arange(0.0, 24.0 + 1e-9, 1.0 / 60.0)
    results: list[BenchResult] = []
    baseline = None
    opts = SolveOptions(chunk_size=max(sizes))
    for n in sizes:
        system, y0 = three_compartment_batch(n)
        rate = np.zeros((n, 5))
        rate[:, 0] = 35.0 / (40.0 / 60.0)
        bps = [Breakpoint(0.0, rate_change=rate), Breakpoint(40.0 / 60.0, rate_change=-rate)]

        def solve(
            s: LinearSystem = system, y: np.ndarray = y0, b: list[Breakpoint] = bps
        ) -> object:
            return integrate(s, y, b, t_out, opts)

        seconds = _median_time(solve, repeats)
        if baseline is None:
            baseline = seconds
        results.append(
            BenchResult(f"engine x {n}", n, seconds, seconds / baseline, seconds / n / baseline)
        )
    for n in (1, 1000):

        def run(n: int = n) -> object:
            return simulate(
                "ketamine-racemic",
                dose="0.5 mg/kg",
                over="40 min",
                until="24 h",
                n_patients=n,
                variability=True,
                seed=1,
            )

        seconds = _median_time(run, repeats)
        assert baseline is not None
        results.append(
            BenchResult(f"simulate x {n}", n, seconds, seconds / baseline, seconds / n / baseline)
        )
    return results
