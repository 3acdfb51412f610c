"""Engine benchmarks, reported as ratios against a baseline run in the same process.

The baseline is one patient through the bare engine; each case reports its wall time divided by the
baseline's, and the time per patient relative to the baseline's. Nothing here asserts a time:
tests check what is computed, benchmarks say how fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

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


# --- issue 7: the full model against libRoadRunner and SciPy, patient by patient ----------------

#: Patients per integration batch in the model benchmark (fixed by the job, not the workers).
BENCH_CHUNK = 256


@dataclass(frozen=True)
class ModelBenchResult:
    """``ketasim bench``: N virtual patients, one 0.5 mg/kg infusion, D days, hourly output.

    ``ketasim_s`` times the batched engine over all N (chunks streamed to Parquet);
    ``roadrunner_s`` and ``scipy_s`` time the baselines patient by patient over the first
    ``baseline_patients`` and are scaled to N (throughput); ``roadrunner_load_s`` is the
    one-off load and compile of the SBML, reported apart."""

    patients: int
    days: float
    ketasim_s: float
    roadrunner_s: float
    scipy_s: float
    roadrunner_load_s: float
    baseline_patients: int
    max_rel_diff: float
    peak_rss_mb: float
    rtol: float
    atol: float
    workers: int

    @property
    def speedup_vs_roadrunner(self) -> float:
        return self.roadrunner_s / self.ketasim_s

    @property
    def speedup_vs_scipy(self) -> float:
        return self.scipy_s / self.ketasim_s

    def to_json(self) -> dict[str, float | int]:
        return {
            "patients": self.patients,
            "days": self.days,
            "ketasim_s": round(self.ketasim_s, 3),
            "roadrunner_s": round(self.roadrunner_s, 3),
            "scipy_s": round(self.scipy_s, 3),
            "speedup_vs_roadrunner": float(f"{self.speedup_vs_roadrunner:.4g}"),
            "speedup_vs_scipy": float(f"{self.speedup_vs_scipy:.4g}"),
            "max_rel_diff": float(f"{self.max_rel_diff:.3g}"),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "roadrunner_load_s": round(self.roadrunner_load_s, 3),
            "baseline_patients": self.baseline_patients,
            "patients_per_s": round(self.patients / self.ketasim_s, 2),
            "rtol": self.rtol,
            "atol": self.atol,
            "workers": self.workers,
        }


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def _bench_chain(rows: np.ndarray, seed: int) -> tuple[Any, Any]:
    """The model for patients ``rows`` of the cohort: each patient's variability is drawn
    from (seed, patient id), so a chunk is built alone and memory stays flat in N."""
    from ketasim.model import build_chain
    from ketasim.pk.regimen import Dose, Regimen

    regimen = Regimen.at(["0 h"], Dose("0.5 mg/kg", route="iv-infusion", over="40 min"))
    chain = build_chain(
        "ketamine-racemic",
        "human",
        regimen.routes,
        np.full(rows.size, 70.0),
        seed=seed,
        variability=True,
        patient_ids=rows,
    )
    return chain, regimen


def _bench_task(
    seed: int, rows: np.ndarray, days: float, opts: SolveOptions, folder: str | None
) -> np.ndarray | None:
    """Integrate one chunk of the benchmark cohort; write it to Parquet when ``folder`` is
    given (returning nothing), else return its states (patients, times, states)."""
    chain, regimen = _bench_chain(rows, seed)
    system = chain.system
    t = np.arange(0.0, days * 24.0 + 1e-9, 1.0)
    y = integrate(system, system.initial_state(), chain.breakpoints(regimen), t, opts)
    if folder is None:
        return y
    import pandas as pd

    frame = pd.DataFrame(y.reshape(-1, y.shape[2]), columns=list(chain.system.state_names))
    frame.insert(0, "t_h", np.tile(t, rows.size))
    frame.insert(0, "patient", np.repeat(rows, t.size))
    frame.to_parquet(f"{folder}/chunk-{int(rows[0]):08d}.parquet", index=False)
    return None


def run_model_benchmark(
    patients: int = 1000,
    days: float = 14.0,
    *,
    baseline_patients: int | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    seed: int = 0,
    mapper: Callable[..., Any] = map,
    workers: int = 1,
    parquet_dir: str | None = None,
) -> ModelBenchResult:
    """Time ketasim's batched engine on ``patients`` and the two patient-by-patient baselines
    (libRoadRunner on the exported SBML with CVODE, SciPy's ``solve_ivp`` with ketasim's
    vectorised right-hand side), all at ``rtol``/``atol`` with the same hourly grid.

    The states of the first ``baseline_patients`` (default ``min(patients, 100)``) are
    compared between ketasim and libRoadRunner: ``max_rel_diff`` is the largest relative
    difference wherever a value exceeds 1e-6."""
    import tempfile

    from ketasim.io.sbml import load_roadrunner, sbml_export, simulate_roadrunner

    m = min(patients, baseline_patients if baseline_patients is not None else 100)
    opts = SolveOptions(rtol=rtol, atol=atol, chunk_size=BENCH_CHUNK)
    chunks = [np.arange(s, min(s + BENCH_CHUNK, patients)) for s in range(0, patients, BENCH_CHUNK)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = parquet_dir or tmp
        t0 = time.perf_counter()
        list(
            mapper(
                _bench_task,
                [seed] * len(chunks),
                chunks,
                [days] * len(chunks),
                [opts] * len(chunks),
                [folder] * len(chunks),
            )
        )
        ketasim_s = time.perf_counter() - t0
    # the baselines, patient by patient, on the first m patients of the same cohort
    head = np.arange(m)
    chain, regimen = _bench_chain(head, seed)
    t = np.arange(0.0, days * 24.0 + 1e-9, 1.0)
    ours = _bench_task(seed, head, days, opts, None)
    assert ours is not None
    t0 = time.perf_counter()
    for i in head:
        _bench_task(seed, np.array([i]), days, replace(opts, chunk_size=1), None)
    scipy_s = (time.perf_counter() - t0) * patients / m
    export = sbml_export(chain, regimen)
    t0 = time.perf_counter()
    rr = load_roadrunner(export.to_xml(0), rtol=rtol, atol=atol)
    load_s = time.perf_counter() - t0
    ids = [export.state_ids[name] for name in chain.system.state_names]
    theirs = []
    t0 = time.perf_counter()
    for i in head:
        theirs.append(simulate_roadrunner(rr, t, ids, export.patient_parameters(int(i))))
    roadrunner_s = (time.perf_counter() - t0) * patients / m
    rr_states = np.stack(theirs)
    big = np.abs(ours) > 1e-6
    rel = np.abs(rr_states - ours)[big] / np.abs(ours)[big]
    return ModelBenchResult(
        patients,
        days,
        ketasim_s,
        roadrunner_s,
        scipy_s,
        load_s,
        m,
        float(rel.max()) if rel.size else 0.0,
        _peak_rss_mb(),
        rtol,
        atol,
        workers,
    )
