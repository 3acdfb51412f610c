"""Fuzzing the boundaries: evidence files (YAML and CSV), trial specs and ``simulate``.

A valid document is mutated at a random place (a value replaced by junk of any type, a key
dropped, a key added); whatever comes out, reading it either succeeds or raises the
documented one-line error naming the field, never anything else, and a failed ``evidence
add`` leaves the store as it was. ``simulate`` gets 1,000 argument sets, junk and plausible:
each simulates cleanly or raises the one-line input error. 1,000 generated evidence files,
1,000 trial specs and 1,000 simulate calls run in CI (fixed settings, derandomised).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ketasim.api import simulate
from ketasim.data import SPECIES, drug_names, load_drug
from ketasim.errors import KetasimInputError
from ketasim.evidence.schema import EvidenceFileError, read_file, to_mapping, write_csv
from ketasim.evidence.store import EvidenceStore, shipped_files
from ketasim.pk.routes import ROUTES
from ketasim.trials.spec import TrialSpec

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
STORE_FUZZ = settings(FUZZ, max_examples=60)

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "0.5 mg/kg", "24 h", "-1 d", "1e400", "NR", "pooled", "saline", "MADRS"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)

BASE_STUDIES = [to_mapping(s) for f in shipped_files() for s in read_file(f)][:6]
BASE_SPEC = yaml.safe_load(
    (Path(__file__).parents[2] / "src/ketasim/data/trials/murrough-2013a.yaml").read_text()
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(JUNK)
        elif action == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "drop" and isinstance(parent, list):
            parent.pop(path[-1])
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(JUNK)
    return doc


def _one_line(text: str) -> None:
    assert "\n" not in text.strip()
    assert "Traceback" not in text


@FUZZ
@given(studies=mutated(BASE_STUDIES), as_csv=st.booleans())
def test_evidence_files_parse_or_fail_cleanly(
    tmp_path_factory: pytest.TempPathFactory, studies: Any, as_csv: bool
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "mine.yaml"
    path.write_text(yaml.safe_dump({"studies": studies}, allow_unicode=True))
    try:
        parsed = read_file(path)
    except EvidenceFileError as exc:
        failure: str | None = str(exc)
    else:
        failure = None
    if failure is not None:
        _one_line(failure)
        assert failure.startswith("mine.yaml")
        return
    for s in parsed:  # what parses is sane
        for o in s.outcomes:
            if o.k is not None and o.n is not None:
                assert 0 <= o.k <= o.n
            for value in (o.mean, o.sd, o.estimate, o.lo, o.hi):
                assert value is None or isinstance(value, float)
    if as_csv:  # and survives the CSV form
        csv = folder / "mine.csv"
        write_csv(parsed, csv)
        assert read_file(csv) == parsed


@STORE_FUZZ
@given(studies=mutated(BASE_STUDIES))
def test_a_failed_add_leaves_the_store_unchanged(
    tmp_path_factory: pytest.TempPathFactory, studies: Any
) -> None:
    folder = tmp_path_factory.mktemp("store")
    store = EvidenceStore(folder / "evidence.duckdb")
    before = store.studies()
    for s in studies if isinstance(studies, list) else []:
        if isinstance(s, dict) and isinstance(s.get("id"), str):
            s["id"] = "user-" + s["id"]  # shipped ids are read-only; test the user's path
    path = folder / "mine.yaml"
    path.write_text(yaml.safe_dump({"studies": studies}, allow_unicode=True))
    try:
        added = store.add(path)
    except KetasimInputError as exc:
        failure: str | None = str(exc)
    else:
        failure = None
    if failure is not None:
        _one_line(failure)
        assert store.studies() == before
        return
    assert len(store.studies()) == len(before) + len(added)


@FUZZ
@given(raw=mutated(BASE_SPEC))
def test_trial_specs_validate_or_fail_cleanly(raw: Any) -> None:
    try:
        spec = TrialSpec.from_mapping(raw)
    except KetasimInputError as exc:
        _one_line(str(exc))
        return
    assert spec.population.size >= 2
    for arm in spec.arms:
        assert arm.doses >= 1
    for e in spec.endpoints:
        assert e.time is None or isinstance(e.time, str)
    assert all(math.isfinite(v) for v in (spec.design.allocation or {}).values())


# --- simulate: what a user types at ketasim simulate, checked before and after the solve ---

SIMULATE_FUZZ = settings(FUZZ, max_examples=1000)


def _quantity(good: list[str]) -> st.SearchStrategy[Any]:
    """Quantities as users write them: the good ones, near misses and junk."""
    near = ["0 mg", "-1 mg", "1e9 mg", "0.5", "0.5 kg", "mg", "0.5 mg/kg/h", "nan mg", "inf h"]
    # one_of picks a branch uniformly: good values in about 70 % of draws
    good_values = st.sampled_from(good)
    return st.one_of(
        good_values, good_values, good_values, good_values, good_values,
        st.sampled_from(near), st.text(max_size=12),
    )  # fmt: skip


SIMULATE_ARGS = st.fixed_dictionaries(
    {
        "drug": st.one_of(
            st.sampled_from(sorted(drug_names())),
            st.sampled_from(sorted(drug_names())),
            st.sampled_from(["ketamine", "", "KETAMINE-RACEMIC"]),
        ),
        "dose": _quantity(["0.5 mg/kg", "50 mg", "2 mg/kg", "10 mg/kg", "0.1 mg/kg", "20 mg"]),
        "route": st.sampled_from([*ROUTES, "iv", "nasal", ""]),
        "over": _quantity(["40 min", "2 min", "1 h", "0 min", "-5 min"]),
        "until": st.sampled_from(["24 h", "1 d", "2 h", "0 h", "-1 h", "30 min", "lots", "1e5 d"]),
        "weight": st.one_of(st.none(), _quantity(["70 kg", "0.025 kg", "0.25 kg", "120 kg"])),
        "species": st.sampled_from([*SPECIES, "dog"]),
    }
)


@st.composite
def plausible_simulate_args(draw: st.DrawFn) -> dict[str, Any]:
    """A drug, species and route the library has, with doses around the usual ones: most of
    these simulate, so the solver's side of the check is exercised too."""
    drug = draw(st.sampled_from([n for n in sorted(drug_names()) if load_drug(n).species]))
    spec = load_drug(drug)
    species = draw(st.sampled_from(sorted(spec.species)))
    sp = spec.species[species]
    route = draw(st.sampled_from(sorted({*sp.routes, *sp.intravenous_routes})))
    per_kg = draw(st.sampled_from([0.05, 0.1, 0.5, 1.0, 3.0, 10.0, 30.0]))
    return {
        "drug": drug,
        "dose": f"{per_kg:g} mg/kg",
        "route": route,
        "over": draw(st.sampled_from(["40 min", "2 min", "1 h", None])),
        "until": draw(st.sampled_from(["24 h", "2 h", "3 d"])),
        "weight": None,
        "species": species,
    }


@SIMULATE_FUZZ
@given(st.one_of(SIMULATE_ARGS, plausible_simulate_args()))
def test_simulate_succeeds_cleanly_or_says_what_is_wrong(args: dict[str, Any]) -> None:
    """Every combination either simulates (finite outputs, no concentration below zero beyond
    the solver's tolerance: nothing is clipped) or raises the library's one-line input error
    naming a field; never another exception."""
    try:
        res = simulate(**args, mechanism=False)
    except KetasimInputError as exc:
        error: KetasimInputError | None = exc
    else:
        error = None
    if error is not None:
        _one_line(str(error))
        assert error.field
        return
    event("simulated")
    conc = res.timecourse.filter(like="_ng_per_ml").to_numpy()
    if conc.size == 0:  # saline: an administration without drug
        assert res.summary.empty
        return
    assert np.isfinite(conc).all()
    scale = max(float(np.abs(conc).max()), 1e-12)
    assert conc.min() >= -1e-6 * scale
