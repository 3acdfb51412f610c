"""Every in-silico experiment of issue 4, one test each, named after its source.

Each runs the shipped experiment file with the model's one parameter set and asserts every
expectation. Experiments the model does not yet reproduce are marked ``xfail(strict=True)``
with the reason: they fail the suite the day they start passing, so the mark cannot outlive
the problem, and they are listed as open in docs/experiments.md.
"""

from __future__ import annotations

from functools import cache

import pytest

from ketasim.experiments import ExperimentResult, load_experiment, run_experiment


@cache
def _run(name: str) -> ExperimentResult:
    return run_experiment(load_experiment(name))


def _assert_reproduced(name: str) -> None:
    result = _run(name)
    failed = [
        f"{v.readout}: {v.observed:+.3f} ({v.expectation})" for v in result.verdicts if not v.passed
    ]
    assert not failed, "; ".join(failed)


def test_autry_2011_bdnf_knockout_abolishes_the_forced_swim_effect() -> None:
    _assert_reproduced("autry-2011-bdnf-ko")


def test_autry_2011_anisomycin_abolishes_the_effect() -> None:
    _assert_reproduced("autry-2011-anisomycin")


@pytest.mark.xfail(
    strict=True,
    reason="activity-dependent transcription makes the 30-min effect depend on mRNA that the "
    "surge itself raises; actinomycin D removes that rise, so only 55 % of the effect is kept",
)
def test_autry_2011_actinomycin_d_keeps_the_effect() -> None:
    _assert_reproduced("autry-2011-actinomycin")


@pytest.mark.xfail(
    strict=True,
    reason="dendritic BDNF falls at 30 min: the surge releases more than the freed "
    "translation makes (release and synthesis are not yet balanced)",
)
def test_autry_2011_eef2k_p_eef2_down_bdnf_up_and_transient() -> None:
    _assert_reproduced("autry-2011-eef2k")


def test_li_2010_mtor_and_mature_spines_lost_with_rapamycin() -> None:
    _assert_reproduced("li-2010-mtor")


@pytest.mark.xfail(
    strict=True,
    reason="p-mTOR at 1 h is suppressed at 80 mg/kg, but the brain concentration passes "
    "through the effective range hours later and the surge then restores the 24-h effect; "
    "no history-dependent loss of effect is modelled",
)
def test_li_2010_inverted_u_no_effect_at_80_mg_per_kg() -> None:
    _assert_reproduced("li-2010-inverted-u")


def test_beurel_2011_gsk3_knockin_abolishes_the_effect() -> None:
    _assert_reproduced("beurel-2011-gsk3")


@pytest.mark.xfail(
    strict=True,
    reason="1 mg/kg with lithium lowers immobility by only 7 % at 30 min in the mouse, 1.47 "
    "times ketamine alone",
)
def test_ghasemi_2010_lithium_potentiates_a_subeffective_dose() -> None:
    _assert_reproduced("ghasemi-2010-lithium")


@pytest.mark.xfail(
    strict=True,
    reason="lithium and SB216763 potentiate 1 mg/kg only 1.2-1.5-fold (spines 1.50 with "
    "lithium, behaviour 1.2), under the 1.5-fold criterion",
)
def test_liu_2013_lithium_and_sb216763_potentiate_1_mg_per_kg() -> None:
    _assert_reproduced("liu-2013-lithium-sb216763")


def test_li_2011_ro_25_6981_effect_and_its_loss_with_rapamycin() -> None:
    _assert_reproduced("li-2011-ro25-6981")


@pytest.mark.xfail(
    strict=True,
    reason="ketamine's dendritic BDNF falls at 30 min (see autry-2011-eef2k) and memantine's "
    "surge releases BDNF too",
)
def test_gideons_2014_memantine_spares_eef2_and_bdnf() -> None:
    _assert_reproduced("gideons-2014-memantine")


@pytest.mark.xfail(
    strict=True,
    reason="daily memantine still restores spines over weeks: its daily peaks rise above "
    "the adapted reference",
)
def test_zarate_2006b_memantine_does_not_separate_from_placebo() -> None:
    _assert_reproduced("zarate-2006b-memantine")


@pytest.mark.xfail(
    strict=True,
    reason="lanicemine's surge gives an effect as large and as long as ketamine's at 24 h",
)
def test_zarate_2013_lanicemine_smaller_and_shorter_without_dissociation() -> None:
    _assert_reproduced("zarate-2013-lanicemine")


def test_preskorn_2008_traxoprodil_beats_placebo() -> None:
    _assert_reproduced("preskorn-2008-traxoprodil")


@pytest.mark.xfail(
    strict=True,
    reason="the model's effect is already there on day 1; the trial saw it from day 5",
)
def test_ibrahim_2012b_rislenemdaz_from_day_5() -> None:
    _assert_reproduced("ibrahim-2012b-rislenemdaz")


def test_s_ketamine_blocks_and_dissociates_more_than_r_ketamine() -> None:
    _assert_reproduced("s-vs-r-ketamine")
