"""The DuckDB database: built from the Parquet files, commented from the registry, with working views and macros."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline import database, paths
from pipeline import fields as F


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    target = tmp_path_factory.mktemp("db") / "memwall.duckdb"
    database.build_database(paths.CURATED, target)
    connection = duckdb.connect(str(target), read_only=True)
    yield connection
    connection.close()


def test_the_readme_query_works(con):
    rows = con.execute("SELECT name, peak_fp16_flops FROM accelerators").fetchall()
    assert len(rows) == pd.read_parquet(paths.CURATED / "accelerators.parquet").shape[0]


def test_every_table_and_column_carries_its_registry_comment(con):
    for name, table in F.TABLES.items():
        comment = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()[0]
        assert comment == table.description
        comments = dict(
            con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?", [name]).fetchall()
        )
        for f in table.fields:
            assert comments[f.name].startswith(f.description), f"{name}.{f.name} lacks its description"
            if f.unit:
                assert comments[f.name].endswith(f"Unit: {f.unit}.")


def test_growth_macro_recovers_a_known_rate(con):
    # 3x every 2 years on the first of January of each year, through the user-facing SQL macro
    years = np.arange(2000, 2021)
    frame = pd.DataFrame({"d": pd.to_datetime([f"{y}-01-01" for y in years]), "v": 3.0 ** ((years - 2000) / 2)})
    con.register("synthetic", frame)
    rate = con.execute("SELECT growth_per_2y(d::DATE, v) FROM synthetic").fetchone()[0]
    assert rate == pytest.approx(3.0, rel=2e-3)  # leap days make calendar years unequal by ~0.1%
    assert con.execute("SELECT fractional_year(DATE '2021-07-02')").fetchone()[0] == pytest.approx(2021 + 182 / 365)


def test_ratio_view_matches_its_definition(con):
    h100 = con.execute(
        "SELECT flop_per_memory_byte FROM accelerator_ratios WHERE accelerator_id = 'nvidia-h100-sxm5-80gb'"
    ).fetchone()[0]
    assert math.isclose(h100, 989.4e12 / 3.35e12, rel_tol=1e-9)  # 295 FLOP per byte: the H100's ridge point


def test_views_also_work_over_parquet_directly():
    con = duckdb.connect()
    database.create_schema(con, paths.CURATED, materialize=False)
    assert con.execute("SELECT count(*) FROM frontier_models").fetchone()[0] > 5


def test_growth_macro_returns_what_fits_parquet_holds_for_the_same_points(con):
    """The SQL fit a user writes gives the committed rate, interval, n, span and r2 of every fitted series."""
    from pipeline import fits

    committed = pd.read_parquet(paths.CURATED / "fits.parquet")
    checked = 0
    for series in fits.load_series():
        if not series.fit:
            continue
        row = committed[
            (committed["preset"] == series.preset)
            & (committed["series"] == series.name)
            & (committed["selection"] == series.selection)
            & (committed["method"] == "ols")
        ].iloc[0]
        got = con.execute(
            f"SELECT growth.* FROM (SELECT growth(x, value) AS growth FROM ({fits.points_sql(series)}))"
        ).fetchone()
        names = ("growth_per_2y", "ci_low", "ci_high", "n", "start_year", "end_year", "r2")
        expected = (
            "growth_per_2y",
            "growth_per_2y_ci_low",
            "growth_per_2y_ci_high",
            "n",
            "start_year",
            "end_year",
            "r2",
        )
        for name, value, column in zip(names, got, expected, strict=True):
            assert value == pytest.approx(row[column], rel=1e-9, abs=1e-12), (series.key, name)
        checked += 1
    assert checked >= 15


def test_growth_macro_argument_mistakes_name_the_expected_arguments(capsys):
    from pipeline import cli

    code = cli.main(["sql", "SELECT growth(release_date, memory_bytes) FROM accelerators", "--source", "parquet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "growth(year, value) takes a numeric fractional year" in err and "\n" not in err.strip(), err


def test_the_database_file_opens_with_the_oldest_duckdb_it_promises(tmp_path):
    """Build the file, then open it with DuckDB 1.1.3 (installed beside the project by `make test`) in a fresh
    process: the storage version is one 1.x reads, the views and macros work."""
    import subprocess
    import sys

    old = paths.ROOT / ".venv" / f"duckdb-{database.OLDEST_READER}"
    if not (old / "duckdb").is_dir():
        pytest.fail(f"{old} is missing: `make test` installs DuckDB {database.OLDEST_READER} there")
    target = tmp_path / "memwall.duckdb"
    database.build_database(paths.CURATED, target)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import duckdb; "
        f"assert duckdb.__version__ == '{database.OLDEST_READER}', duckdb.__version__; "
        "con = duckdb.connect(sys.argv[2], read_only=True); "
        "print(con.execute('SELECT count(*) FROM accelerators').fetchone()[0]); "
        "print(con.execute('SELECT count(*) FROM frontier_models').fetchone()[0]); "
        'print(con.execute("SELECT round(growth.growth_per_2y, 6) FROM (SELECT growth(release_fractional_year, '
        "memory_bytes) AS growth FROM accelerators WHERE segment = 'datacenter')\").fetchone()[0])"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", script, str(old), str(target)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    rows, frontier, growth = result.stdout.split()
    assert int(rows) == len(pd.read_parquet(paths.CURATED / "accelerators.parquet"))
    assert int(frontier) > 5 and float(growth) > 1
