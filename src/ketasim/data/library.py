"""Loading the drug library (``data/drugs/*.yaml``) safely and with clear errors."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ketasim.data.spec import Drug, Parameter
from ketasim.errors import DataError, UnknownNameError

#: Species ketasim simulates, with the default body weight in kg.
SPECIES: dict[str, float] = {"human": 70.0, "mouse": 0.025, "rat": 0.25}


def _drug_dir() -> Path:
    return Path(str(resources.files("ketasim.data") / "drugs"))


def drug_names() -> list[str]:
    """Names of the drugs in the library, sorted."""
    return sorted(p.stem for p in _drug_dir().glob("*.yaml"))


def load_drug_file(path: Path) -> Drug:
    """Read and validate one drug file; raise :class:`DataError` naming the file and field."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(f"{path.name}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise DataError(f"{path.name}: a drug file must be a mapping")
    try:
        drug = Drug.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DataError(f"{path.name}: {where}: {first['msg']}") from exc
    if drug.name != path.stem:
        raise DataError(f"{path.name}: name {drug.name!r} must match the file name")
    return drug


@cache
def load_drug(name: str) -> Drug:
    """The library drug called ``name`` (``ketamine-racemic``, ``esketamine``, ...)."""
    names = drug_names()
    if name not in names:
        raise UnknownNameError("drug", name, names)
    return load_drug_file(_drug_dir() / f"{name}.yaml")


def parameter_rows(drug: Drug) -> list[dict[str, object]]:
    """Every parameter of a drug file as a flat row: path, value, unit, kind, source, reason."""
    from ketasim.data.spec import DoseTable, Parameter

    rows: list[dict[str, object]] = []

    def walk(obj: object, path: str) -> None:
        if isinstance(obj, Parameter):
            rows.append(
                {
                    "drug": drug.name,
                    "parameter": path,
                    "value": obj.value,
                    "unit": obj.unit,
                    "kind": obj.kind,
                    "source": obj.source,
                    "description": obj.description,
                    "reason": obj.reason or "",
                }
            )
        elif isinstance(obj, DoseTable):
            pairs = ", ".join(
                f"{d:g} mg: {v:g}" for d, v in zip(obj.dose_mg, obj.value, strict=True)
            )
            rows.append(
                {
                    "drug": drug.name,
                    "parameter": path,
                    "value": pairs,
                    "unit": "dimensionless (by dose)",
                    "kind": obj.kind,
                    "source": obj.source,
                    "description": obj.description,
                    "reason": obj.reason or "",
                }
            )
        elif isinstance(obj, dict):
            for key, val in obj.items():
                walk(val, f"{path}.{key}" if path else str(key))
        elif isinstance(obj, BaseModel):
            for key in type(obj).model_fields:
                walk(getattr(obj, key), f"{path}.{key}" if path else key)

    walk(drug, "")
    return rows


@cache
def load_mechanism(
    species: str = "human", calibrated: bool = True
) -> dict[str, dict[str, Parameter]]:
    """Mechanism parameters by layer (``data/mechanism/<species>.yaml``).

    A species file may start with ``inherits: <species>`` and list only what differs (the
    rodent files keep the human cascade and change the behavioural readout). The calibrated
    clinical-link parameters (``data/calibrated/human.yaml``) replace their human values; a
    rodent inherits the uncalibrated human file, because what the calibration fits links the
    cascade to rating scales and placebo, which a forced-swim readout does not have.
    """
    folder = Path(str(resources.files("ketasim.data") / "mechanism"))
    path = folder / f"{species}.yaml"
    if not path.is_file():
        raise DataError(f"no mechanism file for species {species!r} in {folder}")
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    parent = raw.pop("inherits", None)
    out: dict[str, dict[str, Parameter]] = (
        {k: dict(v) for k, v in load_mechanism(parent, calibrated=False).items()} if parent else {}
    )
    for layer, params in raw.items():
        try:
            parsed = {k: Parameter.model_validate(v) for k, v in params.items()}
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise DataError(f"{path.name}: {layer}.{where}: {first['msg']}") from exc
        out.setdefault(layer, {}).update(parsed)
    if calibrated and not parent:
        for layer, params in load_calibration().items():
            if layer in out:
                out[layer].update(params)
    return out


#: The calibrated parameter set (written by ``ketasim calibrate``).
CALIBRATION_FILE = "calibrated/human.yaml"


def calibration_path() -> Path:
    return Path(str(resources.files("ketasim.data") / CALIBRATION_FILE))


@cache
def load_calibration_run() -> dict[str, Any]:
    """The record of the calibration run (``run``: command, seed, date, objective, fit per
    target, profiles) and its ``posterior`` sample; empty before the first calibration."""
    path = calibration_path()
    if not path.is_file():
        return {}
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {"run": raw.get("run") or {}, "posterior": raw.get("posterior") or []}


@cache
def load_calibration() -> dict[str, dict[str, Parameter]]:
    """The calibrated parameters by section (``symptoms``, ``synapse``, ``population``), or
    nothing before the first calibration. They replace the same names in the mechanism and
    population files; the file also records the run that set them (``run``)."""
    path = calibration_path()
    if not path.is_file():
        return {}
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, dict[str, Parameter]] = {}
    for section, params in (raw.get("parameters") or {}).items():
        try:
            out[section] = {k: Parameter.model_validate(v) for k, v in params.items()}
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise DataError(f"{path.name}: {section}.{where}: {first['msg']}") from exc
    return out
