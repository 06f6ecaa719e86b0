"""The benchmark cannot rot: its quick mode (the import floor and a scale sweep at 10^3 synthetic models: ingest, fits,
database) runs on every `make test`, so that a change of the field registry or of ingest's checks that its synthetic
data no longer meets fails here, not on the next `make bench`."""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq

from bench import synthetic
from tests.conftest import REPO


def test_quick_benchmark_runs_every_sweep_phase():
    run = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick"], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-2000:]
    sweep = [line for line in run.stdout.splitlines() if line.startswith("| 1,000 | 100 |")]
    assert len(sweep) == 1, run.stdout[-2000:]
    cells = [cell.strip() for cell in sweep[0].strip("|").split("|")]
    ingest_s, fits_s, database_s = (float(cells[i]) for i in (3, 4, 5))  # measured: numbers, not "not measured"
    assert min(ingest_s, fits_s, database_s) > 0


def test_synthetic_rows_pass_ingest_and_are_all_kept(tmp_path):
    """Every synthetic row is valid (ingest stops at the first invalid cell) and reaches the curated tables."""
    counts = synthetic.write_synthetic_raw(tmp_path, models=300, accelerators=40)
    env = {"MEMWALL_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-m", "pipeline.build", "ingest", "--force"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    models = pq.read_table(tmp_path / "curated" / "models.parquet", columns=["model_id"])
    accelerators = pq.read_table(tmp_path / "curated" / "accelerators.parquet", columns=["accelerator_id"])
    assert models.num_rows == counts["models"] and accelerators.num_rows == counts["accelerators"]
    synthetic_ids = [i for i in models.column("model_id").to_pylist() if i.startswith("synthetic-")]
    assert len(synthetic_ids) == 300


def test_the_make_test_row_reads_pytests_summary_in_both_forms():
    from bench import run

    quiet = "....ss..\n614 passed, 36 skipped in 200.12s (0:03:20)\n"
    verbose = "x\n===== 2 failed, 599 passed in 1312.00s (0:21:52) =====\n"
    assert run.PYTEST_SUMMARY.findall(quiet) == ["614 passed, 36 skipped in 200.12s (0:03:20)"]
    assert run.PYTEST_SUMMARY.findall(verbose) == ["2 failed, 599 passed in 1312.00s (0:21:52)"]
    assert run.PYTEST_SUMMARY.findall("collected 3 items\n3 tests passed\n") == []
