"""The DuckDB database: curated/memwall.duckdb, built from the Parquet files, with a comment on every table and
column (from the field registry), views for common questions and macros for users' own fits."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb

from pipeline import fields as F

# Views for the common questions. Each works on the Parquet files too (see docs/QUERIES.md).
VIEWS: dict[str, tuple[str, str]] = {
    "accelerator_ratios": (
        "Per accelerator: peak training FLOP/s per byte/s of memory bandwidth (the roofline ridge point) and per "
        "byte/s of interconnect bandwidth (per direction), and memory capacity per peak FLOP/s.",
        """
        SELECT accelerator_id, name, vendor, kind, segment, release_date, release_fractional_year,
               peak_training_flops, memory_bandwidth_bytes_per_s, interconnect_bandwidth_per_direction_bytes_per_s,
               memory_bytes,
               peak_training_flops / memory_bandwidth_bytes_per_s AS flop_per_memory_byte,
               peak_training_flops / interconnect_bandwidth_per_direction_bytes_per_s AS flop_per_interconnect_byte,
               memory_bytes / peak_training_flops AS memory_bytes_per_flop_per_s
        FROM accelerators
        """,
    ),
    "frontier_models": (
        "Models that set a new record of training compute at their release date (recommenders excluded).",
        """
        SELECT * FROM (
          SELECT *, max(training_compute_flop) OVER (ORDER BY release_fractional_year, training_compute_flop DESC,
                   model_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_record_flop
          FROM models WHERE training_compute_flop IS NOT NULL AND NOT is_recommender)
        WHERE previous_record_flop IS NULL OR training_compute_flop > previous_record_flop
        """,
    ),
    "models_exceeding_accelerator_memory": (
        "Models whose parameters in 16-bit (2 bytes each) exceed the largest single-accelerator memory released "
        "on or before the model's release date.",
        """
        SELECT m.model_id, m.name, m.release_date, m.parameters, 2 * m.parameters AS weights_bytes_16bit,
               (SELECT max(a.memory_bytes) FROM accelerators a
                 WHERE a.release_date <= m.release_date AND a.kind <> 'cpu') AS largest_accelerator_memory_bytes
        FROM models m
        WHERE m.parameters IS NOT NULL
          AND 2 * m.parameters > (SELECT max(a.memory_bytes) FROM accelerators a
                                  WHERE a.release_date <= m.release_date AND a.kind <> 'cpu')
        """,
    ),
}

# The oldest DuckDB that reads curated/memwall.duckdb: the file is written in that version's storage format (DuckDB 2.0
# would otherwise write a format no 1.x release opens). The test suite opens the built file with this release.
STORAGE_VERSION = "v1.1.0"
OLDEST_READER = "1.1.3"


def _double(value: float) -> str:
    """A DOUBLE literal (DuckDB reads 1.5 as a DECIMAL, 1.5e0 as a DOUBLE, both exactly as written)."""
    return format(value, ".17e")


def _t975_sql() -> str:
    """Student's t 97.5% quantile for df degrees of freedom, the same numbers as pipeline.detmath.t975: the table to
    200, the Cornish-Fisher expansion beyond."""
    from pipeline import detmath

    table = "[" + ", ".join(_double(v) for v in detmath._T975) + "]"
    z = _double(detmath._Z975)
    g1 = f"({z}^3 + {z}) / 4e0"
    g2 = f"(5e0 * {z}^5 + 16e0 * {z}^3 + 3e0 * {z}) / 96e0"
    g3 = f"(3e0 * {z}^7 + 19e0 * {z}^5 + 17e0 * {z}^3 - 15e0 * {z}) / 384e0"
    g4 = f"(79e0 * {z}^9 + 776e0 * {z}^7 + 1482e0 * {z}^5 - 1920e0 * {z}^3 - 945e0 * {z}) / 92160e0"
    expansion = f"{z} + ({g1}) / df + ({g2}) / df^2 + ({g3}) / df^3 + ({g4}) / df^4"
    return (
        f"CREATE MACRO t975(df) AS CASE WHEN df < 1 THEN NULL WHEN df <= 200 THEN {table}[df::BIGINT] "
        f"ELSE {expansion} END"
    )


_LOGV = "log10(CASE WHEN value > 0 THEN value END)"
MACROS = [
    # Fractional year at a date (the start of the day); release_fractional_year uses the date's midpoint instead.
    "CREATE MACRO fractional_year(d) AS year(d) + (dayofyear(d) - 1) / "
    "(CASE WHEN (year(d) % 4 = 0 AND year(d) % 100 <> 0) OR year(d) % 400 = 0 THEN 366 ELSE 365 END)",
    # Aggregate: fitted growth per 2 years of value against date (OLS of log10 value on fractional year).
    "CREATE MACRO growth_per_2y(d, v) AS power(10, 2 * regr_slope(log10(v), fractional_year(d)))",
    _t975_sql(),
    # Aggregate: the whole fit, as curated/fits.parquet holds it for the same points (OLS of log10 value on year).
    f"""CREATE MACRO growth(year, value) AS struct_pack(
        growth_per_2y := power(10, 2 * regr_slope({_LOGV}, year)),
        ci_low := power(10, 2 * (regr_slope({_LOGV}, year) - t975(regr_count({_LOGV}, year) - 2)
            * sqrt(greatest(regr_syy({_LOGV}, year) - regr_slope({_LOGV}, year) * regr_sxy({_LOGV}, year), 0)
                   / (regr_count({_LOGV}, year) - 2) / regr_sxx({_LOGV}, year)))),
        ci_high := power(10, 2 * (regr_slope({_LOGV}, year) + t975(regr_count({_LOGV}, year) - 2)
            * sqrt(greatest(regr_syy({_LOGV}, year) - regr_slope({_LOGV}, year) * regr_sxy({_LOGV}, year), 0)
                   / (regr_count({_LOGV}, year) - 2) / regr_sxx({_LOGV}, year)))),
        n := regr_count({_LOGV}, year),
        start_year := min(year) FILTER (WHERE value > 0),
        end_year := max(year) FILTER (WHERE value > 0),
        r2 := regr_r2({_LOGV}, year))""",
]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_schema(con: duckdb.DuckDBPyConnection, curated_dir: Path, materialize: bool) -> None:
    """Tables (copied from Parquet, or views over it) with comments, the common views and the macros."""
    for name, table in F.TABLES.items():
        path = (curated_dir / f"{name}.parquet").as_posix()
        kind = "TABLE" if materialize else "VIEW"
        con.execute(f"CREATE {kind} {name} AS SELECT * FROM read_parquet({_quote(path)})")
        con.execute(f"COMMENT ON {kind} {name} IS {_quote(table.description)}")
        for f in table.fields:
            unit = f" Unit: {f.unit}." if f.unit else ""
            con.execute(f"COMMENT ON COLUMN {name}.{f.name} IS {_quote(f.description + unit)}")
    for macro in MACROS:
        con.execute(macro)
    for view, (description, sql) in VIEWS.items():
        con.execute(f"CREATE VIEW {view} AS {sql}")
        con.execute(f"COMMENT ON VIEW {view} IS {_quote(description)}")


def build_database(curated_dir: Path, target: Path) -> None:
    """Build the database in a temporary file beside the target, in STORAGE_VERSION's format, and rename it into
    place."""
    fd, tmp = tempfile.mkstemp(prefix=".memwall.", suffix=".duckdb.tmp", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)  # DuckDB creates the file itself
    try:
        con = duckdb.connect()
        con.execute(f"ATTACH {_quote(tmp)} AS memwall (STORAGE_VERSION {_quote(STORAGE_VERSION)})")
        con.execute("USE memwall")
        create_schema(con, curated_dir, materialize=True)
        con.execute("CHECKPOINT memwall")
        con.execute("USE memory")
        con.execute("DETACH memwall")
        con.close()
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, tmp + ".wal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
