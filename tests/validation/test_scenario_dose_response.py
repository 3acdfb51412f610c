"""Scenario 1, dose-response: the report is written and its numbers follow the mechanism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketasim.scenarios import Settings
from ketasim.scenarios import dose_response as dr
from ketasim.scenarios.base import Report, run_with
from ketasim.trials.spec import TrialSpec

REPLICATES = 6  # two chunks (5 and 1): the chunking is exercised
SETTINGS = Settings(replicates=REPLICATES, seed=3)


@pytest.fixture(scope="module")
def simulated() -> tuple[TrialSpec, pd.DataFrame, pd.DataFrame]:
    return dr.simulate(SETTINGS)


@pytest.fixture(scope="module")
def report(simulated: tuple[TrialSpec, pd.DataFrame, pd.DataFrame]) -> Report:
    return run_with(lambda s: dr.build_report(s, *simulated), SETTINGS)


def test_report_is_written_with_its_headline(report: Report, tmp_path: Path) -> None:
    html_path, json_path = report.write(tmp_path / "dose-response.html")
    text = html_path.read_text(encoding="utf-8")
    assert "Dose-response" in text
    assert "data:image/png;base64," in text
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["scenario"] == "dose-response"
    assert doc["settings"]["replicates"] == REPLICATES
    assert set(doc["headline"]["by_dose"]) == {"0.1 mg/kg", "0.2 mg/kg", "0.5 mg/kg", "1 mg/kg"}
    arms = {r["arm"] for r in doc["tables"][0]["rows"]}
    assert arms == {"ketamine-0.1", "ketamine-0.2", "ketamine-0.5", "ketamine-1", "midazolam"}


def test_dissociation_and_blood_pressure_rise_with_dose(report: Report) -> None:
    by_dose = report.headline["by_dose"]
    cadss = [v["peak_cadss_points"] for v in by_dose.values()]
    sbp = [v["peak_sbp_mmhg"] for v in by_dose.values()]
    assert np.all(np.diff(cadss) > 0), cadss
    assert np.all(np.diff(sbp) > 0), sbp
    assert report.headline["midazolam"]["peak_cadss_points"] < cadss[0] + 1.0


def test_antidepressant_effect_grows_from_lowest_to_highest_dose(report: Report) -> None:
    low, high = report.headline["by_dose"]["0.1 mg/kg"], report.headline["by_dose"]["1 mg/kg"]
    assert high["madrs_change_day1_points"] < low["madrs_change_day1_points"] - 3.0
    assert high["madrs_response_day1"] > low["madrs_response_day1"]
    assert high["power_hamd6_change_day1"] >= low["power_hamd6_change_day1"]
    for v in report.headline["by_dose"].values():
        assert 0.0 <= v["madrs_response_day1"] <= 1.0
        assert 0.0 <= v["power_madrs_change_day1"] <= 1.0
        assert (
            v["power_madrs_change_day1"] + v["share_midazolam_significantly_better_madrs_day1"]
            <= 1.0
        )


def test_a_chunk_run_alone_gives_the_same_replicates(
    simulated: tuple[TrialSpec, pd.DataFrame, pd.DataFrame],
) -> None:
    """Replicate 5 (the second chunk) depends only on its own seed, not on who runs it."""
    spec, arms, _ = simulated
    alone, _ = dr._chunk(spec, 1, 3 * 1000 + 1, 5)
    full = arms[arms["replicate"] == 5].reset_index(drop=True)
    assert np.array_equal(full["value"].to_numpy(), alone["value"].to_numpy(), equal_nan=True)
