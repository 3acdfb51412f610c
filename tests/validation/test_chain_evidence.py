"""The chain of Figure 1 against the review's clinical and preclinical evidence.

Each test names the evidence it encodes. Standard regimen: 0.5 mg/kg racemic ketamine over
40 min in a typical 70 kg adult with treatment-resistant depression.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import ketasim
from ketasim import Perturbations

MINUTES_THEN_HOURS = np.concatenate(
    [np.arange(0.0, 6.0, 1.0 / 60.0), np.arange(6.0, 28 * 24.0 + 1e-9, 1.0)]
)


def _at(tc: pd.DataFrame, column: str, t_h: float) -> float:
    return float(tc[column].iloc[(tc.t_h - t_h).abs().idxmin()])


@pytest.fixture(scope="module")
def standard() -> pd.DataFrame:
    res = ketasim.simulate(
        "ketamine-racemic",
        dose="0.5 mg/kg",
        over="40 min",
        until="28 d",
        times_h=MINUTES_THEN_HOURS,
    )
    return res.timecourse


def _single(
    dose: str, drug: str = "ketamine-racemic", perturbations: Perturbations | None = None
) -> pd.DataFrame:
    """A 40-min infusion followed for 3 days."""
    grid = MINUTES_THEN_HOURS[MINUTES_THEN_HOURS <= 72.0]
    return ketasim.simulate(
        drug, dose=dose, over="40 min", until="3 d", times_h=grid, perturbations=perturbations
    ).timecourse


def test_dissociation_peaks_at_end_of_infusion_and_resolves_by_2_h_luckenbaugh_2014(
    standard: pd.DataFrame,
) -> None:
    tc = standard
    i_peak = tc.cadss_points.idxmax()
    assert 30 <= tc.t_h[i_peak] * 60 <= 50
    peak = tc.cadss_points[i_peak]
    assert 8 <= peak <= 15  # group-mean rise at 0.5 mg/kg
    # resolved by 2 h although plasma ketamine is still a fifth of its peak: the link is a
    # steep sigmoid (Hill 3) of the effect-site concentration through receptor block
    assert _at(tc, "cadss_points", 2.0) < 0.25 * peak
    plasma = tc.ketamine_plasma_ng_per_ml
    assert _at(tc, "ketamine_plasma_ng_per_ml", 2.0) >= 0.2 * plasma.max()


def test_systolic_pressure_rises_8_to_13_mmhg_at_30_45_min_and_recovers_vankawala_2021(
    standard: pd.DataFrame,
) -> None:
    tc = standard
    i_peak = tc.sbp_mmhg.idxmax()
    assert 30 <= tc.t_h[i_peak] * 60 <= 45
    rise = tc.sbp_mmhg[i_peak] - tc.sbp_mmhg[0]
    assert 8 <= rise <= 13.5
    # back within 1.5 h of the end of the infusion (Szarmach 2020)
    assert _at(tc, "sbp_mmhg", 40 / 60 + 1.5) - tc.sbp_mmhg[0] < 0.2 * rise


def test_depression_improves_from_2_h_peaks_day_1_to_3_and_relapses_over_weeks_zarate_2006(
    standard: pd.DataFrame,
) -> None:
    tc = standard
    base = tc.hdrs_17_points[0]
    assert _at(tc, "hdrs_17_points", 2.0) < base - 0.5
    t_min = tc.t_h[tc.hdrs_17_points.idxmin()]
    assert 24 <= t_min <= 72
    lowest = tc.hdrs_17_points.min()
    week = _at(tc, "hdrs_17_points", 7 * 24)
    # partly recovered at 1 week (Table 1: response at 1 week below response at 24 h)
    assert lowest < week < base
    assert _at(tc, "hdrs_17_points", 24) < week
    # back toward baseline over the following weeks
    assert base - _at(tc, "hdrs_17_points", 28 * 24) < 0.3 * (base - lowest)


def test_suicidal_ideation_falls_within_40_min_and_stays_lower_for_4_h_diazgranados_2010a(
    standard: pd.DataFrame,
) -> None:
    tc = standard
    base = tc.ssi_points[0]
    assert _at(tc, "ssi_points", 40 / 60) < base - 0.5
    assert _at(tc, "ssi_points", 4.0) < _at(tc, "ssi_points", 40 / 60)


def test_antisuicidal_effect_is_mostly_direct_ballard_2014(standard: pd.DataFrame) -> None:
    # suicidal ideation falls ahead of core mood (at 40 min, when SSI has already fallen in
    # DiazGranados 2010a, by far more than mood) and further at 4 h: its drive is mostly direct
    tc = standard

    def fall(column: str, t_h: float) -> float:
        return float(1 - _at(tc, column, t_h) / tc[column].iloc[0])

    si, mood = "severity_suicidal_ideation_fraction", "severity_core_mood_fraction"
    assert fall(si, 40 / 60) > 2 * fall(mood, 40 / 60)
    assert fall(si, 4.0) > fall(mood, 4.0)


def test_dissociation_rises_with_dose_and_low_dose_helps_less_at_24_h_fava_2018() -> None:
    runs = {d: _single(f"{d} mg/kg") for d in (0.1, 0.2, 0.5, 1.0)}
    cadss = [runs[d].cadss_points.max() for d in (0.1, 0.2, 0.5, 1.0)]
    assert all(a < b for a, b in itertools.pairwise(cadss))
    fall = {d: runs[d].hdrs_17_points[0] - _at(runs[d], "hdrs_17_points", 24) for d in runs}
    assert fall[0.1] < fall[0.5]


def test_felt_comparator_gives_a_larger_placebo_response_than_saline_murrough_2013() -> None:
    saline = _single("0 mg", drug="saline")
    midazolam = _single("0.045 mg/kg", drug="midazolam")
    fall_saline = saline.madrs_points[0] - _at(saline, "madrs_points", 24)
    fall_midazolam = midazolam.madrs_points[0] - _at(midazolam, "madrs_points", 24)
    assert 0 < fall_saline < fall_midazolam
    assert midazolam.sedation_fraction.max() > 0.2
    assert saline.cadss_points.max() == 0


def test_ketamine_beats_midazolam_at_24_h_murrough_2013() -> None:
    ket = _single("0.5 mg/kg")
    mid = _single("0.045 mg/kg", drug="midazolam")
    assert _at(ket, "madrs_points", 24) < _at(mid, "madrs_points", 24) - 2


def test_interneuron_block_exceeds_pyramidal_and_rest_block_is_small_reference_1_4(
    standard: pd.DataFrame,
) -> None:
    tc = standard
    assert tc.block_interneuron_fraction.max() > tc.block_pyramidal_fraction.max()
    # at clinical brain concentrations and 1 mM Mg2+ open-channel block at rest is a few per
    # cent at most; ketamine's closed-state route (Orser 1997) adds a few per cent more
    assert tc.block_rest_open_fraction.max() < 0.03
    assert tc.block_rest_open_fraction.max() < tc.block_rest_fraction.max() < 0.1
    assert tc.glutamate_rel.max() > 1.05  # disinhibition: a glutamate surge


def test_surge_precedes_mtor_which_precedes_synaptic_proteins_and_spines_li_2010(
    standard: pd.DataFrame,
) -> None:
    tc = standard
    t_peak = {
        c: tc.t_h[tc[c].idxmax()]
        for c in (
            "glutamate_rel",
            "mtor_active_rel",
            "synaptic_proteins_rel",
            "spine_restoration_fraction",
        )
    }
    assert t_peak["glutamate_rel"] < t_peak["mtor_active_rel"] < t_peak["synaptic_proteins_rel"]
    assert t_peak["synaptic_proteins_rel"] < t_peak["spine_restoration_fraction"]
    assert t_peak["mtor_active_rel"] <= 3.0  # p-mTOR within the first hours
    assert _at(tc, "mtor_active_rel", 24.0) < 1.05  # and back by a day


def test_heavy_block_suppresses_the_glutamate_surge_inverted_u_moghaddam_1997() -> None:
    def mean_glutamate(dose: str) -> float:
        res = ketasim.simulate(
            "ketamine-racemic",
            dose=dose,
            route="intraperitoneal",
            species="rat",
            until="2 h",
            allow_anesthetic=True,
            times_h=np.arange(0.0, 2.0, 1 / 60),
        )
        return float(res.timecourse.glutamate_rel.mean())

    assert mean_glutamate("10 mg/kg") > 1.2
    assert mean_glutamate("200 mg/kg") < 1.0


def test_rapamycin_abolishes_spine_gain_li_2010() -> None:
    plain = _single("0.5 mg/kg")
    blocked = _single("0.5 mg/kg", perturbations=Perturbations(rapamycin=1.0))
    assert plain.spine_restoration_fraction.max() > 0.05
    assert blocked.spine_restoration_fraction.max() <= 1e-6  # no gain at all
