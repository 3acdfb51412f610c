"""The same job gives the same numbers in-process and on a 2-worker Dask LocalCluster."""

from __future__ import annotations

import numpy as np

from ketasim.calibration.cohort import Cohort
from ketasim.calibration.fit import study_specs
from ketasim.engine.distribute import mapper


def test_local_cluster_with_two_workers_equals_in_process() -> None:
    spec = study_specs()["zarate-2006a"].model_copy(update={"followup": "1 d"})
    local = Cohort.build(spec, 1, seed=3)
    with mapper(None, workers=2) as dask_map:
        remote = Cohort.build(spec, 1, seed=3, mapper=dask_map)
    assert len(local.groups) == len(remote.groups)
    for a, b in zip(local.groups, remote.groups, strict=True):
        assert a.patients.equals(b.patients)
        for name in ("fbar", "restoration", "surge", "placebo", "felt"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
