"""Fuzzing the file boundaries: evidence files (YAML and CSV) and trial specs.

A valid document is mutated at a random place (a value replaced by junk of any type, a key
dropped, a key added); whatever comes out, reading it either succeeds or raises the
documented one-line error naming the field, never anything else, and a failed ``evidence
add`` leaves the store as it was. 1,000 generated evidence files and 1,000 trial specs run in
CI (fixed settings, derandomised); ``--hypothesis-profile`` is not needed.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketasim.errors import KetasimInputError
from ketasim.evidence.schema import EvidenceFileError, read_file, to_mapping, write_csv
from ketasim.evidence.store import EvidenceStore, shipped_files
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
