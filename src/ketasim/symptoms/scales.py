"""Rating scales as weighted readings of the latent symptom dimensions (``data/scales.yaml``).

Response is a fall of at least 50 % from baseline on the same scale; remission is the scale's
threshold (HDRS-17 <= 7, MADRS < 10, HAM-D6 <= 4, ...).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Scale:
    """One rating scale: range, remission threshold, dimension weights, measurement error."""

    name: str
    max_score: float
    remission_operator: str
    remission_value: float
    weights: Mapping[str, float]
    measurement_error_sd: float
    source: str

    def score(self, severity: Mapping[str, np.ndarray]) -> np.ndarray:
        """Expected score (no measurement error) from latent severities in [0, 1]."""
        total = sum(w * np.asarray(severity[d]) for d, w in self.weights.items())
        return self.max_score * np.clip(total, 0.0, 1.0)

    def remitted(self, score: np.ndarray) -> np.ndarray:
        return np.asarray(_OPS[self.remission_operator](score, self.remission_value), dtype=bool)

    @staticmethod
    def responded(score: np.ndarray, baseline: np.ndarray) -> np.ndarray:
        return np.asarray(score <= 0.5 * np.asarray(baseline), dtype=bool)


@lru_cache(maxsize=1)
def load_scales() -> dict[str, Scale]:
    """The scales of ``data/scales.yaml`` (validated: weights add up to 1)."""
    path = Path(str(resources.files("ketasim.data") / "scales.yaml"))
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["scales"]
    out = {}
    for name, s in raw.items():
        total = sum(s["weights"].values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"scales.yaml: {name} weights add up to {total}, not 1")
        out[name] = Scale(
            name=name,
            max_score=float(s["max_score"]),
            remission_operator=s["remission"]["operator"],
            remission_value=float(s["remission"]["value"]),
            weights=dict(s["weights"]),
            measurement_error_sd=float(s["measurement_error_sd"]),
            source=s["source"],
        )
    return out


SCALES: tuple[str, ...] = tuple(load_scales())


def scale_scores(severity: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every scale's expected score from latent severities."""
    return {name: scale.score(severity) for name, scale in load_scales().items()}
