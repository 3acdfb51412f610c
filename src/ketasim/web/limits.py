"""The service's limits: what one request or one job may ask for.

Each limit has a default, an environment variable that replaces it when the service starts,
and a keyword of :func:`ketasim.web.app.create_app` that replaces both. A request beyond a
limit gets HTTP 422 (413 for the body size) with one sentence that names the field, the value,
the limit and how to raise it.

=======================  ==================================  ==========  ===================
limit                    environment variable                default     what it bounds
=======================  ==================================  ==========  ===================
``max_patients``         ``KETASIM_WEB_MAX_PATIENTS``        1000        patients per simulate
``max_days``             ``KETASIM_WEB_MAX_DAYS``            180         simulated duration
``max_replicates``       ``KETASIM_WEB_MAX_REPLICATES``      200         replicates per trial
``max_trial_patients``   ``KETASIM_WEB_MAX_TRIAL_PATIENTS``  50000       replicates x size
``max_body_bytes``       ``KETASIM_WEB_MAX_BODY_BYTES``      1000000     request body (413)
``job_timeout_s``        ``KETASIM_WEB_JOB_TIMEOUT_S``       1800        seconds per job
``job_workers``          ``KETASIM_WEB_JOB_WORKERS``         1           jobs run at once
``simulate_workers``     ``KETASIM_WEB_SIMULATE_WORKERS``    1 [#]_      simulate processes
=======================  ==================================  ==========  ===================

.. [#] 1: simulate requests run in the service's own threads (one core, under the GIL);
   more: in a pool of that many processes. ``ketasim serve`` uses one per CPU core.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

from ketasim.errors import KetasimInputError

#: Environment variable of each limit.
ENV: dict[str, str] = {
    "max_patients": "KETASIM_WEB_MAX_PATIENTS",
    "max_days": "KETASIM_WEB_MAX_DAYS",
    "max_replicates": "KETASIM_WEB_MAX_REPLICATES",
    "max_trial_patients": "KETASIM_WEB_MAX_TRIAL_PATIENTS",
    "max_body_bytes": "KETASIM_WEB_MAX_BODY_BYTES",
    "job_timeout_s": "KETASIM_WEB_JOB_TIMEOUT_S",
    "job_workers": "KETASIM_WEB_JOB_WORKERS",
    "simulate_workers": "KETASIM_WEB_SIMULATE_WORKERS",
}


class LimitError(KetasimInputError):
    """A request asks for more than a limit of the service allows.

    Parameters
    ----------
    field
        The request field (``n_patients``, ``until``, ``replicates``, ``body``).
    value
        The value received.
    limit
        The name of the limit (``max_patients``...).
    bound
        The limit's value, in words with its unit ("1000 patients").
    """

    def __init__(self, field: str, value: object, limit: str, bound: str) -> None:
        self.limit = limit
        self.bound = bound
        how = f"start the service with {ENV[limit]}=... or create_app({limit}=...) to raise it"
        super().__init__(field, value, f"at most {bound} (the service's limit {limit}; {how})")


@dataclass(frozen=True)
class Limits:
    """What one request or job of the service may ask for (module docstring: the table)."""

    max_patients: int = 1000
    max_days: float = 180.0
    max_replicates: int = 200
    max_trial_patients: int = 50_000
    max_body_bytes: int = 1_000_000
    job_timeout_s: float = 1800.0
    job_workers: int = 1
    simulate_workers: int = 1

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not value > 0:
                raise KetasimInputError(f.name, value, "a number above 0")

    @classmethod
    def resolve(cls, **given: float | int | None) -> Limits:
        """The defaults, replaced by the environment, replaced by ``given`` (None: not given)."""
        out = cls()
        types = {f.name: type(getattr(out, f.name)) for f in fields(cls)}
        changes: dict[str, Any] = {}
        for name, kind in types.items():
            text = os.environ.get(ENV[name])
            if text is not None and text.strip():
                try:
                    changes[name] = kind(float(text)) if kind is int else float(text)
                except ValueError:
                    raise KetasimInputError(ENV[name], text, "a number above 0") from None
            value = given.pop(name, None)
            if value is not None:
                changes[name] = value
        if given:
            unknown = sorted(given)[0]
            raise KetasimInputError(unknown, given[unknown], f"one of {', '.join(types)}")
        return replace(out, **changes)

    def check_patients(self, field: str, n: int) -> None:
        if n > self.max_patients:
            raise LimitError(field, n, "max_patients", f"{self.max_patients} patients")

    def check_duration(self, field: str, text: str, hours: float) -> None:
        if hours > self.max_days * 24.0:
            raise LimitError(field, text, "max_days", f"{self.max_days:g} days")

    def check_replicates(self, field: str, n: int) -> None:
        if n > self.max_replicates:
            raise LimitError(field, n, "max_replicates", f"{self.max_replicates} replicates")

    def check_trial_patients(self, field: str, replicates: int, size: int) -> None:
        total = replicates * size
        if total > self.max_trial_patients:
            bound = f"{self.max_trial_patients} virtual patients per job (replicates x size)"
            raise LimitError(field, f"{replicates} x {size}", "max_trial_patients", bound)


__all__ = ["ENV", "LimitError", "Limits"]
