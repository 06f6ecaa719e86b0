"""Reliability: a failure or a kill at any point leaves the previous outputs whole; two builds never interleave;
stale committed outputs fail the reproducibility check; fits and unit parsing keep their invariants."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import read_rows, table_header, write_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import build, fits, ingest, paths, units

REPO = Path(__file__).resolve().parent.parent


def hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.glob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


# ------------------------------------------------------------------------------------------ injected failures


def test_a_failure_while_writing_tables_changes_nothing(project, monkeypatch, capsys):
    assert build.run(["ingest"], quiet=True) == 0
    before = hashes(project / "curated")
    path = project / "raw" / "accelerators" / "nvidia.csv"
    rows = read_rows(path)
    rows[0]["tdp"] = "701 W"  # a valid change, so a completed build would change the outputs
    write_rows(path, rows, table_header("accelerators"))
    calls = []

    def failing_write(table, target):
        calls.append(target)
        if len(calls) == 3:
            raise OSError("disk full (injected)")
        return original(table, target)

    original = ingest.write_parquet
    monkeypatch.setattr(ingest, "write_parquet", failing_write)
    assert build.run(["ingest"], quiet=True) == 1
    assert "disk full (injected)" in capsys.readouterr().err
    assert hashes(project / "curated") == before
    assert not list((project / "curated").glob(".*.tmp")), "temporary files were left behind"


def test_a_failure_in_any_later_stage_changes_nothing(monkeypatch, tmp_path):
    """Fits, report, database and figures each fail by injection; their outputs stay as they were (figures: one
    figure rendered, then the manifest fails; no stage skipped for being up to date)."""
    monkeypatch.setenv("MEMWALL_NO_SKIP", "1")
    monkeypatch.setenv("MEMWALL_FIGURES", "fig_precision")
    root = _copy_of_repo(tmp_path)
    for name, attr in [("ROOT", ""), ("RAW", "raw"), ("CURATED", "curated"), ("FIGURES", "figures")]:
        monkeypatch.setattr(paths, name, root / attr if attr else root)
    monkeypatch.setattr(paths, "DATABASE", root / "curated" / "memwall.duckdb")
    monkeypatch.setattr(paths, "LOCK", root / "curated" / ".build.lock")
    before_curated, before_figures = hashes(root / "curated"), hashes(root / "figures" / paths.dataset_version())

    def boom(*args, **kwargs):
        raise RuntimeError("injected failure")

    from pipeline import database, report
    from pipeline.figures import render

    for stage, target, attribute in [
        ("fits", fits, "run_fits"),
        ("report", report, "build_report"),
        ("database", database, "create_schema"),
        ("figures", render, "_manifest"),
    ]:
        with monkeypatch.context() as m:
            m.setattr(target, attribute, boom)
            assert build.run([stage], quiet=True) == 1, stage
        assert hashes(root / "curated") == before_curated, stage
        assert hashes(root / "figures" / paths.dataset_version()) == before_figures, stage
        assert not list((root / "figures").glob(".staging-*")), stage


# ------------------------------------------------------------------------------------------ a real SIGKILL


def _copy_of_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for folder in ("raw", "curated", "figures"):
        shutil.copytree(REPO / folder, root / folder, symlinks=True)
    for file in ("VERSION", "requirements.lock"):
        shutil.copy(REPO / file, root / file)
    (root / "curated" / "memwall.duckdb").unlink(missing_ok=True)
    return root


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_every_output_whole(tmp_path):
    root = _copy_of_repo(tmp_path)
    old = hashes(root / "curated")
    path = root / "raw" / "memory_technologies.csv"
    rows = read_rows(path)
    rows[0]["notes"] = (rows[0]["notes"] + " (edited by the kill test)").strip()
    write_rows(path, rows, table_header("memory_technologies"))
    env = {**os.environ, "MEMWALL_ROOT": str(root)}
    command = [sys.executable, "-m", "pipeline.build", "ingest", "fits", "report", "--quiet"]
    for delay in (0.2, 0.6, 1.0, 1.5, 2.2, 3.0):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        for parquet in (root / "curated").glob("*.parquet"):
            pq.read_table(parquet)  # every Parquet file is whole
    assert subprocess.run(command, env=env).returncode == 0  # the next build cleans up and completes
    new = hashes(root / "curated")
    assert new != old
    assert not list((root / "curated").glob(".*.tmp"))


# ------------------------------------------------------------------------------------------ concurrency


def test_two_builds_at_once_never_interleave(tmp_path):
    root = _copy_of_repo(tmp_path)
    trace = tmp_path / "trace.log"
    env = {**os.environ, "MEMWALL_ROOT": str(root), "MEMWALL_TRACE": str(trace)}
    command = [sys.executable, "-m", "pipeline.build", "ingest", "fits", "--quiet"]
    first = subprocess.Popen(command, env=env)
    second = subprocess.Popen(command, env=env)
    assert first.wait() == 0 and second.wait() == 0
    events = [line.split() for line in trace.read_text().splitlines()]
    spans = {}
    for pid, event, stamp in events:
        spans.setdefault(pid, {})[event] = float(stamp)
    assert len(spans) == 2
    (a, b) = sorted(spans.values(), key=lambda s: s["locked"])
    assert a["released"] <= b["locked"], "the second build started writing before the first released the lock"
    for parquet in (root / "curated").glob("*.parquet"):
        pq.read_table(parquet)


# ------------------------------------------------------------------------------------------ stale outputs in CI


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def _clean_checkout() -> bool:
    try:
        return _git("status", "--porcelain", "--", "pipeline", "raw", "curated", cwd=REPO).strip() == ""
    except (subprocess.CalledProcessError, FileNotFoundError):
        return False


@pytest.mark.skipif(not _clean_checkout(), reason="needs pipeline/, raw/ and curated/ committed (as in CI)")
def test_ci_check_fails_on_a_stale_committed_output_and_passes_on_a_fresh_one(tmp_path):
    clone = tmp_path / "clone"
    _git("clone", "--quiet", str(REPO), str(clone), cwd=tmp_path)
    env = {**os.environ, "MEMWALL_ROOT": str(clone)}
    rebuild = [sys.executable, "-m", "pipeline.build", "ingest", "--quiet"]
    check = [sys.executable, "-m", "pipeline.reproducible"]
    assert subprocess.run(rebuild, env=env).returncode == 0
    assert subprocess.run(check, env=env, capture_output=True).returncode == 0, "a fresh clone failed the check"
    # change a raw value and commit it without regenerating curated/: the committed output is now stale
    path = clone / "raw" / "memory_technologies.csv"
    rows = read_rows(path)
    rows[0]["notes"] = rows[0]["notes"] + " stale"
    write_rows(path, rows, table_header("memory_technologies"))
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "raw only", cwd=clone)
    assert subprocess.run(rebuild, env=env).returncode == 0
    result = subprocess.run(check, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "curated/memory_technologies.parquet: differs from the committed file" in result.stderr


# ------------------------------------------------------------------------------------------ property tests

finite_positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(value=finite_positive, data=st.data())
def test_unit_parsing_round_trips(value, data):
    name = data.draw(st.sampled_from(sorted(units.DIMENSIONS)))
    dimension = units.DIMENSIONS[name]
    unit = data.draw(st.sampled_from(sorted(dimension.units)))
    parsed = units.parse_quantity(f"{value!r} {unit}", name)
    assert parsed == pytest.approx(value * dimension.units[unit], rel=1e-12)


years_strategy = st.lists(st.floats(min_value=1990, max_value=2030), min_size=3, max_size=30).filter(
    lambda xs: np.unique(np.round(xs, 6)).size >= 2
)


@settings(max_examples=60, deadline=None)
@given(
    years=years_strategy,
    scale=st.floats(min_value=1e-6, max_value=1e6),
    shift=st.floats(-50, 50),
    seed=st.integers(0, 10_000),
)
def test_fit_invariants(years, scale, shift, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(years)
    y = 0.2 * (x - 2000) + rng.normal(0, 0.3, x.size)
    base = fits.ols_arrays(x, y)
    scaled = fits.ols_arrays(x, y + np.log10(scale))  # every value multiplied by a constant
    assert scaled["slope"] == pytest.approx(base["slope"], rel=1e-6, abs=1e-9)
    assert scaled["intercept"] == pytest.approx(base["intercept"] + np.log10(scale), rel=1e-6, abs=1e-6)
    order = rng.permutation(x.size)
    permuted = fits.ols_arrays(x[order], y[order])  # row order does not matter
    assert permuted["slope"] == pytest.approx(base["slope"], rel=1e-9, abs=1e-12)
    shifted = fits.ols_arrays(x + shift, y)  # shifting every date changes only the intercept
    assert shifted["slope"] == pytest.approx(base["slope"], rel=1e-6, abs=1e-9)
    assert shifted["intercept"] == pytest.approx(base["intercept"] - base["slope"] * shift, rel=1e-6, abs=1e-6)
    assert shifted["stderr"] == pytest.approx(base["stderr"], rel=1e-6, abs=1e-12)


def test_sql_fit_matches_under_scaling_and_order():
    """The DuckDB path, not only NumPy: scaling values by 1000 and shuffling rows leave the growth rate unchanged."""
    import duckdb

    rng = np.random.default_rng(1)
    x = np.sort(rng.uniform(2000, 2020, 25))
    v = 10 ** (0.2 * x + rng.normal(0, 0.2, x.size) - 390)
    out = []
    for values, order in [(v, np.arange(x.size)), (v * 1000, rng.permutation(x.size))]:
        con = duckdb.connect()
        con.register("t", pd.DataFrame({"x": x[order], "value": values[order]}))
        out.append(con.execute(fits.ols_sql("SELECT * FROM t")).fetchone()[1])
    assert out[0] == pytest.approx(out[1], rel=1e-9)
