"""Routes of administration and their bioavailability.

Intravenous routes put the dose straight into the central (arterial) compartment: an
``iv-infusion`` over a duration or in explicit rate steps, an ``iv-bolus`` as a push over at
most two minutes. Every other route is a set of pathways (see
:class:`~ketasim.data.spec.Pathway`): a mucosal or muscular depot emptying first-order, and
for swallowed drug a gut depot whose drug passes the liver, where part of it becomes the
metabolite before it reaches the circulation (first pass).
"""

from __future__ import annotations

import numpy as np

from ketasim.data.spec import Bioavailability, DoseTable, Parameter, SpeciesPk
from ketasim.errors import RegimenError, UnknownNameError

#: Every route name ketasim knows; a species' drug file says which ones it supports.
ROUTES: tuple[str, ...] = (
    "iv-infusion",
    "iv-bolus",
    "intramuscular",
    "subcutaneous",
    "intranasal",
    "sublingual",
    "oral",
    "intraperitoneal",
)

INTRAVENOUS: frozenset[str] = frozenset({"iv-infusion", "iv-bolus"})


def check_route(route: str, species_pk: SpeciesPk, drug: str, species: str) -> None:
    """Raise a clear error when ``route`` is unknown or not given for this drug and species."""
    if route not in ROUTES:
        raise UnknownNameError("route", route, ROUTES)
    available = set(species_pk.routes) | set(species_pk.intravenous_routes)
    if route not in available:
        raise UnknownNameError(f"route (for {drug} in {species})", route, available)


def bioavailability(
    spec: Bioavailability, dose_mg: np.ndarray | float, reading: str | None = None
) -> np.ndarray:
    """Systemic fraction F of the parent for a dose (mg, per patient).

    Parameters
    ----------
    spec
        The route's bioavailability readings.
    dose_mg
        Dose in mg (one per patient); dose-dependent readings are interpolated linearly
        between their table points and held constant beyond them.
    reading
        Name of a published reading; ``None`` takes the file's default.

    Returns
    -------
    numpy.ndarray
        F (dimensionless), same shape as ``dose_mg``.
    """
    name = reading or spec.default
    if name not in spec.readings:
        raise UnknownNameError("bioavailability reading", name, spec.readings)
    dose = np.asarray(dose_mg, dtype=float)
    item = spec.readings[name]
    if isinstance(item, DoseTable):
        return np.interp(dose, item.dose_mg, item.value)
    return np.full_like(dose, item.to("dimensionless"))


def describe_bioavailability(
    spec: Bioavailability,
) -> list[tuple[str, Parameter | DoseTable, bool]]:
    """The readings of a route as ``(name, reading, is_default)`` rows."""
    return [(name, item, name == spec.default) for name, item in spec.readings.items()]


def check_bolus_duration(duration_h: float, max_duration: Parameter | None) -> None:
    """An IV push longer than the library's limit must be written as an infusion."""
    if max_duration is None:
        return
    limit_h = max_duration.to("hour")
    if duration_h > limit_h + 1e-12:
        raise RegimenError(
            "over",
            f"{duration_h * 60:g} min",
            f"an iv-bolus is pushed over at most {limit_h * 60:g} min; use iv-infusion for longer",
        )
