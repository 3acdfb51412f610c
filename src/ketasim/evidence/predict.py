"""ketasim's predictions for stored outcomes: virtual trials of the published sizes.

A stored outcome is predicted when its study has a shipped trial spec (``data/trials``, same
id) with an endpoint of the same kind, time and dose (``after``) and an arm of the same name.
Its virtual cohort is simulated with the calibrated parameters; each replicate then draws a
posterior parameter set (shared by all studies of the replicate), a between-study random
effect per study, and the published number of patients (as :mod:`ketasim.calibration.reproduce`
does). The expected rates per posterior draw are cached in the evidence store, keyed by the
calibration, the mechanism, drug and population files, the spec and the simulation settings,
so a second analysis costs no simulation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ketasim import __version__
from ketasim.calibration.fit import study_specs
from ketasim.calibration.reproduce import rate_draws
from ketasim.data.library import calibration_path
from ketasim.evidence.store import EvidenceStore
from ketasim.trials.spec import TrialSpec
from ketasim.units import parse_time_h

#: Replicate trials per posterior draw (40 draws: 1000 replicate meta-analyses).
SAMPLES_PER_DRAW = 25


def spec_endpoint(spec: TrialSpec, endpoint: str, time_h: float, after: str) -> str | None:
    """The name of the spec's endpoint that measures ``endpoint`` at ``time_h``/``after``."""
    for e in spec.endpoints:
        if e.type != endpoint or e.time is None or e.after != after:
            continue
        if abs(parse_time_h(e.time, "time") - time_h) < 1e-6:
            return e.name
    return None


def _key(spec: TrialSpec, patients: int, seed: int) -> str:
    h = hashlib.sha256()
    h.update(__version__.encode())
    h.update(calibration_path().read_bytes())
    # the model the calibration was run on: a changed mechanism or drug file is a new model
    data = calibration_path().parents[1]
    files = [*data.glob("mechanism/*.yaml"), *data.glob("drugs/*.yaml"), data / "population.yaml"]
    for path in sorted(files):
        h.update(path.read_bytes())
    h.update(spec.model_dump_json().encode())
    h.update(f"{patients}:{seed}".encode())
    return "rates:" + h.hexdigest()[:24]


def predictable(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(study, arm, spec endpoint) for the rows of ``frame`` ketasim can predict."""
    specs = study_specs()
    out = []
    for _, row in frame.iterrows():
        spec = specs.get(str(row["study"]))
        if spec is None or row["time_h"] is None or pd.isna(row["time_h"]):
            continue
        name = spec_endpoint(spec, str(row["endpoint"]), float(row["time_h"]), str(row["after"]))
        arms = {a.name for a in spec.arms} | {"pooled"}
        if name is not None and row["arm"] in arms:
            out.append((str(row["study"]), str(row["arm"]), name))
    return out


def replicate_counts(
    frame: pd.DataFrame,
    *,
    patients: int = 60,
    seed: int = 0,
    mapper: Callable[..., Iterable[Any]] = map,
    store: EvidenceStore | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[tuple[str, str], np.ndarray]:
    """Simulated counts per (study, arm) for the rows of ``frame``, one per replicate trial
    (``DRAWS * SAMPLES_PER_DRAW``); rows ketasim cannot predict are left out."""
    say = progress or (lambda _m: None)
    wanted = predictable(frame)
    if not wanted:
        return {}
    specs = study_specs()
    cached: dict[tuple[str, str, str], np.ndarray] = {}
    taus: np.ndarray | None = None
    missing = []
    for study, arm, endpoint in wanted:
        value = None if store is None else store.cache_get(_key(specs[study], patients, seed))
        entry = None if value is None else json.loads(value).get(f"{arm}|{endpoint}")
        if entry is None:
            missing.append((study, arm, endpoint))
            continue
        cached[(study, arm, endpoint)] = np.array(entry)
        taus = np.array(json.loads(value or "{}")["tau"])
    if missing:
        studies = sorted({s for s, _, _ in missing})
        say(f"simulating {len(studies)} studies ({patients} virtual patients each)")
        rates, taus = rate_draws(missing, patients, seed, mapper)
        cached.update(rates)
        if store is not None:
            for study in studies:
                key = _key(specs[study], patients, seed)
                old = store.cache_get(key)
                record = json.loads(old) if old else {}
                record["tau"] = taus.tolist()
                for (s, arm, endpoint), p in rates.items():
                    if s == study:
                        record[f"{arm}|{endpoint}"] = p.tolist()
                store.cache_put(key, json.dumps(record))
    assert taus is not None
    rng = np.random.default_rng([seed, 9301])
    n_of = {(str(r["study"]), str(r["arm"])): int(r["n"]) for _, r in frame.iterrows()}
    out = {}
    effects: dict[str, np.ndarray] = {}  # one random effect per study, shared by its arms
    for study, arm, endpoint in wanted:
        p = np.clip(cached[(study, arm, endpoint)], 1e-6, 1 - 1e-6)
        if study not in effects:
            effects[study] = taus[:, None] * rng.standard_normal((p.size, SAMPLES_PER_DRAW))
        u = effects[study]
        pk = special.expit(special.logit(p)[:, None] + u)
        out[(study, arm)] = rng.binomial(n_of[(study, arm)], pk).ravel()
    return out
