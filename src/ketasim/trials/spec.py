"""Trial specifications: a YAML file a user writes, validated with one-line errors.

A trial spec (documented in ``docs/trial-spec.md``)::

    name: zarate-2006a
    source: zarate-2006a
    population:
      size: 18                          # patients randomised per replicate trial
      covariates: {comedication: {none: 1.0}}
      inclusion: {scale: HDRS-17, min: 18}
    design: {type: crossover, washout: 7 d}
    arms:
      - {name: ketamine, drug: ketamine-racemic, dose: 0.5 mg/kg, route: iv-infusion, over: 40 min}
      - {name: saline, drug: saline}
    scale: HDRS-17
    endpoints:
      - {name: response_24h, type: response, time: 24 h}
      - {name: remission_7d, type: remission, time: 7 d}
    comparisons:
      - {arm: ketamine, vs: saline, endpoints: [response_24h]}
    observed:                            # published outcomes, for ketasim reproduce
      - {endpoint: response_24h, arm: ketamine, k: 12, n: 17}

Times are after the start of a patient's first infusion of the period, or of the final
infusion with ``after: final``.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ketasim.data import drug_names
from ketasim.errors import KetasimInputError
from ketasim.pk.regimen import Dose, Regimen
from ketasim.symptoms.scales import SCALES
from ketasim.units import parse_time_h

#: Named dosing schedules: the days of the week-by-week pattern (Monday = day 0).
SCHEDULES: dict[str, tuple[float, ...]] = {
    "once": (0.0,),
    "daily": tuple(float(d) for d in range(7)),
    "three-times-weekly": (0.0, 2.0, 4.0),
    "twice-weekly": (0.0, 3.0),
    "weekly": (0.0,),
    "fortnightly": (0.0,),
    "monthly": (0.0,),
}
_PERIOD_DAYS = {"fortnightly": 14.0, "monthly": 28.0}


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _time(value: str, field: str) -> float:
    return parse_time_h(value, field)


def _known_scale(name: str) -> str:
    if name not in SCALES:
        raise ValueError(f"unknown scale {name!r}; one of {', '.join(SCALES)}")
    return name


#: A rating scale of ``data/scales.yaml``, checked where a spec names one.
ScaleName = Annotated[str, AfterValidator(_known_scale)]


class Inclusion(_Spec):
    """Who enters: an observed score at screening at or above ``min`` on ``scale``."""

    scale: ScaleName
    min: float = Field(ge=0)


class Population(_Spec):
    size: int = Field(ge=2, le=100_000)
    covariates: dict[str, Any] = Field(default_factory=dict)
    inclusion: Inclusion | None = None


class Design(_Spec):
    """``parallel`` (``allocation`` ratio by arm), ``crossover`` (every patient gets every arm,
    ``washout`` apart, sequences counterbalanced), ``single-blind`` (a crossover whose
    sequence is fixed: the arms in the order listed, not counterbalanced) or ``open-label``
    (no comparator; several arms are allocated like a parallel design)."""

    type: Literal["parallel", "crossover", "single-blind", "open-label"]
    allocation: dict[str, float] | None = None
    washout: str = "7 d"

    @property
    def washout_h(self) -> float:
        return _time(self.washout, "design.washout")


class StopRule(_Spec):
    """Stop dosing a patient once the observed score is in remission before a dose."""

    remission: bool = True


class Arm(_Spec):
    """One treatment: a drug and its regimen (``doses`` on a named ``schedule``, every
    ``every`` ``doses`` times, or at the explicit times ``at``, e.g. an induction followed by
    boosters), with an optional stop rule and ``doses_max``."""

    name: str = Field(min_length=1)
    drug: str
    dose: str | None = None
    route: str = "iv-infusion"
    over: str | None = "40 min"
    doses: int = Field(default=1, ge=1, le=400)
    schedule: str | None = None
    every: str | None = None
    at: list[str] | None = None
    stop_rule: StopRule | None = None

    @model_validator(mode="before")
    @classmethod
    def _doses_from_at(cls, data: Any) -> Any:
        # an explicit list of dose times sets the number of doses unless it is given
        if isinstance(data, dict) and data.get("at") and "doses" not in data:
            return {**data, "doses": len(data["at"])}
        return data

    @model_validator(mode="after")
    def _explicit_times(self) -> Arm:
        if self.at is None:
            return self
        if self.every is not None or self.schedule is not None:
            raise ValueError("give dose times 'at' or a 'schedule' or 'every', not both")
        if not self.at:
            raise ValueError("'at' needs at least one dose time, e.g. ['0 d', '2 d']")
        if self.doses != len(self.at):
            raise ValueError(f"doses = {self.doses} but 'at' lists {len(self.at)} dose times")
        times = [_time(t, f"arms.{self.name}.at") for t in self.at]
        if times[0] != 0.0:
            raise ValueError(
                f"the first dose time must be 0 (times count from it), not {self.at[0]!r}"
            )
        if any(b <= a for a, b in pairwise(times)):
            raise ValueError(f"dose times must increase: {self.at}")
        return self

    @field_validator("drug")
    @classmethod
    def _known_drug(cls, v: str) -> str:
        if v not in drug_names():
            raise ValueError(f"unknown drug {v!r}; one of {', '.join(drug_names())}")
        return v

    @field_validator("schedule")
    @classmethod
    def _known_schedule(cls, v: str | None) -> str | None:
        if v is not None and v not in SCHEDULES:
            raise ValueError(f"unknown schedule {v!r}; one of {', '.join(SCHEDULES)}")
        return v

    @property
    def is_placebo(self) -> bool:
        return self.drug == "saline"

    def dose_times_h(self) -> list[float]:
        """Start times of the doses (hours from the first)."""
        if self.at is not None:
            return [_time(t, f"arms.{self.name}.at") for t in self.at]
        if self.every is not None:
            step = _time(self.every, f"arms.{self.name}.every")
            return [i * step for i in range(self.doses)]
        name = self.schedule or ("once" if self.doses == 1 else "daily")
        pattern, period = SCHEDULES[name], _PERIOD_DAYS.get(name, 7.0)
        days: list[float] = []
        week = 0
        while len(days) < self.doses:
            days += [week * period + d for d in pattern]
            week += 1
        return [24.0 * d for d in days[: self.doses]]

    def one_dose(self) -> Dose:
        route_over = self.over if self.route in ("iv-infusion", "iv-bolus") else None
        amount = "0 mg" if self.is_placebo else self.dose
        if amount is None:
            raise KetasimInputError(f"arms.{self.name}.dose", None, "a dose such as '0.5 mg/kg'")
        return Dose(amount, route=self.route, over=route_over)

    def regimen(self, n_doses: int | None = None, start_h: float = 0.0) -> Regimen:
        dose = self.one_dose()
        times = self.dose_times_h()[: n_doses or self.doses]
        return Regimen(tuple((start_h + t, dose) for t in times))


EndpointType = Literal[
    "response", "remission", "change", "response_days", "relapse_time", "peak", "score"
]


class Endpoint(_Spec):
    """What is measured.

    ``response`` / ``remission`` at ``time`` (a rate); ``change`` from baseline at ``time``
    (points); ``response_days``: response on at least ``min_days`` daily visits within
    ``window`` (a rate); ``relapse_time``: days from the final dose to loss of response on two
    visits in a row among responders at ``time`` after the final dose (median, days);
    ``peak``: the highest value of ``output`` (``cadss_points``, ``sbp_mmhg``) within
    ``window`` (arm mean); ``score``: the mean score at ``time``.
    """

    name: str = Field(min_length=1)
    type: EndpointType
    time: str | None = None
    after: Literal["first", "final"] = "first"
    scale: ScaleName | None = None
    window: tuple[str, str] | None = None
    min_days: int = Field(default=1, ge=1)
    output: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Endpoint:
        needs_time = ("response", "remission", "change", "score", "relapse_time")
        if self.type in needs_time and self.time is None:
            raise ValueError(f"a {self.type} endpoint needs a time, e.g. '24 h'")
        if self.type in ("response_days", "peak") and self.window is None:
            raise ValueError(f"a {self.type} endpoint needs a window, e.g. ['2 d', '5 d']")
        if self.type == "peak" and self.output is None:
            raise ValueError("a peak endpoint needs an output, e.g. cadss_points")
        return self

    @property
    def time_h(self) -> float:
        assert self.time is not None
        return _time(self.time, f"endpoints.{self.name}.time")

    @property
    def window_h(self) -> tuple[float, float]:
        assert self.window is not None
        return (
            _time(self.window[0], f"endpoints.{self.name}.window"),
            _time(self.window[1], f"endpoints.{self.name}.window"),
        )

    @property
    def is_rate(self) -> bool:
        return self.type in ("response", "remission", "response_days")


class ComparisonSpec(_Spec):
    arm: str
    vs: str
    endpoints: list[str]


class Dropout(_Spec):
    """Chance that a patient leaves the trial per week (after the first dose)."""

    per_week: float = Field(default=0.0, ge=0.0, le=1.0)
    missing: Literal["locf", "mixed-model"] = "locf"


class Observed(_Spec):
    """A published outcome: ``k`` of ``n`` (a rate), or a ``value`` with its ``ci95``."""

    endpoint: str
    arm: str
    k: int | None = Field(default=None, ge=0)
    n: int | None = Field(default=None, ge=1)
    value: float | None = None
    ci95: tuple[float, float] | None = None
    vs: str | None = None
    note: str = ""
    role: Literal["fit", "validation"] | None = None  # default: the spec's calibration
    at: str | None = None  # relapse: responders still in response this long after the final dose

    @model_validator(mode="after")
    def _complete(self) -> Observed:
        if (self.k is None) != (self.n is None):
            raise ValueError("give k and n together")
        if self.k is None and self.value is None:
            raise ValueError("an observed outcome needs k and n, or a value")
        if self.k is not None and self.n is not None and self.k > self.n:
            raise ValueError(f"k = {self.k} exceeds n = {self.n}")
        return self


class TrialSpec(_Spec):
    """A virtual trial: population, design, arms, scale, visits, endpoints, analysis."""

    name: str = Field(min_length=1)
    source: str = ""
    description: str = ""
    population: Population
    design: Design
    arms: list[Arm] = Field(min_length=1)
    scale: ScaleName
    followup: str = "7 d"
    dropout: Dropout = Field(default_factory=Dropout)
    endpoints: list[Endpoint] = Field(min_length=1)
    comparisons: list[ComparisonSpec] = Field(default_factory=list)
    observed: list[Observed] = Field(default_factory=list)
    calibration: Literal["fit", "validation", "none"] = "none"
    overlaps: str | None = None  # a study whose patients include this one's

    @model_validator(mode="after")
    def _consistent(self) -> TrialSpec:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError("arm names must differ")
        ends = {e.name for e in self.endpoints}
        if len(ends) != len(self.endpoints):
            raise ValueError("endpoint names must differ")
        if self.design.type in ("crossover", "single-blind"):
            if len(self.arms) != 2:
                raise ValueError("a crossover needs exactly two arms")
            drugs = [a for a in self.arms if not a.is_placebo]
            if len(drugs) != 1:
                raise ValueError("a crossover compares one drug with saline")
        if self.design.type == "parallel":
            alloc = self.design.allocation or {n: 1.0 for n in names}
            if set(alloc) != set(names) or any(v <= 0 for v in alloc.values()):
                raise ValueError(f"design.allocation needs a positive ratio for each of {names}")
        for c in self.comparisons:
            for arm in (c.arm, c.vs):
                if arm not in names:
                    raise ValueError(f"comparison arm {arm!r} is not one of {names}")
            for e in c.endpoints:
                if e not in ends:
                    raise ValueError(f"comparison endpoint {e!r} is not one of {sorted(ends)}")
        for o in self.observed:
            if o.endpoint not in ends:
                raise ValueError(f"observed endpoint {o.endpoint!r} is not one of {sorted(ends)}")
            if o.arm not in [*names, "pooled"]:
                raise ValueError(f"observed arm {o.arm!r} is not one of {names} or 'pooled'")
        return self

    @property
    def followup_h(self) -> float:
        return _time(self.followup, "followup")

    def arm(self, name: str) -> Arm:
        return next(a for a in self.arms if a.name == name)

    def endpoint(self, name: str) -> Endpoint:
        return next(e for e in self.endpoints if e.name == name)

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrialSpec:
        """Load and validate a spec file; any problem is one line naming the field."""
        p = Path(path)
        if not p.is_file():
            raise KetasimInputError("spec", str(path), "an existing YAML file")
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "the file"
            raise KetasimInputError("spec", f"{p.name} ({where})", "valid YAML") from None
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: object) -> TrialSpec:
        if not isinstance(raw, dict):
            raise KetasimInputError("spec", type(raw).__name__, "a mapping of trial settings")
        try:
            spec = cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "spec"
            msg = first["msg"].removeprefix("Value error, ")
            raise KetasimInputError(where, first.get("input"), msg) from None
        spec._check_times()
        return spec

    def _check_times(self) -> None:
        """Parse every time once, so a bad unit is reported at load, not mid-run."""
        _ = self.followup_h, self.design.washout_h
        for e in self.endpoints:
            if e.time is not None:
                _ = e.time_h
            if e.window is not None:
                _ = e.window_h
        for a in self.arms:
            _ = a.dose_times_h()
            a.one_dose()


__all__ = ["SCHEDULES", "Arm", "Endpoint", "TrialSpec"]
