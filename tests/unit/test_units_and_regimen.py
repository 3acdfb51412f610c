"""Units at the boundary and the dosing vocabulary."""

from __future__ import annotations

import numpy as np
import pytest

from ketasim import Dose, Regimen
from ketasim.errors import KetasimInputError, RegimenError, UnitError, UnknownNameError
from ketasim.units import parse_dose, parse_rate, parse_time_h, parse_weight_kg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.5 mg/kg", (0.5, True)),
        ("50 mg", (50.0, False)),
        ("500 ug/kg", (0.5, True)),
        ("0.05 g", (50.0, False)),
    ],
)
def test_doses_parse_to_mg_or_mg_per_kg(text: str, expected: tuple[float, bool]) -> None:
    value, per_kg = parse_dose(text)
    assert value == pytest.approx(expected[0])
    assert per_kg is expected[1]


@pytest.mark.parametrize(
    ("text", "hours"), [("40 min", 2 / 3), ("2 d", 48.0), ("90 s", 0.025), ("1 wk", 168.0)]
)
def test_times_parse_to_hours(text: str, hours: float) -> None:
    assert parse_time_h(text) == pytest.approx(hours)


def test_weights_and_rates_parse() -> None:
    assert parse_weight_kg("70 kg") == 70.0
    assert parse_weight_kg("25 g") == pytest.approx(0.025)
    assert parse_rate("0.57 mg/kg/h") == (pytest.approx(0.57), True)
    assert parse_rate("20 mg/h") == (pytest.approx(20.0), False)


@pytest.mark.parametrize(
    ("func", "text"),
    [
        (parse_dose, "0.5"),
        (parse_dose, "0.5 mg/L"),
        (parse_dose, "five mg"),
        (parse_dose, ""),
        (parse_time_h, "40 kg"),
        (parse_time_h, "40"),
        (parse_weight_kg, "0 kg"),
        (parse_weight_kg, "70 min"),
        (parse_rate, "3 mg"),
        (parse_dose, "nan mg"),
    ],
)
def test_bad_quantities_name_the_field(func: object, text: str) -> None:
    with pytest.raises(UnitError) as err:
        func(text, "the-field")  # type: ignore[operator]
    assert str(err.value).startswith("the-field: got ")


def test_mg_per_kg_dose_without_weight_is_refused() -> None:
    with pytest.raises(RegimenError, match="weight"):
        Dose("0.5 mg/kg", over="40 min").amount_mg(None)
    assert Dose("50 mg", over="40 min").amount_mg(None)[0] == 50.0


def test_every_and_at_build_the_same_schedule() -> None:
    dose = Dose("0.5 mg/kg", route="iv-infusion", over="40 min")
    every = Regimen.every("2 d", dose, count=6)
    at = Regimen.at(["0 d", "2 d", "4 d", "6 d", "8 d", "10 d"], dose)
    assert [t for t, _ in every.doses] == [t for t, _ in at.doses] == [0, 48, 96, 144, 192, 240]
    assert "0.5 mg/kg iv-infusion over 40 min" in repr(every)


def test_rate_steps_sum_to_the_total_dose() -> None:
    dose = Dose.steps([("0.28 mg/kg/h", "1 h"), ("0.57 mg/kg/h", "1 h"), ("1.14 mg/kg/h", "1 h")])
    assert dose.amount == pytest.approx(1.99)
    assert dose.duration_h == pytest.approx(3.0)
    assert dose.amount_mg(np.array([70.0]))[0] == pytest.approx(139.3)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: Dose("1 mg", route="nasal"), UnknownNameError),
        (lambda: Dose("1 mg", route="iv-infusion"), RegimenError),
        (lambda: Dose("-1 mg", route="oral"), RegimenError),
        (lambda: Dose("1 mg", route="oral", over="5 min"), RegimenError),
        (lambda: Regimen.every("0 d", Dose("1 mg", route="oral"), count=2), RegimenError),
        (lambda: Regimen.every("1 d", Dose("1 mg", route="oral"), count=0), RegimenError),
        (lambda: Regimen.at(["1 d", "1 d"], Dose("1 mg", route="oral")), RegimenError),
        (lambda: Dose.steps([]), RegimenError),
        (lambda: Dose.steps([("1 mg/h", "1 h"), ("0.1 mg/kg/h", "1 h")]), RegimenError),
    ],
)
def test_invalid_regimens_are_refused(make: object, error: type[KetasimInputError]) -> None:
    with pytest.raises(error):
        make()  # type: ignore[operator]


def test_errors_survive_pickling_with_their_fields() -> None:
    """A Dask worker or a process pool sends errors back pickled: field, value and the
    sentence must arrive as they left."""
    import pickle

    from ketasim.errors import KetasimInputError, SolverError, UnknownNameError
    from ketasim.web.limits import LimitError

    for exc in (
        KetasimInputError("dose", "lots", "a quantity such as '0.5 mg/kg'"),
        UnknownNameError("drug", "ketamin", ["ketamine-racemic", "esketamine"]),
        LimitError("n_patients", 5000, "max_patients", "1000 patients"),
        SolverError("the integrator failed"),
    ):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc)
        assert str(back) == str(exc)
        assert back.__dict__ == exc.__dict__
