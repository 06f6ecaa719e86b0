"""Where things are: the repository's folders, resolved from this file so any working directory works."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("MEMWALL_ROOT", Path(__file__).resolve().parent.parent))
RAW = ROOT / "raw"
CURATED = ROOT / "curated"
FIGURES = ROOT / "figures"
DOCS = ROOT / "docs"
FONTS = Path(__file__).resolve().parent / "fonts"
DATABASE = CURATED / "memwall.duckdb"
LOCK = CURATED / ".build.lock"


def dataset_version() -> str:
    """The dataset version (date-based, e.g. 2026.11.0), read from the VERSION file."""
    return (ROOT / "VERSION").read_text(encoding="utf-8").strip()
