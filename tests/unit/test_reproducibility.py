"""The same seed gives the same numbers in another process, and a Dask run survives the loss
of a worker (its tasks are pure: Dask reruns them elsewhere)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time

import numpy as np

from ketasim.bench import BENCH_CHUNK, _bench_task
from ketasim.engine import SolveOptions

SIMULATE = (
    "import hashlib, ketasim; "
    "r = ketasim.simulate('ketamine-racemic', dose='0.5 mg/kg', over='40 min', n_patients=3, "
    "variability=True, seed=7, until='2 d'); "
    "print(hashlib.sha256(r.timecourse.to_numpy().tobytes()).hexdigest())"
)
TRIAL = (
    "import json, ketasim.trials as t; "
    "spec = t.TrialSpec.from_yaml('examples/dose-response.yaml'); "
    "print(json.dumps(t.run_trial(spec, replicates=2, seed=5).to_json(), sort_keys=True))"
)


def _in_subprocess(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    return out.stdout.strip().splitlines()[-1]


def test_simulate_is_identical_in_another_process() -> None:
    import ketasim

    r = ketasim.simulate(
        "ketamine-racemic",
        dose="0.5 mg/kg",
        over="40 min",
        n_patients=3,
        variability=True,
        seed=7,
        until="2 d",
    )
    here = hashlib.sha256(r.timecourse.to_numpy().tobytes()).hexdigest()
    assert _in_subprocess(SIMULATE) == here


def test_a_trial_is_identical_in_another_process() -> None:
    import ketasim.trials as t

    spec = t.TrialSpec.from_yaml("examples/dose-response.yaml")
    here = json.dumps(t.run_trial(spec, replicates=2, seed=5).to_json(), sort_keys=True)
    assert _in_subprocess(TRIAL) == here


def test_a_run_completes_when_a_worker_dies() -> None:
    from dask.distributed import Client, LocalCluster

    opts = SolveOptions(chunk_size=BENCH_CHUNK)
    chunks = [np.arange(s, s + 2) for s in range(0, 12, 2)]
    expected = [_bench_task(0, rows, 2.0, opts, None) for rows in chunks]
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        futures = client.map(
            _bench_task, [0] * 6, chunks, [2.0] * 6, [opts] * 6, [None] * 6, pure=False
        )
        time.sleep(1.0)
        victim = next(iter(cluster.workers.values()))
        victim.process.process.kill()  # the worker's process dies mid-run, no goodbye
        got = client.gather(futures, errors="raise")
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_array_equal(a, b)
