"""The evidence file schema: studies, their arms and their outcomes (YAML or CSV).

A study is a published (or a user's own) trial: its design and population, its arms (drug,
route, dose; a comparator is an arm with ``control: true``) and its outcomes, each one arm's
result at one time on one scale: a rate (``k`` of ``n``), a mean change (``mean``, ``sd``,
``n``) or a difference against another arm (``estimate`` with its 95 % CI, and ``vs``).
The YAML form is the record as written here; the CSV form is one row per outcome, the
study's and the arm's columns repeated on each row (a row with no ``endpoint`` only declares
an arm). ``docs/evidence.md`` documents both with examples.

A file is read whole or not at all: the first bad row raises :class:`EvidenceFileError`
naming the file, the row (line), the field and the reason.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ketasim.errors import KetasimInputError
from ketasim.pk.routes import ROUTES
from ketasim.symptoms.scales import SCALES
from ketasim.units import parse_dose, parse_time_h

#: Drugs whose arms are comparators unless an arm says otherwise.
CONTROLS = frozenset({"saline", "midazolam", "placebo"})
#: The outcome ``arm`` of a result the paper gives for its treatment arms together.
POOLED = "pooled"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")

Design = Literal["parallel", "crossover", "single-blind", "open-label", "case-series", "other"]
Diagnosis = Literal["MDD", "BDep", "MDD-and-BDep", "other"]
EndpointKind = Literal["response", "remission", "change", "change_difference"]


class EvidenceFileError(KetasimInputError):
    """A row of an evidence file is invalid; nothing of the file was stored."""

    def __init__(self, file: str, row: int | None, field: str, value: object, reason: str) -> None:
        where = f"{file}" + (f" row {row}" if row is not None else "")
        super().__init__(f"{where}: {field}", value, reason)
        self.file, self.row = file, row


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _slug(value: str, what: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"a {what} is lower-case letters, digits, '.', '+' and '-'")
    return value


class Arm(_Record):
    """One arm: what its patients received."""

    name: str = Field(min_length=1, max_length=60)
    drug: str
    route: str | None = None
    dose: str | None = None
    over: str | None = None
    doses: int | None = Field(default=1, ge=1, le=400)  # None: not reported
    control: bool | None = None

    @field_validator("drug")
    @classmethod
    def _drug(cls, v: str) -> str:
        return _slug(v, "drug name")

    @field_validator("route", "dose", "over", mode="before")
    @classmethod
    def _blank(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("dose")
    @classmethod
    def _dose(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse_dose(v, "dose")
            except KetasimInputError as exc:
                raise ValueError("a dose in mg or mg/kg, e.g. '0.5 mg/kg' or '50 mg'") from exc
        return v

    @field_validator("over")
    @classmethod
    def _over(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                hours = parse_time_h(v, "over")
            except KetasimInputError as exc:
                raise ValueError("a duration, e.g. '40 min'") from exc
            if not 0 <= hours <= 24 * 7:
                raise ValueError("a duration between 0 and 7 days")
        return v

    @field_validator("route")
    @classmethod
    def _route(cls, v: str | None) -> str | None:
        if v is not None and v not in ROUTES:
            raise ValueError(f"a route is one of {', '.join(ROUTES)}")
        return v

    @property
    def is_control(self) -> bool:
        return self.drug in CONTROLS if self.control is None else self.control


class Outcome(_Record):
    """One arm's result at one time (``after`` the first or the final dose)."""

    arm: str
    endpoint: EndpointKind
    time: str | None = None
    after: Literal["first", "final"] = "first"
    scale: str | None = None
    criterion: str = ""
    k: int | None = Field(default=None, ge=0)
    n: int | None = Field(default=None, ge=1, le=1_000_000)
    mean: float | None = None
    sd: float | None = Field(default=None, ge=0)
    vs: str | None = None
    estimate: float | None = None
    lo: float | None = None
    hi: float | None = None
    note: str = ""

    @field_validator("time", "scale", "vs", mode="before")
    @classmethod
    def _blank(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("time")
    @classmethod
    def _time(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                hours = parse_time_h(v, "time")
            except KetasimInputError as exc:
                raise ValueError("a time after the dose, e.g. '24 h' or '7 d'") from exc
            if not 0 <= hours <= 24 * 365 * 5:
                raise ValueError("a time between 0 and 5 years")
        return v

    @field_validator("scale")
    @classmethod
    def _scale(cls, v: str | None) -> str | None:
        if v is not None and v not in SCALES:
            raise ValueError(f"a scale is one of {', '.join(SCALES)}")
        return v

    @model_validator(mode="after")
    def _complete(self) -> Outcome:
        if self.endpoint in ("response", "remission"):
            if self.k is None or self.n is None:
                raise ValueError(f"a {self.endpoint} outcome needs k and n")
            if self.k > self.n:
                raise ValueError(f"k ({self.k}) cannot exceed n ({self.n})")
        elif self.endpoint == "change":
            if self.mean is None or self.sd is None or self.n is None:
                raise ValueError("a change outcome needs mean, sd and n")
        else:
            lo, est, hi = self.lo, self.estimate, self.hi
            if self.vs is None or lo is None or est is None or hi is None:
                raise ValueError("a change_difference outcome needs vs, estimate, lo and hi")
            if not lo <= est <= hi:
                raise ValueError("lo <= estimate <= hi is required")
        return self

    @property
    def time_h(self) -> float | None:
        return None if self.time is None else parse_time_h(self.time, "time")


class Study(_Record):
    """A trial with its arms and outcomes."""

    id: str = Field(min_length=2, max_length=80)
    source: str = ""
    design: Design
    diagnosis: Diagnosis = "MDD"
    trd: bool | None = None
    n_enrolled: int | None = Field(default=None, ge=1)
    overlaps: tuple[str, ...] = ()
    note: str = ""
    arms: tuple[Arm, ...] = Field(min_length=1)
    outcomes: tuple[Outcome, ...] = ()

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _slug(v, "study id")

    @model_validator(mode="after")
    def _links(self) -> Study:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names) or POOLED in names:
            raise ValueError(f"arm names must be unique and not {POOLED!r}, got {names}")
        treated = [a.name for a in self.arms if not a.is_control]
        for o in self.outcomes:
            for ref in (o.arm, o.vs):
                if ref == POOLED and len(treated) < 2:
                    raise ValueError(f"{POOLED!r} needs two or more treatment arms")
                if ref is not None and ref != POOLED and ref not in names:
                    raise ValueError(f"outcome names arm {ref!r}; the arms are {names}")
        if self.id in self.overlaps:
            raise ValueError("a study cannot overlap itself")
        return self

    def arm(self, name: str) -> Arm:
        """An arm by name; ``pooled`` is the treatment arms together (the largest course)."""
        if name == POOLED:
            treated = [a for a in self.arms if not a.is_control]
            most = max(treated, key=lambda a: a.doses or 0)
            return most.model_copy(update={"name": POOLED})
        return next(a for a in self.arms if a.name == name)


# --- reading -------------------------------------------------------------------------------


class _Lines(dict[str, Any]):
    """A YAML mapping that remembers the line it starts on."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Lines:
    out = _Lines({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    out.line = node.start_mark.line + 1
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "study"


def _line_of(raw: Any, loc: tuple[int | str, ...]) -> int | None:
    line = getattr(raw, "line", None)
    node = raw
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        line = getattr(node, "line", line)
    return line


def _validate(file: str, raw: Any, line: int | None) -> Study:
    try:
        return Study.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not str(p).startswith("function-"))
        where = _line_of(raw, loc) if line is None else line
        reason = err["msg"].removeprefix("Value error, ")
        value = err.get("input") if err["type"] != "missing" else "(missing)"
        if isinstance(value, dict):
            value = "{...}"
        raise EvidenceFileError(file, where, _field(loc), value, reason) from None


def read_yaml(path: Path, name: str | None = None) -> list[Study]:
    """The studies of a YAML evidence file (``studies:`` and a list)."""
    file = name or path.name
    try:
        # _LineLoader is a SafeLoader: no code from data
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        raise EvidenceFileError(file, row, "yaml", path.name, f"not valid YAML ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("studies"), list):
        raise EvidenceFileError(file, 1, "studies", type(doc).__name__, "a list of studies")
    return [_validate(file, s, None) for s in doc["studies"]]


STUDY_COLUMNS = (
    "study",
    "source",
    "design",
    "diagnosis",
    "trd",
    "n_enrolled",
    "overlaps",
    "study_note",
)
ARM_COLUMNS = ("arm", "drug", "route", "dose", "over", "doses", "control")
OUTCOME_COLUMNS = (
    "endpoint",
    "time",
    "after",
    "scale",
    "criterion",
    "k",
    "n",
    "mean",
    "sd",
    "vs",
    "estimate",
    "lo",
    "hi",
    "note",
)
CSV_COLUMNS = STUDY_COLUMNS + ARM_COLUMNS + OUTCOME_COLUMNS
_STUDY_KEYS = {"study": "id", "study_note": "note"}
#: A CSV cell for a count the paper does not report (an empty cell means the default).
NOT_REPORTED = "NR"
_UNREPORTED = object()


def _cell(column: str, text: str) -> Any:
    text = text.strip()
    if text == "":
        return None
    if column == "overlaps":
        return tuple(t.strip() for t in text.split(";") if t.strip())
    if column == "doses" and text.upper() == NOT_REPORTED:
        return _UNREPORTED
    if column in ("trd", "control"):
        low = text.lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
    return text


def read_csv(path: Path, name: str | None = None) -> list[Study]:
    """The studies of a CSV evidence file: one row per outcome (see the module docstring)."""
    file = name or path.name
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        unknown = [c for c in header if c not in CSV_COLUMNS]
        if unknown or "study" not in header:
            raise EvidenceFileError(
                file,
                1,
                "header",
                ",".join(unknown) or "(no study column)",
                f"columns are {', '.join(CSV_COLUMNS)} (study and arm required)",
            )
        grouped: dict[str, dict[str, Any]] = {}
        for row in reader:
            line = reader.line_num
            cells = {c: _cell(c, v or "") for c, v in row.items() if c is not None}
            sid = cells.get("study")
            if sid is None:
                raise EvidenceFileError(file, line, "study", "", "every row names its study")
            study = grouped.setdefault(
                sid, {"line": line, "head": {}, "arms": {}, "outcomes": [], "lines": []}
            )
            for c in STUDY_COLUMNS:
                if cells.get(c) is None:
                    continue
                key = _STUDY_KEYS.get(c, c)
                if study["head"].setdefault(key, cells[c]) != cells[c]:
                    raise EvidenceFileError(
                        file,
                        line,
                        c,
                        cells[c],
                        f"differs from this study's first row ({study['head'][key]!r})",
                    )
            arm_name = cells.get("arm")
            if arm_name is None:
                raise EvidenceFileError(file, line, "arm", "", "every row names its arm")
            arm = {
                c if c != "arm" else "name": None if cells[c] is _UNREPORTED else cells[c]
                for c in ARM_COLUMNS
                if cells.get(c) is not None
            }
            if arm_name == POOLED:
                pass  # the treatment arms together: declared by their own rows
            elif arm_name in study["arms"]:
                known = study["arms"][arm_name]
                for c, v in arm.items():
                    if known.setdefault(c, v) != v:
                        raise EvidenceFileError(
                            file,
                            line,
                            c,
                            v,
                            f"differs from arm {arm_name!r} as first given ({known[c]!r})",
                        )
            else:
                study["arms"][arm_name] = arm
            if cells.get("endpoint") is not None:
                out = {c: cells[c] for c in OUTCOME_COLUMNS if cells.get(c) is not None}
                out["arm"] = arm_name
                study["outcomes"].append(out)
                study["lines"].append(line)
    studies = []
    for sid, s in grouped.items():
        raw = {**s["head"], "id": sid, "arms": list(s["arms"].values()), "outcomes": s["outcomes"]}
        try:
            studies.append(Study.model_validate(raw))
        except ValidationError as exc:
            loc = exc.errors()[0]["loc"]
            line = s["line"]
            if len(loc) >= 2 and loc[0] == "outcomes" and isinstance(loc[1], int):
                line = s["lines"][loc[1]]
            _validate(file, raw, line)
    return studies


def read_file(path: Path, name: str | None = None) -> list[Study]:
    """A YAML (``.yaml``/``.yml``) or CSV (``.csv``) evidence file; ids must be unique."""
    file = name or path.name
    suffix = path.suffix.lower()
    if not path.is_file():
        raise EvidenceFileError(file, None, "file", str(path), "an existing YAML or CSV file")
    if suffix in (".yaml", ".yml"):
        studies = read_yaml(path, file)
    elif suffix == ".csv":
        studies = read_csv(path, file)
    else:
        raise EvidenceFileError(file, None, "file", path.suffix, "a .yaml, .yml or .csv file")
    seen: set[str] = set()
    for s in studies:
        if s.id in seen:
            raise EvidenceFileError(file, None, "study", s.id, "study ids must be unique in a file")
        seen.add(s.id)
    return studies


# --- writing -------------------------------------------------------------------------------


def to_mapping(study: Study) -> dict[str, Any]:
    """The study as the YAML form writes it (defaults left out)."""
    out = study.model_dump(exclude_defaults=True, mode="json")
    out["id"] = study.id
    out["design"] = study.design
    out["arms"] = [a.model_dump(exclude_defaults=True, mode="json") for a in study.arms]
    out["outcomes"] = [o.model_dump(exclude_defaults=True, mode="json") for o in study.outcomes]
    return out


def write_yaml(studies: Iterable[Study], path: Path) -> None:
    doc = {"studies": [to_mapping(s) for s in studies]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ";".join(value)
    return str(value)


def write_csv(studies: Iterable[Study], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for s in studies:
            head = {
                "study": s.id,
                "source": s.source,
                "design": s.design,
                "diagnosis": s.diagnosis,
                "trd": s.trd,
                "n_enrolled": s.n_enrolled,
                "overlaps": s.overlaps or None,
                "study_note": s.note or None,
            }
            # the arms first, one row each (a crossover's saline period may have no outcome),
            # then one row per outcome
            arms = {a.name: {"arm": a.name, **a.model_dump(exclude={"name"})} for a in s.arms}
            rows = [{**head, **arm, "doses": arm["doses"] or NOT_REPORTED} for arm in arms.values()]
            rows += [
                {**head, **arms.get(o.arm, {"arm": o.arm}), **o.model_dump(exclude={"arm"})}
                for o in s.outcomes
            ]
            for row in rows:
                w.writerow({c: _text(row.get(c)) for c in CSV_COLUMNS})


def write_file(studies: Iterable[Study], path: Path) -> None:
    """Write ``studies`` as YAML or CSV, by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        write_yaml(studies, path)
    elif suffix == ".csv":
        write_csv(studies, path)
    else:
        raise KetasimInputError("file", path.name, "a .yaml, .yml or .csv file")
