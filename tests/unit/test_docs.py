"""docs/model.md lists every library parameter as the library has it."""

from __future__ import annotations

from pathlib import Path

from ketasim.report.docs import splice

MODEL_MD = Path(__file__).parents[2] / "docs" / "model.md"


def test_model_md_parameter_tables_are_up_to_date() -> None:
    text = MODEL_MD.read_text()
    assert splice(text) == text, "run: .venv/bin/ketasim params --markdown (see report/docs.py)"


def test_every_source_key_is_cited_in_sources_md() -> None:
    import re

    import yaml

    from ketasim.data import drug_names, load_drug, load_mechanism, parameter_rows

    sources = (MODEL_MD.parent / "sources.md").read_text()
    keys = {str(r["source"]) for n in drug_names() for r in parameter_rows(load_drug(n))}
    keys |= {p.source for layer in load_mechanism("human").values() for p in layer.values()}
    scales = yaml.safe_load((MODEL_MD.parents[1] / "src/ketasim/data/scales.yaml").read_text())
    keys |= {s["source"] for s in scales["scales"].values()}
    from ketasim.calibration.fit import study_specs
    from ketasim.population.individual import population_parameters

    pop = yaml.safe_load((MODEL_MD.parents[1] / "src/ketasim/data/population.yaml").read_text())
    keys |= {c["source"] for c in pop["covariates"].values()}
    keys |= {p.source for sec in population_parameters().values() for p in sec.values()}
    keys |= {spec.source for spec in study_specs().values()}
    from ketasim.evidence.schema import read_file
    from ketasim.evidence.store import shipped_files

    keys |= {s.source for f in shipped_files() for s in read_file(f)}
    # a calibrated value cites the calibration run, recorded in data/calibrated/human.yaml
    keys = {k for k in keys if not k.startswith("ketasim-calibrate-")}
    missing = sorted(k for k in keys if not re.search(rf"`{re.escape(k)}`", sources))
    assert not missing, f"docs/sources.md lacks: {missing}"
