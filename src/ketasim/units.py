"""Quantities with units, parsed once at the boundary with pint.

Inside ketasim every number is a plain float whose name carries its unit (``dose_mg``,
``t_h``, ``cl_l_per_h``). Users write ``"0.5 mg/kg"``, ``"40 min"``, ``"2 d"`` or ``"70 kg"``;
the helpers here turn those into the internal units and raise :class:`~ketasim.errors.UnitError`
naming the field when the text cannot be read or has the wrong dimension.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import pint

from ketasim.errors import UnitError

#: Internal units. Time in hours, amounts in mg, concentrations in ng/mL, body weight in kg.
TIME_UNIT = "hour"
MASS_UNIT = "milligram"
WEIGHT_UNIT = "kilogram"


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """The one pint registry of ketasim (days as ``d``, ``h``, ``min``, ``s``, ``wk``)."""
    ureg: pint.UnitRegistry = pint.UnitRegistry()
    ureg.define("wk = week")
    return ureg


def _parse(text: str | float | int, field: str, example: str) -> Any:
    if isinstance(text, bool):
        raise UnitError(field, text, f"write a quantity with a unit, e.g. {example!r}")
    if isinstance(text, int | float):
        raise UnitError(field, text, f"a unit is required, e.g. {example!r}")
    if not isinstance(text, str) or not text.strip():
        raise UnitError(field, text, f"write a quantity with a unit, e.g. {example!r}")
    cleaned = text.strip().replace("µ", "u").replace("μ", "u")
    try:
        q: Any = registry().Quantity(cleaned)
    except Exception as exc:  # pint raises many kinds of errors for bad text
        raise UnitError(field, text, f"could not read it as a quantity, e.g. {example!r}") from exc
    if not isinstance(q, pint.Quantity) or not hasattr(q, "magnitude"):
        raise UnitError(field, text, f"a unit is required, e.g. {example!r}")
    mag = float(q.magnitude)
    if not math.isfinite(mag):
        raise UnitError(field, text, "a finite number is required")
    if not dict(q.unit_items()):
        raise UnitError(field, text, f"a unit is required, e.g. {example!r}")
    return q


def _is_mass_per_mass(q: Any) -> bool:
    """True for quantities such as mg/kg, whose units are masses over masses."""
    ureg = registry()
    items = dict(q.unit_items())
    if not items or sum(items.values()) != 0:
        return False
    return all(ureg.get_dimensionality(u) == ureg.get_dimensionality("kg") for u in items)


def parse_time_h(text: str | float | int, field: str = "time") -> float:
    """Parse a duration or time point (``"40 min"``, ``"2 d"``) into hours."""
    q = _parse(text, field, "40 min")
    if not q.check("[time]"):
        raise UnitError(field, text, "a time is required, e.g. '40 min', '24 h' or '2 d'")
    return float(q.to(TIME_UNIT).magnitude)


def parse_weight_kg(text: str | float | int, field: str = "weight") -> float:
    """Parse a body weight (``"70 kg"``, ``"25 g"``) into kg; it must be positive."""
    q = _parse(text, field, "70 kg")
    if not q.check("[mass]"):
        raise UnitError(field, text, "a body weight is required, e.g. '70 kg' or '25 g'")
    kg = float(q.to(WEIGHT_UNIT).magnitude)
    if kg <= 0:
        raise UnitError(field, text, "a body weight must be greater than zero")
    return kg


def parse_dose(text: str | float | int, field: str = "dose") -> tuple[float, bool]:
    """Parse a dose into ``(value, per_kg)``.

    ``"50 mg"`` gives ``(50.0, False)``; ``"0.5 mg/kg"`` gives ``(0.5, True)`` in mg/kg.
    """
    q = _parse(text, field, "0.5 mg/kg")
    if q.check("[mass]"):
        return float(q.to(MASS_UNIT).magnitude), False
    if _is_mass_per_mass(q):
        return float(q.to("mg/kg").magnitude), True
    raise UnitError(field, text, "a dose in mg or mg/kg is required, e.g. '50 mg' or '0.5 mg/kg'")


def parse_rate(text: str | float | int, field: str = "rate") -> tuple[float, bool]:
    """Parse an infusion rate into ``(value, per_kg)`` in mg/h or mg/kg/h."""
    q = _parse(text, field, "0.57 mg/kg/h")
    if q.check("[mass]/[time]"):
        return float(q.to("mg/h").magnitude), False
    # mg/kg/h: what is left after multiplying by a time must be mass per mass
    if q.check("1/[time]") and _is_mass_per_mass(q * registry().Quantity(1, "h")):
        return float(q.to("mg/kg/h").magnitude), True
    raise UnitError(field, text, "a rate in mg/h or mg/kg/h is required, e.g. '0.57 mg/kg/h'")
