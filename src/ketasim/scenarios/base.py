"""What every scenario study shares: its settings and how it is registered.

A scenario is a function ``run(settings) -> Report``. Its work is split into tasks fixed by
the scenario and its settings (never by the number of workers) and sent through
``settings.run_map``, so a local Dask cluster or an existing scheduler runs them with the same
results as this process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ketasim.errors import KetasimInputError
from ketasim.report.document import Report

#: A ``map``-like function whose results come back in task order (engine.distribute.mapper).
RunMap = Callable[..., Iterable[Any]]


@dataclass(frozen=True)
class Settings:
    """How big a scenario run is.

    ``replicates``: replicate trials (or parameter draws) behind each prediction interval;
    ``patients``: virtual patients per arm or per cohort where the scenario chooses its own
    size (trial designs that name their size keep it); ``seed``: every random draw;
    ``quick``: coarser grids, for tests and a first look; ``patient``: the patient file of
    the one-patient scenario.
    """

    replicates: int = 40
    patients: int = 200
    seed: int = 0
    quick: bool = False
    patient: Path | None = None
    run_map: RunMap = field(default=map, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.replicates < 2:
            raise KetasimInputError("replicates", self.replicates, "2 or more")
        if self.patients < 10:
            raise KetasimInputError("patients", self.patients, "10 or more")

    def describe(self) -> dict[str, Any]:
        """The settings as the report records them."""
        out: dict[str, Any] = {
            "replicates": self.replicates,
            "patients": self.patients,
            "seed": self.seed,
            "quick": self.quick,
        }
        if self.patient is not None:
            out["patient"] = str(self.patient)
        return out


@dataclass(frozen=True)
class Scenario:
    """A registered study: ``module`` holds a ``run(settings) -> Report`` function."""

    name: str
    title: str
    question: str
    module: str


def run_with(fn: Callable[[Settings], Report], settings: Settings) -> Report:
    """Run a scenario function and stamp its settings on the report."""
    report = fn(settings)
    report.settings = {**settings.describe(), **report.settings}
    return report


__all__ = ["Report", "RunMap", "Scenario", "Settings", "run_with"]
