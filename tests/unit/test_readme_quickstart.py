"""Every command of the README's quick start runs as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ketasim.cli import main

README = (Path(__file__).parents[2] / "README.md").read_text()


def _shell_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip().startswith(".venv/bin/ketasim")
    ]


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_quickstart_commands() -> None:
    assert len(_shell_commands()) >= 5
    assert _python_blocks()


@pytest.mark.parametrize("command", _shell_commands())
def test_readme_command_runs(
    command: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # files the commands write land in a scratch folder
    argv = shlex.split(command)[1:]
    assert main(argv) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip()


@pytest.mark.parametrize("block", _python_blocks())
def test_readme_python_runs(block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)  # the README's own example code
    assert (tmp_path / "ketamine.parquet").is_file()
