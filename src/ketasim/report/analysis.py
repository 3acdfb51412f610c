"""Analyses of the model itself: which route of Figure 1 carries how much of the effect."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ketasim.api import simulate
from ketasim.model import Perturbations


@dataclass(frozen=True)
class RouteShare:
    """The fall of HDRS-17 at a time with both routes, and with each route alone."""

    drug: str
    dose: str
    t_h: float
    both: float
    surge_only: float
    rest_only: float


def route_contributions(
    drug: str = "ketamine-racemic",
    dose: str = "0.5 mg/kg",
    route: str = "iv-infusion",
    over: str | None = "40 min",
    t_h: float = 24.0,
) -> RouteShare:
    """HDRS-17 fall (points) at ``t_h`` with the surge and rest routes, together and alone."""
    grid = np.array([0.0, t_h])

    def fall(pert: Perturbations) -> float:
        res = simulate(
            drug,
            dose=dose,
            route=route,
            over=over,
            until=f"{t_h} h",
            times_h=grid,
            perturbations=pert,
        )
        score = res.timecourse["hdrs_17_points"].to_numpy()
        return float(score[0] - score[-1])

    return RouteShare(
        drug=drug,
        dose=dose,
        t_h=t_h,
        both=fall(Perturbations()),
        surge_only=fall(Perturbations(rest_route=0.0)),
        rest_only=fall(Perturbations(surge_route=0.0)),
    )
