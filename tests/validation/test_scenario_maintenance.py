"""Scenario 2 (maintenance): the report is written, and the schedules behave as the mechanism
says they must on the same virtual patients (issue 10)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketasim.model import Mechanism, Perturbations
from ketasim.report.document import Report
from ketasim.scenarios import Settings, maintenance
from ketasim.scenarios.base import run_with

SETTINGS = Settings(replicates=20, patients=10, seed=3, quick=True)


@cache
def _simulated() -> tuple[pd.DataFrame, dict[tuple[int | None, bool], maintenance.Result]]:
    patients, results = maintenance.simulate_all(SETTINGS)
    return patients, {(r.schedule.interval_d, r.tolerance): r for r in results}


@cache
def _report() -> Report:
    patients, by = _simulated()
    return run_with(
        lambda s: maintenance.build_report(s, patients, list(by.values()), 0.5), SETTINGS
    )


def test_report_is_written_with_headline_caveats_and_figures(tmp_path: Path) -> None:
    html_path, json_path = _report().write(tmp_path / "maintenance.html")
    page = html_path.read_text(encoding="utf-8")
    for text in ("<img", "cystitis", "Caveats"):
        assert text in page
    data = json.loads(json_path.read_text(encoding="utf-8"))
    head = data["headline"]
    for key in (
        "target_share",
        "cadss_threshold_points",
        "chosen_schedule",
        "days_in_response_fortnightly_tolerance_on",
        "days_in_response_monthly_tolerance_off",
        "cumulative_dose_mg_fortnightly_tolerance_on",
        "hours_dissociated_h_monthly_tolerance_on",
        "infusions_fortnightly",
    ):
        assert key in head, key
    lo_med_hi = head["days_in_response_fortnightly_tolerance_on"]
    assert lo_med_hi[1] <= lo_med_hi[0] <= lo_med_hi[2]
    assert data["settings"]["quick"] is True
    caveats = " ".join(data["caveats"])
    for risk in ("cognitive", "cystitis", "abuse", "outside research"):
        assert risk in caveats
    columns = data["tables"][0]["rows"][0]
    for column in ("cumulative dose (mg)", "hours dissociated (h)", "infusions (n)"):
        assert column in columns


def test_more_frequent_boosters_give_more_infusions_and_no_fewer_days_in_response() -> None:
    _, by = _simulated()
    for tol in (True, False):
        often, rarely = by[(14, tol)], by[(28, tol)]
        # fortnightly boosters include every monthly booster day, and more
        assert set(rarely.schedule.dose_days()) < set(often.schedule.dose_days())
        assert often.infusions > rarely.infusions
        assert np.all(often.days_in_response >= rarely.days_in_response)
        assert often.days_in_response.mean() > rarely.days_in_response.mean()
        assert np.all(often.hours_dissociated >= rarely.hours_dissociated)
        assert often.hours_dissociated.mean() > rarely.hours_dissociated.mean()


def test_schedules_agree_until_they_first_differ_on_the_same_patients() -> None:
    _, by = _simulated()
    often, rarely = by[(14, True)], by[(28, True)]
    first = min(set(often.schedule.dose_days()) - set(rarely.schedule.dose_days()))
    # daily ratings (days 1, 2, ...) up to and including the morning of the first extra dose
    assert np.array_equal(often.in_response[:, :first], rarely.in_response[:, :first])
    assert not np.array_equal(often.in_response, rarely.in_response)


def test_tolerance_never_adds_days_in_response_and_damps_dissociation() -> None:
    _, by = _simulated()
    for interval in (14, 28):
        on, off = by[(interval, True)], by[(interval, False)]
        assert on.infusions == off.infusions
        assert np.all(on.days_in_response <= off.days_in_response)
        assert np.all(on.hours_dissociated <= off.hours_dissociated)
        # the last infusion dissociates less with tolerance than without
        assert np.all(on.cadss_peak_last < off.cadss_peak_last)
        assert on.tolerance_max.min() > 0.0


def test_cumulative_dose_is_infusions_times_dose_times_weight() -> None:
    patients, by = _simulated()
    weight = patients["weight_kg"].to_numpy(dtype=float)
    for r in by.values():
        expected = r.infusions * maintenance.DOSE_MG_PER_KG * weight
        np.testing.assert_allclose(r.cumulative_dose_mg, expected, rtol=1e-12)


def test_first_infusion_dissociation_is_in_the_published_range() -> None:
    # group-mean CADSS rise of about 8 to 15 points at 40 min for 0.5 mg/kg (reference table)
    _, by = _simulated()
    peak = by[(14, True)].cadss_peak_first.mean()
    assert 8.0 <= peak <= 15.0


def test_tolerance_switch_leaves_the_default_model_as_it_was() -> None:
    default = Mechanism.load("human")
    assert Perturbations().tolerance_off is False
    assert Mechanism.load("human", Perturbations()).synapse == default.synapse
    assert default.synapse.tolerance_gain_efficacy > 0
    assert default.side.tolerance_gain > 0
    off = Mechanism.load("human", Perturbations(tolerance_off=True, chronic=False))
    assert off.synapse.tolerance_gain_efficacy == 0.0
    assert off.side.tolerance_gain == 0.0
    assert off.synapse.tolerance_tau_h == default.synapse.tolerance_tau_h


@pytest.mark.parametrize("target", [0.0, 1.01])
def test_the_search_chooses_the_fewest_infusions_or_none(target: float) -> None:
    patients, by = _simulated()
    report = maintenance.build_report(SETTINGS, patients, list(by.values()), target)
    if target == 0.0:  # every schedule meets it: the cheapest is the longest interval
        assert report.headline["chosen_booster_interval_d"] == max(maintenance.GRID_QUICK_D)
    else:  # no share can exceed 100 %
        assert report.headline["chosen_schedule"] == "none in the grid meets the target"


def test_the_registry_runs_this_module() -> None:
    import importlib

    from ketasim.scenarios import SCENARIOS

    module = importlib.import_module(SCENARIOS["maintenance"].module)
    assert module.run is maintenance.run
