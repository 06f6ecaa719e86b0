"""Faults and machines: a kill at any stage boundary or inside any commit loop loses no committed output and leaves no
manifest that disagrees with its files; the next build repairs everything and leaves no temporary file; make never
deletes an output when interrupted; a removed raw file removes its rows; and the outputs are the same bytes when
numpy's SIMD dispatch, the C library's FMA kernels, DuckDB's thread count and the installed fonts change."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import read_rows, table_header, write_rows

from pipeline import paths

REPO = Path(__file__).resolve().parent.parent
VERSION = paths.dataset_version()
CHEAP_FIGURE = "fig4_training_memory"  # figures the fault runs re-render; the others are reused as they are
OUTPUTS = [
    "curated/accelerators.parquet",
    "curated/models.parquet",
    "curated/interconnects.parquet",
    "curated/memory_technologies.parquet",
    "curated/fits.parquet",
    "curated/REPORT.md",
    "datapackage.json",
    "docs/DATA_DICTIONARY.md",
    "CITATION.cff",
    f"figures/{VERSION}/manifest.json",
]


def copy_of_repo(target: Path) -> Path:
    """The committed repository in a folder of its own (git clone), with the project's .venv beside it."""
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True)
    for path in (REPO / "curated").glob("*.parquet"):  # the working tree's outputs, as built by this checkout
        shutil.copy2(path, target / "curated" / path.name)
    (target / ".venv").symlink_to(REPO / ".venv")
    return target


def edit_a_raw_cell(root: Path, text: str) -> None:
    path = root / "raw" / "memory_technologies.csv"
    rows = read_rows(path)
    rows[0]["notes"] = (rows[0]["notes"] + " " + text).strip()
    write_rows(path, rows, table_header("memory_technologies"))


