"""Virtual patients: per-patient seeding, covariate distributions, overrides, effects."""

from __future__ import annotations

import numpy as np
import pytest

from ketasim.errors import KetasimInputError
from ketasim.population import (
    PopulationParams,
    PopulationSpec,
    individual_parameters,
    sample_patients,
)


def test_a_patient_does_not_depend_on_who_is_drawn_beside_it() -> None:
    spec = PopulationSpec.default()
    many = sample_patients(spec, 50, seed=4).set_index("patient")
    few = sample_patients(spec, np.array([7, 31]), seed=4).set_index("patient")
    assert few.equals(many.loc[[7, 31]])
    other_seed = sample_patients(spec, np.array([7, 31]), seed=5).set_index("patient")
    assert not other_seed.equals(few)


def test_covariate_shares_follow_the_spec() -> None:
    frame = sample_patients(PopulationSpec.default(), 3000, seed=1)
    assert frame["fh_aud"].mean() == pytest.approx(0.4, abs=0.03)
    assert frame["suicide_attempt"].mean() == pytest.approx(0.35, abs=0.03)
    assert (frame["met_alleles"] == 0).mean() == pytest.approx(0.66, abs=0.03)
    assert frame["bmi_kg_m2"].between(17, 55).all()
    assert frame["age_years"].between(18, 75).all()
    assert (frame["comedication"] == "none").all()
    bmi = frame["weight_kg"] / frame["height_m"] ** 2
    np.testing.assert_allclose(bmi, frame["bmi_kg_m2"])


def test_a_spec_overrides_covariates_and_names_what_is_wrong() -> None:
    spec = PopulationSpec.default().override(
        {"bipolar_share": 1.0, "comedication": {"lithium_or_valproate": 1.0}}
    )
    frame = sample_patients(spec, 400, seed=2)
    assert frame["bipolar"].all()
    assert set(frame["comedication"]) == {"lithium", "valproate"}
    with pytest.raises(KetasimInputError, match=r"population\.covariates\.bmi"):
        PopulationSpec.default().override({"bmi": {"median": 30}})
    with pytest.raises(KetasimInputError, match="add up to"):
        PopulationSpec.default().override({"comedication": {"none": 0.5}})


def test_covariates_move_the_gains_in_the_published_directions() -> None:
    frame = sample_patients(PopulationSpec.default(), 6, seed=3)
    params = PopulationParams.load().with_values({"omega_response": 0.0})
    for column, value in (("fh_aud", False), ("suicide_attempt", False)):
        frame[column] = value
    frame["bmi_kg_m2"] = 30.0
    frame["d_serine_um"] = 4.0
    frame["shank3_z"] = 0.0
    base = individual_parameters(frame, params)
    fh = individual_parameters(frame.assign(fh_aud=True), params)
    attempt = individual_parameters(frame.assign(suicide_attempt=True), params)
    heavy = individual_parameters(frame.assign(bmi_kg_m2=40.0), params)
    serine = individual_parameters(frame.assign(d_serine_um=6.0), params)
    assert np.all(fh.sustained_gain_factor > base.sustained_gain_factor)
    assert np.all(fh.fast_gain_factor > base.fast_gain_factor)
    assert np.all(attempt.sustained_gain_factor < base.sustained_gain_factor)
    np.testing.assert_allclose(attempt.fast_gain_factor, base.fast_gain_factor)
    assert np.all(heavy.fast_gain_factor > base.fast_gain_factor)
    assert np.all(serine.fast_gain_factor < base.fast_gain_factor)
    np.testing.assert_array_equal(base.met_alleles, frame["met_alleles"])
