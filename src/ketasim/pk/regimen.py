"""Doses and regimens: a small vocabulary that reads like a prescription.

>>> dose = Dose("0.5 mg/kg", route="iv-infusion", over="40 min")
>>> Regimen.every("2 d", dose, count=6)            # three times a week for 12 days
>>> Regimen.at(["0 d", "3 d", "7 d"], Dose("56 mg", route="intranasal"))
>>> Regimen.single(Dose.steps([("0.28 mg/kg/h", "1 h"), ("0.57 mg/kg/h", "1 h")]))

Times, amounts and durations are parsed once here (pint); inside, everything is hours and
mg (or mg/kg with ``per_kg``). A regimen turns into :class:`Input` records, which say how much
drug enters which state (a bolus) or at which rate between two times (an infusion), per
patient, once the body weights and the drug's routes are known.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from ketasim.errors import RegimenError
from ketasim.pk.routes import INTRAVENOUS, ROUTES
from ketasim.units import parse_dose, parse_rate, parse_time_h


@dataclass(frozen=True)
class RateStep:
    """One step of an explicit-rate infusion: ``rate`` (mg/h or mg/kg/h) for ``duration_h``."""

    rate: float
    per_kg: bool
    duration_h: float

    def __post_init__(self) -> None:
        if not (self.rate >= 0 and np.isfinite(self.rate)):
            raise RegimenError("rate", self.rate, "an infusion rate must be zero or positive")
        if not (self.duration_h > 0 and np.isfinite(self.duration_h)):
            raise RegimenError("duration", self.duration_h, "a rate step must last over 0 h")


@dataclass(frozen=True)
class Dose:
    """One administration: an amount (mg or mg/kg) by a route.

    Parameters
    ----------
    amount
        ``"50 mg"`` or ``"0.5 mg/kg"`` (or a number with ``per_kg`` for internal use).
    route
        One of :data:`~ketasim.pk.routes.ROUTES`.
    over
        Infusion duration for ``iv-infusion`` (required), push duration for ``iv-bolus``
        (default 1 min, at most 2 min; ``"0 min"`` is an instantaneous bolus).
    """

    amount: float
    per_kg: bool
    route: str
    over_h: float | None = None
    rate_steps: tuple[RateStep, ...] = ()

    def __init__(
        self,
        amount: str | float,
        route: str = "iv-infusion",
        over: str | float | None = None,
        *,
        per_kg: bool | None = None,
        rate_steps: Sequence[RateStep] = (),
    ) -> None:
        if route not in ROUTES:
            from ketasim.errors import UnknownNameError

            raise UnknownNameError("route", route, ROUTES)
        if isinstance(amount, str):
            value, is_per_kg = parse_dose(amount, "dose")
        else:
            if per_kg is None:
                raise RegimenError("dose", amount, "give a dose with its unit, e.g. '0.5 mg/kg'")
            value, is_per_kg = float(amount), per_kg
        if not np.isfinite(value) or value < 0:
            raise RegimenError("dose", amount, "a dose must be zero or positive")
        over_h: float | None
        if over is None:
            over_h = None
        elif isinstance(over, str):
            over_h = parse_time_h(over, "over")
        else:
            over_h = float(over)
        if over_h is not None and (not np.isfinite(over_h) or over_h < 0):
            raise RegimenError("over", over, "a duration must be zero or positive")
        if route == "iv-infusion" and not rate_steps:
            if over_h is None:
                raise RegimenError("over", None, "an iv-infusion needs a duration, e.g. '40 min'")
            if over_h <= 0:
                raise RegimenError("over", over, "an infusion must last longer than zero")
        if route == "iv-bolus" and over_h is None:
            over_h = 1.0 / 60.0
        if route not in INTRAVENOUS and over_h is not None:
            raise RegimenError("over", over, f"a duration applies to IV routes only, not {route}")
        object.__setattr__(self, "amount", value)
        object.__setattr__(self, "per_kg", is_per_kg)
        object.__setattr__(self, "route", route)
        object.__setattr__(self, "over_h", over_h)
        object.__setattr__(self, "rate_steps", tuple(rate_steps))

    @classmethod
    def steps(cls, steps: Iterable[tuple[str, str]]) -> Dose:
        """An IV infusion given as explicit rate steps, e.g. ``[("0.28 mg/kg/h", "1 h"), ...]``."""
        parsed = []
        for i, (rate_text, duration_text) in enumerate(steps):
            rate, per_kg = parse_rate(rate_text, f"rate step {i + 1}")
            parsed.append(RateStep(rate, per_kg, parse_time_h(duration_text, f"rate step {i + 1}")))
        if not parsed:
            raise RegimenError("rates", "", "at least one rate step, e.g. '0.5 mg/kg/h for 1 h'")
        if len({s.per_kg for s in parsed}) > 1:
            raise RegimenError("rates", steps, "write all rate steps in mg/h or all in mg/kg/h")
        total = sum(s.rate * s.duration_h for s in parsed)
        return cls(total, "iv-infusion", per_kg=parsed[0].per_kg, rate_steps=parsed)

    @property
    def duration_h(self) -> float:
        """How long drug is given: the infusion or push time, 0 for other routes."""
        if self.rate_steps:
            return sum(s.duration_h for s in self.rate_steps)
        return self.over_h or 0.0

    def amount_mg(self, weight_kg: np.ndarray | None) -> np.ndarray:
        """The dose in mg for each patient (a mg/kg dose needs their body weights)."""
        if weight_kg is None:
            if self.per_kg:
                raise RegimenError("weight", None, f"a body weight is needed for {self!r}")
            return np.array([self.amount])
        if self.per_kg:
            return self.amount * np.asarray(weight_kg, dtype=float)
        return np.full(np.shape(weight_kg), self.amount, dtype=float)

    def __repr__(self) -> str:
        unit = "mg/kg" if self.per_kg else "mg"
        if self.rate_steps:
            u = "mg/kg/h" if self.per_kg else "mg/h"
            steps = ", ".join(f"{s.rate:g} {u} for {s.duration_h:g} h" for s in self.rate_steps)
            return f"Dose(iv-infusion steps: {steps})"
        over = f" over {self.over_h * 60:g} min" if self.over_h is not None else ""
        return f"Dose({self.amount:g} {unit} {self.route}{over})"


@dataclass(frozen=True)
class Regimen:
    """A schedule of doses: ``(time_h, Dose)`` pairs in time order."""

    doses: tuple[tuple[float, Dose], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        times = [t for t, _ in self.doses]
        for t in times:
            if not np.isfinite(t) or t < 0:
                raise RegimenError("schedule", t, "dose times must be zero or later")
        if any(b < a for a, b in pairwise(times)):
            raise RegimenError("schedule", times, "dose times must be in increasing order")

    @classmethod
    def single(cls, dose: Dose, at: str = "0 h") -> Regimen:
        """One dose at ``at`` (default time zero)."""
        return cls(((parse_time_h(at, "at"), dose),))

    @classmethod
    def every(cls, interval: str, dose: Dose, count: int, start: str = "0 h") -> Regimen:
        """``count`` doses ``interval`` apart (``Regimen.every("2 d", dose, count=6)``)."""
        step = parse_time_h(interval, "every")
        if step <= 0:
            raise RegimenError("every", interval, "a dosing interval must be longer than zero")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise RegimenError("count", count, "a whole number of doses, 1 or more")
        t0 = parse_time_h(start, "start")
        return cls(tuple((t0 + i * step, dose) for i in range(count)))

    @classmethod
    def at(cls, times: Sequence[str], dose: Dose) -> Regimen:
        """Doses at explicit times (``["0 d", "2 d", "4 d"]``), which must be in order."""
        if not times:
            raise RegimenError("schedule", times, "give at least one time, e.g. '0 d, 2 d, 4 d'")
        parsed = [parse_time_h(t, "schedule") for t in times]
        if any(b <= a for a, b in pairwise(parsed)):
            raise RegimenError("schedule", ", ".join(times), "times must increase strictly")
        return cls(tuple((t, dose) for t in parsed))

    def __add__(self, other: Regimen) -> Regimen:
        merged = sorted(self.doses + other.doses, key=lambda pair: pair[0])
        return Regimen(tuple(merged))

    @property
    def routes(self) -> tuple[str, ...]:
        """The routes the regimen uses, in first-use order."""
        seen: dict[str, None] = {}
        for _, dose in self.doses:
            seen.setdefault(dose.route, None)
        return tuple(seen)

    @property
    def end_h(self) -> float:
        """Time the last administration ends."""
        return max((t + d.duration_h for t, d in self.doses), default=0.0)

    def __repr__(self) -> str:
        body = "; ".join(f"t={t:g} h: {d!r}" for t, d in self.doses)
        return f"Regimen({body})"


@dataclass(frozen=True)
class Input:
    """Drug entering one state: a bolus (``end_h is None``) or a constant rate until ``end_h``.

    ``amount`` is mg per patient for a bolus, mg/h per patient for a rate.
    """

    state: str
    start_h: float
    amount: np.ndarray
    end_h: float | None = None
