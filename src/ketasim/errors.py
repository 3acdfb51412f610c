"""The one exception tree of ketasim.

Every error a user can cause is a :class:`KetasimInputError`: one sentence that names the
field, the value received and what is allowed. The CLI prints it as ``error: ...`` and exits
with status 2; the web service maps it to HTTP 422. Anything else reaching a user is a bug.

::

    KetasimError
    ├── KetasimInputError            bad input from a user (exit 2 / HTTP 422)
    │   ├── UnitError                unparseable quantity or wrong dimension
    │   ├── UnknownNameError         unknown drug, route, species, analyte ...
    │   └── RegimenError             doses, schedules, infusions that make no sense
    ├── DataError                    a shipped or user data file (drug library) is invalid
    └── SolverError                  the integrator failed (carries per-patient status)
"""

from __future__ import annotations

from collections.abc import Iterable


class KetasimError(Exception):
    """Base class of every ketasim error.

    Errors survive pickling with their fields (a Dask worker or a process pool sends them
    back to the caller): an exception is rebuilt from its message and attributes, never by
    calling ``__init__`` with the message as if it were the first field.
    """

    def __reduce__(self) -> tuple[object, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[KetasimError], args: tuple[object, ...], state: dict[str, object]) -> object:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class KetasimInputError(KetasimError, ValueError):
    """A user's input is invalid.

    Parameters
    ----------
    field
        The name of the input, as the user wrote it (``--dose``, ``dose``, ``schedule``).
    value
        The value received.
    allowed
        What would have been accepted, in words.
    """

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        # one line, whatever a user typed into a field name or a value
        message = f"{field}: got {value!r}; {allowed}"
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))


class UnitError(KetasimInputError):
    """A quantity could not be parsed, or has the wrong dimension."""


class UnknownNameError(KetasimInputError):
    """A name (drug, route, species, analyte) is not one ketasim knows."""

    def __init__(self, field: str, value: object, known: Iterable[str]) -> None:
        names = ", ".join(sorted(known))
        super().__init__(field, value, f"allowed: {names}")


class RegimenError(KetasimInputError):
    """A dose, schedule or infusion is invalid."""


class DataError(KetasimError):
    """A data file (drug library, golden data, event table) is invalid."""


class SolverError(KetasimError):
    """The ODE solver failed; ``message`` says for which patients and how to fix it."""
