"""Shared fixtures: a small, valid raw/ tree (real, cited rows) that tests copy and break one cell at a time."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from pipeline import fields as F
from pipeline import paths

REPO = Path(__file__).resolve().parent.parent
FIXTURE_RAW = Path(__file__).resolve().parent / "fixtures" / "raw"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]], header: list[str]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A throwaway project root holding a copy of the fixture raw/ tree; pipeline.paths points at it."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE_RAW, root / "raw")
    shutil.copy(REPO / "VERSION", root / "VERSION")
    (root / "curated").mkdir()
    monkeypatch.setattr(paths, "ROOT", root)
    monkeypatch.setattr(paths, "RAW", root / "raw")
    monkeypatch.setattr(paths, "CURATED", root / "curated")
    monkeypatch.setattr(paths, "FIGURES", root / "figures")
    monkeypatch.setattr(paths, "DATABASE", root / "curated" / "memwall.duckdb")
    monkeypatch.setattr(paths, "LOCK", root / "curated" / ".build.lock")
    return root


def table_header(table: str) -> list[str]:
    return F.TABLES[table].raw_columns
