"""Between-patient variability of the PK: log-normal factors, seeded per patient.

Each patient's draws come from its own generator, seeded by ``(seed, patient_id)``, so a
patient's parameters do not depend on how many patients are simulated, on their order in a
batch, or on the number of workers.
"""

from __future__ import annotations

import numpy as np

from ketasim.data.spec import Variability

#: Factors drawn for each patient, in a fixed order (the order of the draws is part of the seed).
FACTORS: tuple[str, ...] = ("cl", "v", "ka", "f")


def omega(cv: float) -> float:
    """Standard deviation of a log-normal factor with coefficient of variation ``cv``."""
    return float(np.sqrt(np.log1p(cv**2)))


def sample_factors(
    variability: Variability, patient_ids: np.ndarray, seed: int, enabled: bool = True
) -> dict[str, np.ndarray]:
    """Multiplicative factors (median 1) for CL, V, ka and F, one per patient.

    With ``enabled=False`` every factor is 1 (the typical patient).
    """
    n = len(patient_ids)
    out = {name: np.ones(n) for name in FACTORS}
    if not enabled:
        return out
    z = (
        np.stack(
            [
                np.random.default_rng([seed, int(pid)]).standard_normal(len(FACTORS))
                for pid in patient_ids
            ]
        )
        if n
        else np.zeros((0, len(FACTORS)))
    )
    for j, name in enumerate(FACTORS):
        p = getattr(variability, name)
        if p is not None:
            out[name] = np.exp(omega(p.to("dimensionless")) * z[:, j])
    return out
