"""Validated, frozen specifications of the data files (drug library).

A parameter in a data file is one annotated line::

    cl: {value: 79, unit: L/h, description: clearance, source: kamp-2020, kind: literature}

and loads into a :class:`Parameter` that checks its unit with pint, its kind, and that an
``assumed`` parameter says why. Specs are frozen pydantic models: change them with
``spec.replace(...)``-style verbs (``model_copy(update=...)``) that return new objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ketasim.units import registry

Kind = Literal["literature", "calibrated", "assumed", "derived"]


class Frozen(BaseModel):
    """Base of every spec: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Parameter(Frozen):
    """One model parameter with its unit and provenance.

    ``kind`` is ``literature`` (read from ``source``), ``derived`` (computed from literature
    values; ``reason`` says how), ``calibrated`` (set by a calibration run named in ``source``)
    or ``assumed`` (no measurement fixes it; ``reason`` says why this value).
    """

    value: float
    unit: str
    source: str = Field(min_length=1)
    kind: Kind
    description: str = ""
    reason: str | None = None
    confidence: Literal["H", "M", "L", "D"] | None = None

    @field_validator("unit")
    @classmethod
    def _unit_parses(cls, unit: str) -> str:
        try:
            registry().Unit(unit)
        except Exception as exc:
            raise ValueError(f"unit {unit!r} is not a unit pint can read") from exc
        return unit

    @model_validator(mode="after")
    def _reason_when_needed(self) -> Parameter:
        if self.kind in ("assumed", "derived") and not self.reason:
            raise ValueError(f"a parameter of kind {self.kind!r} needs a 'reason'")
        return self

    def to(self, unit: str) -> float:
        """The value converted to ``unit`` (raises if the dimensions differ)."""
        q = registry().Quantity(self.value, self.unit)
        return float(q.to(unit).magnitude)

    def is_per_kg(self) -> bool:
        """True when the unit is per kg of body weight (``L/kg``, ``L/h/kg``)."""
        items = registry().Quantity(1.0, self.unit).unit_items()
        return any(name == "kilogram" and exp.real < 0 for name, exp in items)


class DoseTable(Frozen):
    """A quantity that depends on dose, read from a table and interpolated linearly.

    Outside the table the end values hold (no extrapolation).
    """

    dose_mg: tuple[float, ...]
    value: tuple[float, ...]
    source: str = Field(min_length=1)
    kind: Kind
    description: str = ""
    reason: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> DoseTable:
        if len(self.dose_mg) != len(self.value) or len(self.dose_mg) < 1:
            raise ValueError("dose_mg and value must have the same, non-zero length")
        if any(b <= a for a, b in zip(self.dose_mg, self.dose_mg[1:], strict=False)):
            raise ValueError("dose_mg must increase strictly")
        if not all(0.0 < v <= 1.0 for v in self.value):
            raise ValueError("a bioavailability must lie in (0, 1]")
        return self


class Bioavailability(Frozen):
    """The systemic fraction of an extravascular route: a constant, or a function of dose.

    ``readings`` keeps other published readings beside the default (``default`` names it).
    """

    default: str
    readings: dict[str, Parameter | DoseTable]

    @model_validator(mode="after")
    def _default_exists(self) -> Bioavailability:
        if self.default not in self.readings:
            raise ValueError(f"default reading {self.default!r} is not among {list(self.readings)}")
        return self


class Pathway(Frozen):
    """One way a dose reaches the body from an extravascular site.

    ``share`` is the share of the route's systemic parent fraction F that this pathway
    delivers (the shares of a route add up to 1). The depot empties with rate ``ka``, after an
    optional lag and zero-order transfer ``duration``. ``first_pass_metabolite`` is the
    fraction of the dose (as parent mass) that this pathway turns into the metabolite before
    it reaches the systemic circulation (hepatic first pass of swallowed or portal drug).
    """

    share: Parameter
    ka: Parameter
    lag: Parameter | None = None
    duration: Parameter | None = None
    first_pass_metabolite: Parameter | None = None


class RouteSpec(Frozen):
    """An extravascular route: its bioavailability and the pathways that carry it."""

    bioavailability: Bioavailability
    pathways: dict[str, Pathway]
    max_duration: Parameter | None = None

    @model_validator(mode="after")
    def _shares_add_up(self) -> RouteSpec:
        total = sum(p.share.value for p in self.pathways.values())
        if self.pathways and abs(total - 1.0) > 1e-3:
            raise ValueError(f"pathway shares must add up to 1, they add up to {total}")
        return self


