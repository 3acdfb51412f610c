"""Run an experiment: simulate each condition, read the effects, judge the expectations."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ketasim.api import build_regimen, simulate
from ketasim.errors import DataError, UnknownNameError
from ketasim.experiments.spec import (
    Condition,
    Expectation,
    Experiment,
    Readout,
    load_experiment_file,
)

PLOT_POINTS = 160


def _folder() -> Path:
    return Path(str(resources.files("ketasim.data") / "experiments"))


def experiment_names() -> list[str]:
    """Names of the shipped experiments, in file order."""
    return sorted(p.stem for p in _folder().glob("*.yaml"))


def load_experiment(name_or_path: str | Path) -> Experiment:
    """A shipped experiment by name, or a user's experiment file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return load_experiment_file(path)
    shipped = _folder() / f"{name_or_path}.yaml"
    if not shipped.is_file():
        raise UnknownNameError("experiment", str(name_or_path), experiment_names())
    return load_experiment_file(shipped)


@dataclass(frozen=True)
class Verdict:
    """One expectation judged at one readout."""

    expectation: str
    readout: str
    observed: float
    passed: bool


@dataclass(frozen=True)
class ExperimentResult:
    """What :func:`run_experiment` returns."""

    experiment: Experiment
    effects: dict[str, dict[str, float]]  # readout -> effect -> treated minus control
    values: dict[str, dict[str, float]]  # readout -> condition -> value
    verdicts: list[Verdict]
    timecourses: dict[str, pd.DataFrame] = field(repr=False)  # condition -> time after dose

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    def to_json(self) -> dict[str, Any]:
        exp = self.experiment
        return {
            "name": exp.name,
            "source": exp.source,
            "claim": exp.claim,
            "expectation": [e.text for e in exp.expectations],
            "observed": {
                "effects": self.effects,
                "values": self.values,
                "checks": [
                    {
                        "expectation": v.expectation,
                        "readout": v.readout,
                        "observed": v.observed,
                        "passed": v.passed,
                    }
                    for v in self.verdicts
                ],
            },
            "passed": self.passed,
        }


def _simulate(exp: Experiment, cond: Condition, times_after_dose: np.ndarray) -> pd.DataFrame:
    """One condition's time course, with time counted from its (first) dose."""
    lead = cond.lead_h
    t = np.unique(np.concatenate([[0.0], lead + times_after_dose]))
    regimen = build_regimen(
        cond.dose or "0 mg",  # saline: an administration without drug
        cond.route,
        cond.over,
        every=cond.every,
        count=cond.count,
        start=f"{lead} h",
    )
    co_drug, co_regimen = None, None
    if cond.second_drug is not None:
        second = cond.second_drug
        co_drug = second.drug
        co_regimen = build_regimen(
            second.dose, second.route, second.over, start=f"{lead - second.before_h} h"
        )
    res = simulate(
        cond.drug,
        regimen,
        co_drug=co_drug,
        co_regimen=co_regimen,
        species=exp.species,
        until=f"{t[-1] + 1e-6} h",
        times_h=t,
        perturbations=cond.perturbation(),
        allow_anesthetic=True,
    )
    tc = res.timecourse
    tc = tc[tc.t_h >= lead - 1e-12].copy()
    tc["t_h"] = tc["t_h"] - lead
    return tc.reset_index(drop=True)


def _read(tc: pd.DataFrame, readout: Readout) -> float:
    if readout.output not in tc.columns:
        raise DataError(f"readout: no output {readout.output!r}; outputs: {', '.join(tc.columns)}")
    lo, hi = readout.times_h()
    if readout.stat == "value":
        i = int(np.argmin(np.abs(tc.t_h.to_numpy() - lo)))
        return float(tc[readout.output].iloc[i])
    window = tc[(tc.t_h >= lo - 1e-9) & (tc.t_h <= hi + 1e-9)][readout.output]
    return float(getattr(window, readout.stat)())


def _judge(
    exp: Expectation,
    effects: dict[str, float],
    values: dict[str, float],
    control: str,
    reference: dict[str, float],
) -> float:
    """The observed quantity the expectation is about: a ratio of effects, or an effect as a
    share of the control's value."""
    eff = effects[exp.effect]
    if exp.relative_to:
        ratios = []
        for other in exp.relative_to:
            ref = reference[other]
            # against a reference with no effect at all, any effect is infinitely larger
            ratios.append(eff / ref if abs(ref) > 1e-12 else (np.inf if abs(eff) > 1e-12 else 0.0))
        return float(min(ratios) if exp.at_least is not None else max(ratios))
    base = abs(values[control]) or 1.0
    return float(eff / base)


def _passes(exp: Expectation, observed: float) -> bool:
    if not np.isfinite(observed) and not exp.relative_to:
        return False
    if exp.relative_to:
        ok = True
        if exp.at_most is not None:
            ok &= observed <= exp.at_most
        if exp.at_least is not None:
            ok &= observed >= exp.at_least
        return bool(ok)
    if exp.direction == "increase":
        return observed >= exp.min_change
    if exp.direction == "decrease":
        return observed <= -exp.min_change
    if exp.direction == "none":
        return abs(observed) <= (exp.within if exp.within is not None else exp.min_change)
    raise DataError(f"expectation {exp.text!r}: give a direction or relative_to")


def run_experiment(exp: Experiment) -> ExperimentResult:
    """Simulate every condition of ``exp`` and judge each expectation at each readout."""
    spans = [r.times_h() for r in exp.readouts]
    horizon = max(hi for _, hi in spans)
    grid = np.unique(
        np.concatenate(
            [
                np.geomspace(1 / 60, max(horizon, 1 / 60), PLOT_POINTS),
                [t for span in spans for t in span],
            ]
        )
    )
    timecourses = {name: _simulate(exp, cond, grid) for name, cond in exp.conditions.items()}
    values = {r.name: {c: _read(tc, r) for c, tc in timecourses.items()} for r in exp.readouts}
    effects = {
        r.name: {
            name: values[r.name][treated] - values[r.name][control]
            for name, (treated, control) in exp.effects.items()
        }
        for r in exp.readouts
    }
    verdicts = []
    for expectation in exp.expectations:
        for readout in exp.readouts:
            if expectation.readout is not None and expectation.readout != readout.name:
                continue
            control = exp.effects[expectation.effect][1]
            reference = effects[expectation.relative_readout or readout.name]
            observed = _judge(
                expectation, effects[readout.name], values[readout.name], control, reference
            )
            verdicts.append(
                Verdict(expectation.text, readout.name, observed, _passes(expectation, observed))
            )
    return ExperimentResult(exp, effects, values, verdicts, timecourses)
