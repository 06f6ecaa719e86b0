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
