"""The evidence store: shipped studies, users' files (all or nothing), export round trips,
and a second process holding the DuckDB lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ketasim.cli import main
from ketasim.evidence import store as store_module
from ketasim.evidence.schema import EvidenceFileError, read_file, write_file
from ketasim.evidence.store import EvidenceStore, StoreBusyError, shipped_files

TWO_ARM = textwrap.dedent(
    """\
    studies:
      - id: my-trial-2026
        source: doe-2026
        design: parallel
        diagnosis: MDD
        trd: true
        arms:
          - {name: ketamine, drug: ketamine-racemic, route: iv-infusion, dose: 0.5 mg/kg}
          - {name: saline, drug: saline, route: iv-infusion}
        outcomes:
          - {arm: ketamine, endpoint: response, time: 24 h, scale: MADRS, k: 12, n: 20}
          - {arm: saline, endpoint: response, time: 24 h, scale: MADRS, k: 3, n: 20}
    """
)

CSV = textwrap.dedent(
    """\
    study,design,diagnosis,arm,drug,route,dose,endpoint,time,scale,k,n
    csv-trial-2026,parallel,BDep,esketamine,esketamine,intranasal,56 mg,response,24 h,MADRS,9,18
    csv-trial-2026,parallel,BDep,placebo,saline,intranasal,,response,24 h,MADRS,4,17
    """
)

HOLD_LOCK = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
    "time.sleep({seconds}); c.close()"
)


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence.duckdb")


def _shipped() -> list:
    return [s for f in shipped_files() for s in read_file(f)]


def test_a_new_store_holds_the_shipped_studies(store: EvidenceStore) -> None:
    assert store.studies() == _shipped()
    assert set(store.origins().values()) == {"shipped"}
    check = store.check()
    assert check["orphan_rows"] == 0
    assert check["outcomes"] == sum(len(s.outcomes) for s in _shipped())


def test_the_store_lives_in_ketasim_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETASIM_HOME", str(tmp_path / "elsewhere"))
    assert EvidenceStore().path == tmp_path / "elsewhere" / "evidence.duckdb"


def test_yaml_and_csv_files_are_added(store: EvidenceStore, tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(TWO_ARM)
    (tmp_path / "mine.csv").write_text(CSV)
    assert store.add(tmp_path / "mine.yaml") == ["my-trial-2026"]
    assert store.add(tmp_path / "mine.csv") == ["csv-trial-2026"]
    mine = store.study("csv-trial-2026")
    assert mine.arm("placebo").is_control
    assert [o.k for o in mine.outcomes] == [9, 4]
    assert store.origins()["my-trial-2026"] == "mine.yaml"
    frame = store.outcomes()
    assert set(frame["study"]) >= {"my-trial-2026", "csv-trial-2026", "murrough-2013a"}


@pytest.mark.parametrize(
    ("text", "row", "field"),
    [
        (TWO_ARM.replace("k: 12, n: 20", "k: 25, n: 20"), 11, "outcomes[0]"),
        (TWO_ARM.replace("route: iv-infusion, dose", "route: iv-drip, dose"), 8, "arms[0].route"),
        (
            TWO_ARM.replace("time: 24 h, scale: MADRS, k: 3", "time: soon, scale: MADRS, k: 3"),
            12,
            "outcomes[1].time",
        ),
        (TWO_ARM.replace("design: parallel", "design: randomised"), 2, "design"),
        (TWO_ARM.replace("{arm: saline,", "{arm: placebo,"), 2, "study"),
    ],
)
def test_a_bad_row_names_file_row_and_field(
    store: EvidenceStore, tmp_path: Path, text: str, row: int, field: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(EvidenceFileError) as info:
        store.add(path)
    message = str(info.value)
    assert message.startswith(f"bad.yaml row {row}: {field}"), message
    assert info.value.row == row


def test_a_bad_csv_row_names_its_line(store: EvidenceStore, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(CSV.replace(",9,18", ",19,18"))
    with pytest.raises(EvidenceFileError, match=r"^bad\.csv row 2: outcomes\[0\]"):
        store.add(path)


def test_a_file_with_one_bad_study_changes_nothing(store: EvidenceStore, tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(TWO_ARM)
    store.add(tmp_path / "good.yaml")
    before = (store.studies(), store.origins())
    second = TWO_ARM.replace("my-trial-2026", "second-2026").replace("k: 3, n: 20", "k: 3, n: 0")
    mixed = TWO_ARM.replace("my-trial-2026", "first-ok-2026") + second.split("studies:\n", 1)[1]
    (tmp_path / "mixed.yaml").write_text(mixed)
    with pytest.raises(EvidenceFileError):
        store.add(tmp_path / "mixed.yaml")
    assert (store.studies(), store.origins()) == before


def test_a_failure_inside_the_transaction_rolls_back(
    store: EvidenceStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is valid, but the database fails half-way: nothing of it stays."""
    two = TWO_ARM + TWO_ARM.split("studies:\n", 1)[1].replace("my-trial-2026", "other-2026")
    (tmp_path / "two.yaml").write_text(two)
    store.studies()
    before = store.studies()
    calls = []
    real = store_module._insert

    def failing(con, s, origin):  # type: ignore[no-untyped-def]
        calls.append(s.id)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real(con, s, origin)

    monkeypatch.setattr(store_module, "_insert", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        store.add(tmp_path / "two.yaml")
    monkeypatch.setattr(store_module, "_insert", real)
    assert store.studies() == before


def test_ids_are_not_overwritten_unless_asked(store: EvidenceStore, tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(TWO_ARM)
    store.add(path)
    with pytest.raises(EvidenceFileError, match="already stored"):
        store.add(path)
    path.write_text(TWO_ARM.replace("k: 12", "k: 13"))
    store.add(path, replace=True)
    assert store.study("my-trial-2026").outcomes[0].k == 13
    shipped = tmp_path / "shipped.yaml"
    shipped.write_text(TWO_ARM.replace("my-trial-2026", "murrough-2013a"))
    with pytest.raises(EvidenceFileError, match="shipped studies are read-only"):
        store.add(shipped, replace=True)
    store.remove("my-trial-2026")
    assert "my-trial-2026" not in store.origins()


@pytest.mark.parametrize("suffix", [".yaml", ".csv"])
def test_export_then_import_is_the_identity(
    store: EvidenceStore, tmp_path: Path, suffix: str
) -> None:
    (tmp_path / "mine.yaml").write_text(TWO_ARM)
    store.add(tmp_path / "mine.yaml")
    out = tmp_path / f"export{suffix}"
    write_file(store.studies(), out)
    back = read_file(out)
    assert back == store.studies()
    fresh = EvidenceStore(tmp_path / "fresh.duckdb")
    mine = tmp_path / f"mine-only{suffix}"
    write_file([s for s in back if s.id == "my-trial-2026"], mine)
    fresh.add(mine)
    assert fresh.study("my-trial-2026") == store.study("my-trial-2026")


def test_the_store_waits_for_another_process_lock(store: EvidenceStore) -> None:
    store.studies()  # create it
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLD_LOCK.format(seconds=1.5),
            str(store.path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    t0 = time.monotonic()
    fresh = EvidenceStore(store.path)  # a second user (the CLI beside the service)
    assert len(fresh.studies()) == len(_shipped())
    assert time.monotonic() - t0 > 0.5  # it waited for the lock instead of failing
    holder.wait(timeout=30)


def test_a_lock_held_too_long_is_a_clear_error(
    store: EvidenceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.studies()
    monkeypatch.setattr(store_module, "LOCK_WAIT_S", 0.3)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLD_LOCK.format(seconds=3),
            str(store.path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    holder.stdout.readline()
    with pytest.raises(StoreBusyError, match="stayed locked by another process"):
        EvidenceStore(store.path).studies()
    holder.wait(timeout=30)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_add_list_show_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    (tmp_path / "mine.yaml").write_text(TWO_ARM)
    code, out, err = _run(["evidence", "add", str(tmp_path / "mine.yaml")], capsys)
    assert code == 0, err
    code, out, _ = _run(["evidence", "list", "--diagnosis", "MDD", "--json"], capsys)
    rows = json.loads(out)
    assert "my-trial-2026" in {r["id"] for r in rows}
    assert all(r["diagnosis"] == "MDD" for r in rows)
    code, out, _ = _run(["evidence", "show", "my-trial-2026", "--json"], capsys)
    assert json.loads(out)["outcomes"][0]["k"] == 12
    code, _, err = _run(
        ["evidence", "export", str(tmp_path / "user.csv"), "--origin", "user"], capsys
    )
    assert code == 0, err
    assert [s.id for s in read_file(tmp_path / "user.csv")] == ["my-trial-2026"]


def test_cli_bad_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text(TWO_ARM.replace("k: 12", "k: -1"))
    code, _, err = _run(["evidence", "add", str(tmp_path / "bad.yaml")], capsys)
    assert code == 2
    assert err.strip().count("\n") == 0
    assert err.startswith("error: bad.yaml row 11: outcomes[0].k: got -1;")
    code, _, err = _run(["evidence", "show", "nope"], capsys)
    assert code == 2
    assert "study: got 'nope'" in err


def test_cli_meta_json_without_prediction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    code, out, err = _run(
        [
            "evidence",
            "meta",
            "--endpoint",
            "response",
            "--time",
            "24h",
            "--course",
            "single",
            "--no-predict",
            "--json",
            "--plot",
            str(tmp_path / "forest.png"),
        ],
        capsys,
    )
    assert code == 0, err
    doc = json.loads(out)
    assert {"k_studies", "pooled", "i2", "tau2", "predicted", "studies"} <= set(doc)
    assert doc["k_studies"] == 6
    assert set(doc["pooled"]) == {"estimate", "lo", "hi"}
    assert (tmp_path / "forest.png").read_bytes()[:4] == b"\x89PNG"
