"""Shared test settings: nothing a test stores may reach the user's own data folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _ketasim_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("ketasim-home")
    monkeypatch.setenv("KETASIM_HOME", str(home))
    return home
