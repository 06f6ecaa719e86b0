"""A stage whose inputs are unchanged is skipped; an edited note rebuilds only what stores notes; anything else
that changes, or an output touched by hand, runs the stage again."""

from __future__ import annotations

import pandas as pd
from conftest import read_rows, table_header, write_rows

from pipeline import build, paths


def run(capsys, *stages: str) -> str:
    assert build.run(list(stages)) == 0
    return capsys.readouterr().err


def edit(root, column: str, text: str) -> None:
    path = root / "raw" / "accelerators" / "nvidia.csv"
    rows = read_rows(path)
    rows[0][column] = text
    write_rows(path, rows, table_header("accelerators"))


def test_notes_rebuild_what_stores_them_and_skip_the_rest(project, capsys, monkeypatch):
    monkeypatch.delenv("MEMWALL_NO_SKIP", raising=False)
    monkeypatch.delenv("MEMWALL_FIGURES", raising=False)
    first = run(capsys, "ingest", "bounds")
    assert "skipped" not in first
    again = run(capsys, "ingest", "bounds")
    assert "ingest    skipped" in again and "bounds    skipped" in again

    edit(project, "notes", "An edited note.")
    noted = run(capsys, "ingest", "bounds")
    assert "ingest    skipped" not in noted  # the tables store the note
    assert "bounds    skipped" in noted  # the grid does not read it
    assert "An edited note." in set(pd.read_parquet(paths.CURATED / "accelerators.parquet")["notes"])

    edit(project, "tdp", "650 W")
    valued = run(capsys, "ingest", "bounds")
    assert "skipped" not in valued


def test_an_output_changed_by_hand_is_rebuilt(project, capsys, monkeypatch):
    monkeypatch.delenv("MEMWALL_NO_SKIP", raising=False)
    monkeypatch.delenv("MEMWALL_FIGURES", raising=False)
    run(capsys, "ingest", "bounds")
    fits_file = paths.CURATED / "inference_bounds.parquet"
    built = fits_file.read_bytes()
    fits_file.write_bytes(b"not a parquet file")
    assert "bounds    skipped" not in run(capsys, "bounds")
    assert fits_file.read_bytes() == built


def test_skipping_can_be_turned_off(project, capsys, monkeypatch):
    monkeypatch.delenv("MEMWALL_FIGURES", raising=False)
    run(capsys, "ingest")
    monkeypatch.setenv("MEMWALL_NO_SKIP", "1")
    assert "skipped" not in run(capsys, "ingest")
    monkeypatch.delenv("MEMWALL_NO_SKIP")
    assert build.run(["ingest"], force=True) == 0
    assert "skipped" not in capsys.readouterr().err


def test_rendering_some_figures_skips_the_other_stages_but_never_records_the_figures(project, capsys, monkeypatch):
    from pipeline import stagekeys

    monkeypatch.delenv("MEMWALL_NO_SKIP", raising=False)
    monkeypatch.delenv("MEMWALL_FIGURES", raising=False)
    run(capsys, "ingest")
    (paths.FIGURES / paths.dataset_version()).mkdir(parents=True)
    manifest = paths.FIGURES / paths.dataset_version() / "manifest.json"
    manifest.write_text('{"figures": {}}', encoding="utf-8")
    stagekeys.record("figures", stagekeys.key("figures"))
    assert stagekeys.up_to_date("figures", stagekeys.key("figures"))

    monkeypatch.setenv("MEMWALL_FIGURES", "roofline")  # only this one is rendered; the others are kept unchecked
    assert "ingest    skipped" in run(capsys, "ingest")
    assert not stagekeys.up_to_date("figures", stagekeys.key("figures"))
    stagekeys.record("figures", stagekeys.key("figures"))
    monkeypatch.delenv("MEMWALL_FIGURES")
    assert not stagekeys.up_to_date("figures", stagekeys.key("figures")), "a partial render was recorded as whole"
