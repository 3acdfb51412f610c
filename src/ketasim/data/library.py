"""Loading the drug library (``data/drugs/*.yaml``) safely and with clear errors."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ketasim.data.spec import Drug
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


@lru_cache(maxsize=None)
def load_drug(name: str) -> Drug:
    """The library drug called ``name`` (``ketamine-racemic``, ``esketamine``, ...)."""
    names = drug_names()
    if name not in names:
        raise UnknownNameError("drug", name, names)
    return load_drug_file(_drug_dir() / f"{name}.yaml")