class Disposition(Frozen):
    """Mammillary disposition after the drug reaches the central (arterial) compartment.

    Volumes in L (per reference weight, scaled by weight) or L/kg; clearances in L/h or
    L/h/kg. ``v3``/``q3`` are absent in two-compartment models, ``v2``/``q2`` in one-compartment
    models. ``k_venous`` is the equilibration rate of the venous sampling site with arterial
    plasma (absent: venous equals arterial). ``ke0`` links the brain effect site.
    ``kp_brain`` is the brain-tissue to plasma ratio at equilibrium (rodent tissue data).
    """

    v1: Parameter
    cl: Parameter
    v2: Parameter | None = None
    q2: Parameter | None = None
    v3: Parameter | None = None
    q3: Parameter | None = None
    k_venous: Parameter | None = None
    ke0: Parameter
    kp_brain: Parameter | None = None

    @model_validator(mode="after")
    def _pairs(self) -> Disposition:
        for v, q in (("v2", "q2"), ("v3", "q3")):
            if (getattr(self, v) is None) != (getattr(self, q) is None):
                raise ValueError(f"{v} and {q} must be given together")
        if self.v3 is not None and self.v2 is None:
            raise ValueError("v3 needs v2")
        return self


class Variability(Frozen):
    """Between-patient variability: coefficients of variation of log-normal factors."""

    cl: Parameter | None = None
    v: Parameter | None = None
    ka: Parameter | None = None
    f: Parameter | None = None


class SpeciesPk(Frozen):
    """A drug's pharmacokinetics in one species.

    ``sampling`` is the blood that ``plasma`` reports. With ``disposition.k_venous`` the
    central compartment is arterial and venous blood lags it; without it, a ``venous`` model
    was fitted to venous samples and its central compartment is the venous site.
    """

    reference_weight_kg: float = Field(gt=0)
    sampling: Literal["venous", "arterial"] = "venous"
    disposition: Disposition
    fm: Parameter | None = None
    metabolite_disposition: Disposition | None = None
    routes: dict[str, RouteSpec] = Field(default_factory=dict)
    intravenous_routes: tuple[str, ...] = ("iv-infusion", "iv-bolus")
    anesthetic_dose_mg_per_kg: Parameter | None = None
    variability: Variability = Variability()


class Drug(Frozen):
    """A drug of the library (one YAML file in ``data/drugs``)."""

    name: str
    display_name: str
    description: str
    analyte: str
    metabolite_analyte: str | None = None
    mw: Parameter | None = None
    metabolite: str | None = None
    species: dict[str, SpeciesPk] = Field(default_factory=dict)
    pharmacology: dict[str, Parameter] = Field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def is_placebo(self) -> bool:
        """True for saline: a comparator with no drug."""
        return not self.species

    def replace(self, name: str | None = None, /, **values: float | None) -> Drug:
        """A new drug with changed receptor pharmacology (the PK is left as it is).

        ``drug.replace(ki_um=0.3)`` sets one value in the unit the file gives (or the unit
        the name promises, :func:`unit_from_name`; ``kon`` in 1/M/s, ``koff`` in 1/s); a
        value of ``None`` removes the parameter. Changed values are marked ``assumed`` (a
        virtual compound). ``name`` renames the drug (default ``<name>-virtual`` when
        anything changes).
        """
        ph: dict[str, Parameter] = dict(self.pharmacology)
        for key, value in values.items():
            if value is None:
                ph.pop(key, None)
                continue
            unit = ph[key].unit if key in ph else _PHARMACOLOGY_UNITS.get(key, unit_from_name(key))
            ph[key] = Parameter(
                value=float(value),
                unit=unit,
                source="virtual",
                kind="assumed",
                description=f"{key} of a virtual compound based on {self.name}",
                reason=f"virtual compound: {self.name} with receptor properties changed",
            )
        return self.with_pharmacology(ph, name)

    def with_pharmacology(self, pharmacology: Mapping[str, Parameter], name: str | None) -> Drug:
        """A new drug with this drug's PK and the receptor ``pharmacology`` given (``name``:
        default ``<name>-virtual`` when the pharmacology differs)."""
        ph = dict(pharmacology)
        changed = ph != self.pharmacology
        new_name = name if name is not None else f"{self.name}-virtual" if changed else self.name
        return self.model_copy(update={"name": new_name, "pharmacology": ph})


#: Units of pharmacology parameters whose names do not say them.
_PHARMACOLOGY_UNITS: dict[str, str] = {"kon": "1/M/s", "koff": "1/s"}


def unit_from_name(name: str) -> str:
    """The internal unit a parameter's name promises: ``*_per_h`` 1/h, ``*_h`` hours, ``*_mv``
    mV, ``*_um`` uM, ``*_ng_per_ml`` ng/mL; anything else is dimensionless."""
    for suffix, unit in (
        ("_per_h", "1/h"),
        ("_h", "h"),
        ("_mv", "mV"),
        ("_um", "uM"),
        ("_ng_per_ml", "ng/mL"),
    ):
        if name.endswith(suffix):
            return unit
    return "dimensionless"


def field_values(names: Iterable[str], spec: Mapping[str, Parameter]) -> dict[str, float]:
    """Values of the named parameters in the units their names promise (for layer params)."""
    return {name: spec[name].to(unit_from_name(name)) for name in names}
