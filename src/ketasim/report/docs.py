"""Generated parts of the documentation: the parameter tables of docs/model.md.

``docs/model.md`` holds the block between ``<!-- parameters:begin -->`` and
``<!-- parameters:end -->`` exactly as :func:`parameter_markdown` writes it; a test checks that
it is up to date, and ``ketasim params --markdown`` prints it.
"""

from __future__ import annotations

from ketasim.data import drug_names, load_drug, load_mechanism, parameter_rows
from ketasim.data.spec import Parameter
from ketasim.population.individual import population_parameters

BEGIN = "<!-- parameters:begin -->"
END = "<!-- parameters:end -->"


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def parameter_markdown() -> str:
    """Markdown tables of every library parameter: value, unit, kind, source and reason."""
    lines: list[str] = []
    for name in drug_names():
        drug = load_drug(name)
        rows = parameter_rows(drug)
        lines += [f"### {drug.display_name} (`{name}`)", ""]
        if not rows:
            lines += ["No parameters (a comparator without drug).", ""]
            continue
        lines += _table(rows)
    for layer, params in load_mechanism("human").items():
        lines += [f"### Mechanism: {layer}", ""]
        lines += _table([mechanism_row(layer, name, p) for name, p in params.items()])
    for section, params in population_parameters().items():
        lines += [f"### Population: {section}", ""]
        lines += _table([mechanism_row(section, name, p) for name, p in params.items()])
    return "\n".join([BEGIN, "", *lines, END])


def mechanism_row(layer: str, name: str, p: Parameter) -> dict[str, object]:
    """A mechanism parameter as a row like :func:`ketasim.data.parameter_rows` gives."""
    return {
        "parameter": f"{layer}.{name}",
        "value": p.value,
        "unit": p.unit,
        "kind": p.kind,
        "source": p.source,
        "description": p.description,
        "reason": p.reason or "",
    }


def _table(rows: list[dict[str, object]]) -> list[str]:
    lines = [
        "| parameter | value | unit | kind | source | description / reason |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        note = str(r["description"])
        if r["reason"]:
            note = f"{note}; why: {r['reason']}" if note else f"why: {r['reason']}"
        cells = (r["parameter"], r["value"], r["unit"], r["kind"], r["source"], note)
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    lines.append("")
    return lines


def splice(document: str) -> str:
    """``document`` with its generated parameter block replaced by the current one."""
    start, end = document.index(BEGIN), document.index(END) + len(END)
    return document[:start] + parameter_markdown() + document[end:]
