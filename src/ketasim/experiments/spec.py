"""What an in-silico experiment is, as data: conditions, effects, readouts and expectations.

An experiment file (``data/experiments/<name>.yaml``, or any file a user writes) names the
species, the conditions to simulate (a drug or vehicle, its dose, route and timing, and the
perturbations in force), the effects to read (a condition minus its control), the readouts
(an output at a time after the dose, or its peak over a window) and what the literature says
those effects should be. ``docs/experiments.md`` documents the format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ketasim.errors import DataError
from ketasim.model import Perturbations
from ketasim.units import parse_time_h


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecondDrug(_Strict):
    """A second drug given ``before`` the condition's drug (0: with it)."""

    drug: str
    dose: str
    route: str = "intraperitoneal"
    over: str | None = None
    before: str = "0 min"

    @property
    def before_h(self) -> float:
        return parse_time_h(self.before, "before")


class Condition(_Strict):
    """One simulation: a drug (or ``saline``) with its regimen and the perturbations in force.

    ``lead``: an acute perturbation (``anisomycin``, ``rapamycin``...) starts this long before
    the dose; without it a perturbation is chronic (time 0 is its steady state).
    ``second_drug``: another drug, with the dose or ``before`` it.
    """

    drug: str
    dose: str | None = None
    route: str = "intraperitoneal"
    over: str | None = None
    every: str | None = None
    count: int | None = Field(default=None, ge=1)
    perturbations: dict[str, Any] = Field(default_factory=dict)
    lead: str | None = None
    second_drug: SecondDrug | None = None

    @field_validator("perturbations")
    @classmethod
    def _known(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(Perturbations.model_fields) - {"chronic"})
        if unknown:
            allowed = ", ".join(f for f in Perturbations.model_fields if f != "chronic")
            raise ValueError(f"unknown perturbation {unknown[0]!r}; allowed: {allowed}")
        Perturbations(**value)  # out-of-range values fail here
        return value

    def perturbation(self) -> Perturbations:
        return Perturbations(**self.perturbations, chronic=self.lead is None)

    @property
    def lead_h(self) -> float:
        """How long before the drug's dose the simulation starts (pretreatments)."""
        lead = 0.0 if self.lead is None else parse_time_h(self.lead, "lead")
        second = 0.0 if self.second_drug is None else self.second_drug.before_h
        return max(lead, second)


class Readout(_Strict):
    """An output column read at a time after the dose, or summarised over a window."""

    output: str
    at: str | None = None
    window: tuple[str, str] | None = None
    stat: Literal["value", "max", "min", "mean"] = "value"
    label: str | None = None

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        when = self.at if self.at is not None else "-".join(self.window or ())
        return (
            f"{self.output}@{when}" if self.stat == "value" else f"{self.stat}:{self.output}@{when}"
        )

    def times_h(self) -> tuple[float, float]:
        if self.at is not None:
            t = parse_time_h(self.at, "at")
            return t, t
        if self.window is None:
            raise DataError(f"readout {self.output}: give 'at' or 'window'")
        return parse_time_h(self.window[0], "window"), parse_time_h(self.window[1], "window")


class Expectation(_Strict):
    """What the literature says about one effect, at every readout unless ``readout`` names one.

    - ``direction``: the effect's sign, with a change of at least ``min_change`` (a share of
      the control's value) so that a rounding error cannot pass; ``none`` with ``within``:
      the effect is smaller than that share (gone, or not yet there);
    - ``relative_to`` with ``at_most``/``at_least``: the effect as a multiple of another effect
      (``at_most: 0.3`` = abolished, ``at_most: 0.2`` = no effect, ``at_least: 1.5`` against
      each of several effects = potentiates, ``at_least: 0.7`` = kept); the other effects are
      read at the same readout unless ``relative_readout`` names one (weeks of memantine
      against ketamine's 24-h effect).
    """

    effect: str
    readout: str | None = None
    direction: Literal["increase", "decrease", "none"] | None = None
    min_change: float = Field(default=0.05, ge=0.0)
    within: float | None = Field(default=None, ge=0.0)
    relative_to: list[str] = Field(default_factory=list)
    relative_readout: str | None = None
    at_most: float | None = None
    at_least: float | None = None
    text: str

    @field_validator("relative_to", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Experiment(_Strict):
    """A preclinical or clinical experiment the model must reproduce from its mechanism."""

    name: str
    source: str
    claim: str
    species: Literal["human", "mouse", "rat"]
    conditions: dict[str, Condition]
    effects: dict[str, tuple[str, str]]
    readouts: list[Readout]
    expectations: list[Expectation]
    structure_note: str | None = None

    @model_validator(mode="after")
    def _references(self) -> Experiment:
        for name, (treated, control) in self.effects.items():
            for cond in (treated, control):
                if cond not in self.conditions:
                    raise ValueError(f"effect {name}: unknown condition {cond!r}")
        names = {r.name for r in self.readouts}
        for exp in self.expectations:
            for eff in [exp.effect, *exp.relative_to]:
                if eff not in self.effects:
                    raise ValueError(f"expectation: unknown effect {eff!r}")
            for readout in (exp.readout, exp.relative_readout):
                if readout is not None and readout not in names:
                    raise ValueError(f"expectation: unknown readout {readout!r}")
        return self


def load_experiment_file(path: Path) -> Experiment:
    """Read and validate one experiment file (one-line errors name the file and the field)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{path.name}: cannot read: {exc}".splitlines()[0]) from None
    try:
        return Experiment.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "experiment"
        got = f"got {first['input']!r}; " if "input" in first and first["type"] != "missing" else ""
        raise DataError(f"{path.name}: {where}: {got}{first['msg']}".splitlines()[0]) from None
