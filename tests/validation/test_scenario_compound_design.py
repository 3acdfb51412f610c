"""Scenario 4, compound design: the report is written, and its map obeys the mechanism.

The scenario runs once (quick grid, 10 patients, 4 posterior draws) and the tests read its
tables; a few cheap checks of the virtual-compound verbs run without it.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketasim.data import drug_names, load_drug
from ketasim.model import GLUN2B_SITE_KEY, build_chain
from ketasim.receptor import Blocker
from ketasim.report.document import Report
from ketasim.scenarios import run_scenario
from ketasim.scenarios.base import Settings
from ketasim.scenarios.compound_design import (
    BASE_DRUG,
    DISSOCIATION_SHARE,
    EFFICACY_SHARE,
    NAMED,
    base_kd_um,
    base_trapped,
    on_ketamine_pk,
    virtual_compound,
)

SETTINGS = Settings(replicates=4, patients=10, seed=3, quick=True)


@pytest.fixture(scope="module")
def report() -> Report:
    return run_scenario("compound-design", SETTINGS)


def _grid(report: Report) -> pd.DataFrame:
    return report.tables[0].frame


def _named(report: Report) -> pd.DataFrame:
    return report.tables[1].frame.set_index("compound")


# ------------------------------------------------------------------ verbs, without the scenario


def test_replace_changes_pharmacology_only_and_keeps_units() -> None:
    ket = load_drug(BASE_DRUG)
    new = ket.replace(ki_um=0.3, mu_opioid_ki_um=None)
    assert new.name == f"{BASE_DRUG}-virtual"
    assert new.pharmacology["ki_um"].value == 0.3
    assert new.pharmacology["ki_um"].unit == ket.pharmacology["ki_um"].unit
    assert new.pharmacology["ki_um"].kind == "assumed"
    assert "mu_opioid_ki_um" not in new.pharmacology
    assert new.species == ket.species
    assert new.metabolite == ket.metabolite
    assert ket.pharmacology["ki_um"].value == 0.92  # the library drug is untouched
    assert ket.replace() == ket


def test_virtual_ketamine_has_ketamines_blocker_and_no_glun2b_site() -> None:
    v = virtual_compound(base_kd_um(), base_trapped(), 0.0)
    assert Blocker.from_drug(v) == Blocker.from_drug(load_drug(BASE_DRUG))
    assert GLUN2B_SITE_KEY not in v.pharmacology


def test_full_glun2b_share_leaves_no_pore_block_and_adds_allosteric_components() -> None:
    v = virtual_compound(0.05, 0.86, 1.0)
    chain = build_chain(v, "human", ("iv-infusion",), np.array([70.0]))
    pore = [b for b in chain.system.blockers if b.pore]
    allosteric = [b for b in chain.system.blockers if not b.pore]
    assert all(b.kon_per_m_s == 0.0 and b.closed_ic50_um is None for b in pore)
    # parent and metabolite each get a GluN2B-site component, the metabolite's weaker
    assert next(b.glun2b_ic50_um for b in allosteric) == pytest.approx(0.05)
    assert len(allosteric) == 2
    assert (allosteric[1].glun2b_ic50_um or 0.0) > 0.05


def test_named_drugs_build_the_same_chain_as_before() -> None:
    # a library name and its spec object give the same system: nothing named changes
    by_name = build_chain("memantine", "human", ("oral",), np.array([70.0, 80.0]))
    by_spec = build_chain(load_drug("memantine"), "human", ("oral",), np.array([70.0, 80.0]))
    assert by_name.system.blockers == by_spec.system.blockers
    assert np.array_equal(by_name.system.K, by_spec.system.K)


def test_a_glun2b_nam_on_ketamine_pk_is_a_virtual_compound_at_its_coordinates() -> None:
    d = on_ketamine_pk("traxoprodil")
    assert d.species == load_drug(BASE_DRUG).species
    assert d.pharmacology[GLUN2B_SITE_KEY].value == pytest.approx(0.01)
    assert pickle.loads(pickle.dumps(d)) == d  # tasks travel to Dask workers


# ------------------------------------------------------------------ the scenario's report


def test_report_is_written_as_html_and_json(report: Report, tmp_path: Path) -> None:
    html_path, json_path = report.write(tmp_path / "compound-design.html")
    page = html_path.read_text(encoding="utf-8")
    assert "Compound design" in page
    assert page.count("<img") == 2
    data = json.loads(json_path.read_text(encoding="utf-8"))
    for key in (
        "ketamine_response_24h",
        "ketamine_peak_cadss_points",
        "saline_response_24h",
        "window_response_min_24h",
        "window_peak_cadss_max_points",
        "window_cells",
        "named_in_window_own_pk",
        "missing_compounds",
    ):
        assert key in data["headline"], key
    assert data["settings"]["patients"] == SETTINGS.patients


def test_named_compounds_are_all_placed_or_listed_as_missing(report: Report) -> None:
    named = _named(report)
    assert set(named.index) | set(report.headline["missing_compounds"]) == set(NAMED)
    assert set(report.headline["missing_compounds"]) == set(NAMED) - set(drug_names())


def test_virtual_ketamine_reproduces_named_ketamine(report: Report) -> None:
    grid, ket = _grid(report), _named(report).loc[BASE_DRUG]
    row = grid[
        np.isclose(grid["NMDA Kd (uM)"], base_kd_um())
        & np.isclose(grid["trapped fraction (1)"], base_trapped())
        & (grid["GluN2B share (1)"] == 0.0)
    ]
    assert len(row) == 1
    assert row["response 24 h (share)"].iloc[0] == ket["response own PK (share)"]
    assert row["peak CADSS (points)"].iloc[0] == ket["peak CADSS own PK (points)"]
    assert ket["response own PK (share)"] == report.headline["ketamine_response_24h"]


def test_peak_cadss_rises_with_affinity_at_fixed_pk(report: Report) -> None:
    grid = _grid(report)
    pore = grid[grid["GluN2B share (1)"] == 0.0]
    for _, rows in pore.groupby("trapped fraction (1)"):
        by_affinity = rows.sort_values("NMDA Kd (uM)", ascending=False)  # weak to strong
        assert np.all(np.diff(by_affinity["peak CADSS (points)"]) > 0)
        assert np.all(np.diff(by_affinity["response 24 h (share)"]) >= 0)


def test_glun2b_share_lowers_dissociation_at_the_same_affinity(report: Report) -> None:
    grid = _grid(report)
    trap = grid[np.isclose(grid["trapped fraction (1)"], base_trapped())]
    for _, rows in trap.groupby("NMDA Kd (uM)"):
        cadss = rows.sort_values("GluN2B share (1)")["peak CADSS (points)"].to_numpy()
        assert cadss[-1] < cadss[0] or cadss[0] < 0.1


def test_window_follows_its_stated_thresholds(report: Report) -> None:
    h = report.headline
    ket, saline = h["ketamine_response_24h"], h["saline_response_24h"]
    assert h["window_response_min_24h"] == pytest.approx(saline + EFFICACY_SHARE * (ket - saline))
    assert h["window_peak_cadss_max_points"] == pytest.approx(
        DISSOCIATION_SHARE * h["ketamine_peak_cadss_points"]
    )
    grid = _grid(report)
    meets = (grid["response 24 h (share)"] >= h["window_response_min_24h"]) & (
        grid["peak CADSS (points)"] <= h["window_peak_cadss_max_points"]
    )
    assert list(meets) == list(grid["in window"])
    assert h["window_cells"] == int(meets.sum())


def test_response_intervals_hold_their_point_and_lie_in_0_1(report: Report) -> None:
    grid = _grid(report)
    lo, hi = grid["response 2.5% (share)"], grid["response 97.5% (share)"]
    assert ((lo >= 0) & (hi <= 1) & (lo <= hi)).all()
    assert report.headline["saline_response_24h"] < report.headline["ketamine_response_24h"]


def test_own_pk_changes_what_a_compound_does(report: Report) -> None:
    named = _named(report)
    esk = named.loc["esketamine"]
    assert esk["response own PK (share)"] != esk["response on ketamine PK (share)"]
    assert named["trapped fraction (1)"].isna()["traxoprodil"]  # a NAM does not trap
