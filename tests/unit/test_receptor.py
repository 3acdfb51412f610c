"""The receptor layer: Mg2+ block, trapping, populations and allosteric GluN2B inhibition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketasim.data import load_drug, load_mechanism
from ketasim.receptor import (
    Blocker,
    ReceptorParams,
    glun2b_inhibition,
    mg_unblocked,
    population_block,
)

RP = ReceptorParams.from_spec(load_mechanism("human")["receptor"])


def _blocker(name: str) -> Blocker:
    b = Blocker.from_drug(load_drug(name))
    assert b is not None
    return b


def test_mg_block_follows_jahr_stevens_1990() -> None:
    free = mg_unblocked(-70.0, 1.0, RP.mg_k0_mm, RP.mg_slope_per_mv)
    assert free == pytest.approx(1.0 / (1.0 + np.exp(0.062 * 70.0) / 3.57), rel=1e-12)
    assert 0.03 < free < 0.06
    assert mg_unblocked(-30.0, 1.0, RP.mg_k0_mm, RP.mg_slope_per_mv) > 0.3


@settings(max_examples=50, deadline=None, derandomize=True, database=None)
@given(
    drug=st.sampled_from(
        ["ketamine-racemic", "esketamine", "memantine", "lanicemine", "traxoprodil", "rislenemdaz"]
    ),
    c_um=st.floats(0.0, 1000.0),
    population=st.sampled_from(["interneuron", "pyramidal", "rest"]),
)
def test_block_is_a_fraction(drug: str, c_um: float, population: str) -> None:
    b = population_block(population, [_blocker(drug)], [np.array([c_um])], RP)
    assert 0.0 <= float(b[0]) <= 1.0


def test_block_at_rest_is_small_at_clinical_concentrations_reference_1_4() -> None:
    # unbound brain ketamine at the end of 0.5 mg/kg over 40 min is about 0.6 uM
    rest = population_block("rest", [_blocker("ketamine-racemic")], [np.array([0.6])], RP)
    inter = population_block("interneuron", [_blocker("ketamine-racemic")], [np.array([0.6])], RP)
    assert float(rest[0]) < 0.02
    assert float(inter[0]) > 3 * float(rest[0])


def test_trapping_orders_escape_ketamine_memantine_lanicemine_mealing_1999() -> None:
    esc = [_blocker(n).k_esc_per_s for n in ("ketamine-racemic", "memantine", "lanicemine")]
    assert esc[0] < esc[1] < esc[2]


def test_esketamine_blocks_more_than_arketamine_at_equal_concentration_ebert_1997() -> None:
    c = [np.array([1.0])]
    s = population_block("interneuron", [_blocker("esketamine")], c, RP)
    r = population_block("interneuron", [_blocker("arketamine")], c, RP)
    assert float(s[0]) > 2 * float(r[0])


@pytest.mark.parametrize("drug", ["rislenemdaz", "traxoprodil", "ro-25-6981"])
def test_glun2b_selective_drugs_act_allosterically_not_in_the_pore_lord_2013(drug: str) -> None:
    b = _blocker(drug)
    assert not b.pore
    assert b.glun2b_ic50_um is not None
    c = [np.array([b.glun2b_ic50_um])]
    assert float(glun2b_inhibition([b], c)[0]) == pytest.approx(0.5, rel=1e-9)
    # the same inhibition whatever the voltage or Mg2+: only the GluN2B share differs
    rest = population_block("rest", [b], c, RP)
    pyr = population_block("pyramidal", [b], c, RP)
    assert float(rest[0]) == pytest.approx(0.5 * RP.share_2b["rest"])
    assert float(pyr[0]) == pytest.approx(0.5 * RP.share_2b["pyramidal"])