def build(root: Path, *stages: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MEMWALL_ROOT": str(root), "MEMWALL_FIGURES": CHEAP_FIGURE, "PYTHONHASHSEED": "0"}
    if fault:
        env["MEMWALL_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "pipeline.build", *(stages or ["all"]), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def assert_whole(root: Path) -> None:
    """Every committed output exists and is whole; the figures' manifest agrees with every file it lists."""
    for output in OUTPUTS:
        assert (root / output).is_file(), f"{output} was lost"
    for parquet in (root / "curated").glob("*.parquet"):
        pq.read_table(parquet)
    manifest = json.loads((root / "figures" / VERSION / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["figures"].values():
        for file, info in entry["outputs"].items():
            path = root / "figures" / VERSION / file
            assert path.is_file(), f"{file} listed in the manifest is missing"
            if info["sha256"]:
                assert hashlib.sha256(path.read_bytes()).hexdigest() == info["sha256"], f"{file} != its manifest"


def leftovers(root: Path) -> list[str]:
    found = []
    for folder in (root, root / "curated", root / "docs", root / "figures"):
        found += [p.name for p in folder.glob(".*.tmp")]
    found += [p.name for p in (root / "figures").glob(".staging-*")]
    found += [p.name for p in (root / "figures").glob(".old-*")]
    return found


KILL_POINTS = [
    "stage:ingest",
    "commit:accelerators.parquet",
    "commit:models.parquet",
    "stage:fits",
    "commit:fits.parquet",
    "stage:bounds",
    "commit:inference_bounds.parquet",
    "stage:paper",
    "stage:report",
    "stage:database",
    "stage:package",
    "commit:datapackage.json",
    "commit:DATA_DICTIONARY.md",
    "stage:figures",
    "figures:before_swap",
    "swap:exchanged",
]


@pytest.mark.slow
def test_a_kill_anywhere_loses_nothing_and_the_next_build_repairs_it(tmp_path):
    """Each build edits a note and is killed at the next point, with stage skipping on, as `make figures` runs: the
    clone starts with no stage keys, so each stage runs (and reaches its kill point) until a build completes it,
    and is skipped after that unless it stores the note. A kill must never leave a stage recorded as done whose
    outputs were not written (the next build would skip it): the last build must carry the last edit everywhere."""
    root = copy_of_repo(tmp_path / "repo")
    for number, point in enumerate(KILL_POINTS):
        edit_a_raw_cell(root, f"(kill test {number})")
        result = build(root, fault=point)
        assert result.returncode == -9, f"{point}: the fault did not fire ({result.returncode}): {result.stderr}"
        assert_whole(root)
    result = build(root)
    assert result.returncode == 0, result.stderr
    assert_whole(root)
    assert leftovers(root) == [], "temporary files survived a successful build"
    last_edit = f"(kill test {len(KILL_POINTS) - 1})"
    notes = pq.read_table(root / "curated" / "memory_technologies.parquet").column("notes").to_pylist()
    assert any(last_edit in (n or "") for n in notes), "the last edit was not built"
    import duckdb

    with duckdb.connect(str(root / "curated" / "memwall.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT string_agg(notes, ' ') FROM memory_technologies").fetchone()[0]
    assert last_edit in stored, "the database does not carry the last edit"


@pytest.mark.slow
def test_make_interrupted_deletes_no_output_and_a_removed_raw_file_removes_its_rows(tmp_path):
    root = copy_of_repo(tmp_path / "repo")
    env = {**os.environ, "MEMWALL_FIGURES": CHEAP_FIGURE, "MEMWALL_ROOT": str(root)}
    # -o: the clone's .venv is the project's own (a symlink); never reinstall it from the clone (an editable install
    # there would point the project's environment at this temporary folder)
    make = ["make", "--no-print-directory", "-o", ".venv/.installed", "figures"]
    assert subprocess.run(make, cwd=root, env=env, capture_output=True, timeout=900).returncode == 0
    # Ctrl-C while ingest runs: make receives it too, and would delete every target of the interrupted recipe
    edit_a_raw_cell(root, "(interrupted)")
    result = subprocess.run(
        make,
        cwd=root,
        env={**env, "MEMWALL_FAULT": "stage:ingest:sigint"},
        capture_output=True,
        text=True,
        timeout=900,
        start_new_session=True,
    )
    assert result.returncode != 0
    assert_whole(root)
    assert "Deleting file" not in result.stderr, result.stderr
    # a raw file removed: its rows leave the table
    nec = read_rows(root / "raw" / "accelerators" / "nec.csv")
    (root / "raw" / "accelerators" / "nec.csv").unlink()
    result = subprocess.run(make, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    ids = set(pq.read_table(root / "curated" / "accelerators.parquet").column("accelerator_id").to_pylist())
    assert not ids & {r["accelerator_id"] for r in nec}, "rows of a removed raw file stayed in curated/"
    assert_whole(root)
    assert leftovers(root) == []


# ------------------------------------------------------------------------------------------ another machine

GLIBC_WITHOUT_FMA = "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F,-AVX2_Usable,-FMA_Usable,-AVX512F_Usable"
NUMPY_WITHOUT_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"


def fontconfig_with_only_the_shipped_fonts(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{paths.FONTS}</dir><cachedir>{folder / 'cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return conf


@pytest.mark.slow
def test_outputs_are_the_same_bytes_on_another_kind_of_machine(tmp_path):
    """Rebuild every table, every fit and two figures in a process whose numpy may not use AVX-512 kernels, whose
    C library may not use its FMA variants, whose DuckDB runs one thread and whose fontconfig knows only the shipped
    fonts; compare the bytes with this checkout's outputs (built normally)."""
    root = tmp_path / "repo"
    for folder in ("raw", "curated", "figures"):
        shutil.copytree(REPO / folder, root / folder, symlinks=True)
    for file in ("VERSION", "requirements.lock", "CHANGELOG-DATA.md"):
        shutil.copy(REPO / file, root / file)
    figures = ["fig1_hw_scaling", "fig2b_training_compute_current"]
    env = {
        **os.environ,
        "MEMWALL_ROOT": str(root),
        "MEMWALL_FIGURES": ",".join(figures),
        "MEMWALL_DUCKDB_THREADS": "1",
        "NPY_DISABLE_CPU_FEATURES": NUMPY_WITHOUT_AVX512,
        "GLIBC_TUNABLES": GLIBC_WITHOUT_FMA,
        "OPENBLAS_NUM_THREADS": "1",
        "FONTCONFIG_FILE": str(fontconfig_with_only_the_shipped_fonts(tmp_path / "fontconfig")),
        "PYTHONHASHSEED": "0",
    }
    shutil.rmtree(root / "figures" / VERSION)  # rendered anew, not reused from the cache
    (root / "figures" / "latest").unlink()
    shutil.copytree(REPO / "figures" / VERSION, root / "figures" / VERSION)
    manifest = root / "figures" / VERSION / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    for name in figures:
        data["figures"][name]["key"] = "changed machine"  # force these two to render
    manifest.write_text(json.dumps(data), encoding="utf-8")
    check = "import numpy; from numpy._core._multiarray_umath import __cpu_features__ as f; print(f['X86_V4'])"
    assert subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True).stdout.strip() == (
        "False"
    ), "numpy's AVX-512 dispatch was not switched off"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.build", "ingest", "fits", "figures", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    for name in ("accelerators", "models", "interconnects", "memory_technologies", "fits"):
        assert (root / "curated" / f"{name}.parquet").read_bytes() == (
            REPO / "curated" / f"{name}.parquet"
        ).read_bytes(), name
    for name in figures:
        for suffix in (".vl.json", ".svg", ".png", ".html", ".csv", "_2col.svg", "_1col.svg", "_1col.vl.json"):
            fresh = (root / "figures" / VERSION / f"{name}{suffix}").read_bytes()
            assert fresh == (REPO / "figures" / VERSION / f"{name}{suffix}").read_bytes(), f"{name}{suffix} differs"
