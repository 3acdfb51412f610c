"""Where ketasim keeps what it stores for a user (the evidence base, job records).

``KETASIM_HOME`` when set; else ``$XDG_DATA_HOME/ketasim``; else ``~/.local/share/ketasim``.
"""

from __future__ import annotations

import os
from pathlib import Path


def home_dir() -> Path:
    """The user's ketasim data folder, created if missing."""
    env = os.environ.get("KETASIM_HOME")
    if env:
        path = Path(env).expanduser()
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "ketasim"
    path.mkdir(parents=True, exist_ok=True)
    return path
