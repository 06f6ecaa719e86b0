"""The memwall command: read-only SQL that refuses writes before they run, documented queries that stay true,
errors that name the closest table or column, outputs that round-trip, exports with units."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipeline import build, cli, database, docs, paths, query
from pipeline import fields as F

REPO = Path(__file__).resolve().parent.parent
QUERIES_PAGE = REPO / "docs" / "QUERIES.md"


# ---------------------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    """A throwaway project holding a copy of the curated Parquet files and a DuckDB file built from them."""
    root = tmp_path / "project"
    (root / "curated").mkdir(parents=True)
    for path in sorted(paths.CURATED.glob("*.parquet")):
        shutil.copy2(path, root / "curated" / path.name)
    shutil.copy(REPO / "VERSION", root / "VERSION")
    shutil.copytree(REPO / "tests" / "fixtures" / "raw", root / "raw")
    database.build_database(root / "curated", root / "curated" / "memwall.duckdb")
    monkeypatch.setattr(paths, "ROOT", root)
    monkeypatch.setattr(paths, "RAW", root / "raw")
    monkeypatch.setattr(paths, "CURATED", root / "curated")
    monkeypatch.setattr(paths, "FIGURES", root / "figures")
    monkeypatch.setattr(paths, "DATABASE", root / "curated" / "memwall.duckdb")
    monkeypatch.setattr(paths, "LOCK", root / "curated" / ".build.lock")
    return root


def tree_digest(root: Path) -> dict[str, str]:
    """Path -> SHA-256 of every file under root (so a changed, added or removed file shows)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------------------------------------------
# docs/QUERIES.md: every query runs and returns what the page shows, on the DuckDB file and on the Parquet files


@pytest.fixture(scope="module")
def built_database(tmp_path_factory):
    target = tmp_path_factory.mktemp("db") / "memwall.duckdb"
    database.build_database(paths.CURATED, target)
    return target


def test_the_page_has_the_examples_it_promises():
    examples = docs.examples(QUERIES_PAGE.read_text(encoding="utf-8"))
    assert len(examples) >= 8, "docs/QUERIES.md should answer at least 8 questions"
    assert all(e.shown is not None for e in examples), "every query on the page needs its ```text output block"


@pytest.mark.parametrize("source", ["database", "parquet"])
def test_every_documented_query_returns_what_the_page_shows(source, built_database):
    con, chosen = query.connect(source, paths.CURATED, built_database)
    assert chosen == source
    stale = []
    try:
        for example in docs.examples(QUERIES_PAGE.read_text(encoding="utf-8")):
            output = docs.render(example.sql, con)
            if output != example.shown:
                stale.append(f"docs/QUERIES.md:{example.line} ({source})\n--- page\n{example.shown}\n--- now\n{output}")
    finally:
        con.close()
    assert not stale, "stale outputs; run `python -m pipeline.docs` after checking them:\n" + "\n".join(stale)


def test_documented_queries_also_run_on_plain_parquet_views():
    """The page's promise: the SQL works on the Parquet files with no database file at all (views over read_parquet),
    here set up by hand the way the page tells a reader to, without the memwall connection."""
    con = duckdb.connect()
    database.create_schema(con, paths.CURATED, materialize=False)
    for example in docs.examples(QUERIES_PAGE.read_text(encoding="utf-8")):
        rows = con.execute(example.sql).fetchall()
        shown_rows = example.shown.splitlines()[2:]  # after the header and its rule
        footer = re.compile(r"^\((no rows|\d+ rows, \d+ shown.*)\)$")
        assert len(rows) == len([r for r in shown_rows if not footer.match(r)]), f"line {example.line}"


def test_the_ridge_point_example_agrees_with_the_datasheets(built_database):
    # H100 SXM5: 989.4 TFLOP/s dense BF16 and 3.35 TB/s HBM3 (NVIDIA H100 datasheet) -> 295 FLOP per byte
    con, _ = query.connect("database", paths.CURATED, built_database)
    (result,) = query.run(
        "SELECT round(flop_per_memory_byte) FROM accelerator_ratios WHERE accelerator_id = 'nvidia-h100-sxm5-80gb'",
        con,
    )
    con.close()
    assert result.rows == [(295.0,)]


def test_the_oversized_models_example_holds_for_known_models(built_database):
    # GPT-3: 175e9 parameters x 2 B = 350 GB > the 40 GB of an A100 (2020); BERT-Large: 340e6 x 2 B = 0.7 GB fits
    con, _ = query.connect("database", paths.CURATED, built_database)
    (result,) = query.run("SELECT model_id FROM models_exceeding_accelerator_memory", con)
    con.close()
    ids = {row[0] for row in result.rows}
    assert "gpt-3-175b" in ids
    assert not any(i.startswith("bert") for i in ids)


def test_the_compute_method_shares_add_up_and_match_a_plain_count():
    models = pq.read_table(paths.CURATED / "models.parquet").to_pandas()
    expected = models["training_compute_method"].fillna("(no figure)").value_counts().to_dict()
    page = QUERIES_PAGE.read_text(encoding="utf-8")
    example = next(e for e in docs.examples(page) if "pct_of_figures" in e.sql)
    rows = [line.split() for line in example.shown.splitlines()[2:]]
    shown = {r[0] if r[0] != "(no" else "(no figure)": int(r[-3]) for r in rows}
    assert shown == expected
    assert sum(float(r[-2]) for r in rows) == pytest.approx(100, abs=0.3)


def test_refresh_rewrites_a_stale_output_and_leaves_the_prose(tmp_path):
    page = "# Title\n\nSome prose.\n\n```sql\nSELECT 40 + 2 AS answer\n```\n\n```text\nwrong\n```\n\nMore prose.\n"
    new = docs.refresh(page)
    assert "Some prose." in new and "More prose." in new
    assert "```text\nanswer\n------\n    42\n```" in new
    assert docs.refresh(new) == new
    assert "```text\nanswer" in docs.refresh("```sql\nSELECT 42 AS answer\n```\n")  # a missing block is added


# ---------------------------------------------------------------------------------------------------------------
# Read-only by construction

REFUSED = {
    "DROP": "DROP TABLE models",
    "INSERT": "INSERT INTO models (model_id) VALUES ('x')",
    "UPDATE": "UPDATE accelerators SET memory_bytes = 0",
    "DELETE": "DELETE FROM models",
    "TRUNCATE": "TRUNCATE models",
    "CREATE": "CREATE TABLE t AS SELECT 1",
    "CREATE TEMP": "CREATE TEMP TABLE t AS SELECT 1",
    "CREATE VIEW": "CREATE OR REPLACE VIEW accelerators AS SELECT 1 AS x",
    "CREATE MACRO": "CREATE MACRO f(x) AS x",
    "ALTER": "ALTER TABLE models ADD COLUMN x INTEGER",
    "COMMENT": "COMMENT ON TABLE models IS 'x'",
    "COPY": "COPY (SELECT * FROM models) TO 'copied.csv'",
    "COPY FROM": "COPY models FROM 'raw/models/x.csv'",
    "EXPORT": "EXPORT DATABASE 'exported'",
    "IMPORT": "IMPORT DATABASE 'exported'",
    "ATTACH": "ATTACH 'other.duckdb' AS other",
    "DETACH": "DETACH memwall",
    "INSTALL": "INSTALL httpfs",
    "LOAD": "LOAD httpfs",
    "SET": "SET threads = 1",
    "RESET": "RESET threads",
    "USE": "USE memory",
    "PRAGMA": "PRAGMA enable_profiling",
    "CALL": "CALL pragma_version()",
    "CHECKPOINT": "CHECKPOINT",
    "FORCE CHECKPOINT": "FORCE CHECKPOINT",
    "FORCE INSTALL": "FORCE INSTALL httpfs",
    "SET VARIABLE": "SET VARIABLE x = 1",
    "CREATE SECRET": "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')",
    "PRAGMA CHECKPOINT": "PRAGMA force_checkpoint",
    "WITH INSERT": "WITH a AS (SELECT 'x' AS model_id) INSERT INTO models (model_id) SELECT * FROM a",
    "VACUUM": "VACUUM",
    "BEGIN": "BEGIN TRANSACTION",
    "PREPARE": "PREPARE q AS SELECT 1",
    "EXPLAIN ANALYZE": "EXPLAIN ANALYZE COPY (SELECT 1) TO 'explained.csv'",
    "commented": "/* looks harmless */ -- really\nCOPY (SELECT 1) TO 'commented.csv'",
    "second statement": "SELECT 1 AS fine; DROP TABLE models",
}


@pytest.mark.parametrize("source", ["database", "parquet"])
def test_every_kind_of_write_is_refused_and_no_file_changes(source, dataset, capsys, monkeypatch):
    monkeypatch.chdir(dataset)  # relative paths in the statements would land in the project
    before = tree_digest(dataset)
    for kind, sql in REFUSED.items():
        code, out, err = run_cli(capsys, "sql", sql, "--source", source)
        assert code == 1, f"{kind}: exit {code}"
        assert out == "", f"{kind}: printed results although refused: {out!r}"
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("memwall sql: refused"), f"{kind}: {err!r}"
        assert "read-only" in lines[0] or "explained statement" in lines[0], f"{kind}: {err!r}"
    assert tree_digest(dataset) == before, "a refused statement changed, added or removed a file"


def test_the_refusal_names_the_statement_kind(capsys, dataset):
    for keyword in ("DROP", "INSERT", "COPY", "ATTACH", "INSTALL", "LOAD", "SET", "CALL", "CHECKPOINT", "IMPORT"):
        _, _, err = run_cli(capsys, "sql", REFUSED[keyword])
        assert f"refused {keyword}" in err, err


def test_reads_pass_the_check():
    for sql in [
        "SELECT 1",
        "WITH a AS (SELECT 1 AS x) SELECT * FROM a",
        "FROM accelerators LIMIT 1",
        "DESCRIBE accelerators",
        "SHOW TABLES",
        "SUMMARIZE models",
        "EXPLAIN SELECT * FROM models",
        "PRAGMA version",
        "PRAGMA table_info('models')",
        "PIVOT accelerators ON kind USING count(*) GROUP BY vendor",
        "(SELECT 1) UNION ALL (SELECT 2)",
    ]:
        query.parse(sql)  # raises QueryError if refused


def test_reading_outside_the_repository_is_refused(capsys, dataset):
    for sql in [
        "SELECT * FROM read_csv('/etc/hostname')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    ]:
        code, out, err = run_cli(capsys, "sql", sql)
        assert code == 1 and out == ""
        # refused by the sandbox (a path outside the repository), or before, by the table-function allow-list
        assert (err.startswith("memwall sql: refused to read") and "inside the repository" in err) or (
            "is not allowed here" in err
        ), err


def test_reading_inside_the_repository_is_allowed(capsys, dataset):
    path = (dataset / "curated" / "models.parquet").as_posix()
    code, out, err = run_cli(capsys, "sql", f"SELECT count(*) AS n FROM read_parquet('{path}')", "--format", "csv")
    assert code == 0, err
    assert out == f"n\n{pq.ParquetFile(path).metadata.num_rows}\n"


def test_the_database_file_is_opened_read_only(dataset):
    con, source = query.connect("database")
    assert source == "database"
    with pytest.raises(duckdb.Error):
        con.execute("CREATE TABLE x AS SELECT 1")  # the connection itself refuses, even past our check
    con.close()


def test_a_stale_database_falls_back_to_the_parquet_files(dataset, capsys):
    import os

    db = dataset / "curated" / "memwall.duckdb"
    os.utime(db, (1_000_000_000, 1_000_000_000))  # older than every Parquet file
    assert query.choose_source("auto") == "parquet"
    code, out, err = run_cli(capsys, "sql", "SELECT 1 AS one")
    assert code == 0 and "querying the Parquet files" in err
    code, out, err = run_cli(capsys, "sql", "SELECT 1 AS one", "--quiet")
    assert code == 0 and err == ""


# ---------------------------------------------------------------------------------------------------------------
# Errors: one line, with the closest names


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM accelerator", "accelerators"),
        ("SELECT * FROM frontier_model", "frontier_models"),
        ("SELECT * FROM modles", "models"),
        ("SELECT nme FROM models", "name"),
        ("SELECT peak_fp16 FROM accelerators", "peak_fp16_flops"),
        ("SELECT a.vendr FROM accelerators a", "vendor"),
        ("SELECT memory_bandwidth FROM accelerators", "memory_bandwidth_bytes_per_s"),
        ("SELECT * FROM fits ORDER BY seris", "series"),
    ],
)
def test_unknown_names_suggest_the_closest(sql, expected, capsys, dataset):
    code, out, err = run_cli(capsys, "sql", sql)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "unknown" in lines[0] and "did you mean" in lines[0], err
    suggestions = lines[0].split("did you mean", 1)[1]
    assert expected in suggestions, err


def test_syntax_errors_are_one_line(capsys, dataset):
    code, _, err = run_cli(capsys, "sql", "SELEC name FROM models")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "syntax error" in err


def test_describe_suggests_for_an_unknown_table(capsys, dataset):
    code, _, err = run_cli(capsys, "describe", "acelerators")
    assert code == 1 and "did you mean accelerators" in err


# ---------------------------------------------------------------------------------------------------------------
# Output formats


def parquet_rows(table: str, columns: list[str]) -> list[tuple]:
    arrow = pq.read_table(paths.CURATED / f"{table}.parquet", columns=columns).sort_by(columns[0])
    return list(zip(*(arrow.column(c).to_pylist() for c in columns), strict=True))


def test_csv_output_round_trips_exactly(capsys, dataset):
    sql = "SELECT accelerator_id, memory_bytes, release_date FROM accelerators ORDER BY accelerator_id"
    code, out, err = run_cli(capsys, "sql", sql, "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["accelerator_id", "memory_bytes", "release_date"]
    expected = parquet_rows("accelerators", ["accelerator_id", "memory_bytes", "release_date"])
    got = [(r[0], float(r[1]) if r[1] else None, r[2]) for r in rows[1:]]
    assert got == [(i, None if m is None or math.isnan(m) else m, d.isoformat() if d else "") for i, m, d in expected]


def test_json_output_round_trips(capsys, dataset):
    code, out, err = run_cli(
        capsys, "sql", "SELECT model_id, parameters FROM models ORDER BY model_id", "--format", "json"
    )
    assert code == 0, err
    got = [(r["model_id"], r["parameters"]) for r in json.loads(out)]
    assert got == [
        (i, None if p is None or math.isnan(p) else p) for i, p in parquet_rows("models", ["model_id", "parameters"])
    ]


def test_parquet_output_needs_a_file_and_carries_units(capsys, dataset, tmp_path):
    sql = "SELECT accelerator_id, memory_bandwidth_bytes_per_s FROM accelerators ORDER BY accelerator_id"
    code, _, err = run_cli(capsys, "sql", sql, "--format", "parquet")
    assert code == 2 and "--output" in err
    target = tmp_path / "out.parquet"
    code, _, err = run_cli(capsys, "sql", sql, "--format", "parquet", "--output", str(target))
    assert code == 0, err
    table = pq.read_table(target)
    assert table.column("accelerator_id").to_pylist() == [
        r[0] for r in parquet_rows("accelerators", ["accelerator_id"])
    ]
    assert table.schema.field("memory_bandwidth_bytes_per_s").metadata[b"unit"] == b"B/s"


def test_output_files_never_land_in_the_dataset(capsys, dataset):
    before = tree_digest(dataset)
    target = dataset / "curated" / "models.parquet"
    code, _, err = run_cli(capsys, "sql", "SELECT 1 AS x", "--format", "parquet", "--output", str(target))
    assert code == 1 and "refusing" in err
    code, _, err = run_cli(
        capsys, "sql", "SELECT 1 AS x", "--format", "csv", "--output", str(dataset / "raw" / "x.csv")
    )
    assert code == 1 and "refusing" in err
    assert tree_digest(dataset) == before


def test_the_table_format_aligns_columns():
    result = query.Result(["name", "value"], [("a", 1.5), ("longer name", 1234567.0), ("c", None)], [])
    assert query.format_table(result).splitlines() == [
        "name" + " " * 15 + "value",  # every line is 11 + 2 + 11 = 24 characters wide
        "-----------  -----------",
        "a                    1.5",
        "longer name  1.23457e+06",
        "c                   NULL",
    ]


# ---------------------------------------------------------------------------------------------------------------
# describe, export, progress, help, measure


def test_describe_lists_every_column_with_its_unit(capsys, dataset):
    code, out, err = run_cli(capsys, "describe", "accelerators")
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()[3:] if line.strip()}
    for f in F.TABLES["accelerators"].fields:
        assert f.name in lines, f"{f.name} missing from describe"
    assert " B/s " in lines["memory_bandwidth_bytes_per_s"]
    assert " FLOP/s " in lines["peak_bf16_flops"]
    assert " W " in lines["tdp_watts"]


def test_describe_without_a_table_counts_rows(capsys, dataset):
    code, out, _ = run_cli(capsys, "describe")
    assert code == 0
    for name in F.TABLES:
        rows = pq.ParquetFile(dataset / "curated" / f"{name}.parquet").metadata.num_rows
        line = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert line.split()[1:3] == ["table", str(rows)]
    assert "accelerator_ratios" in out and "frontier_models" in out


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_writes_every_table_and_a_valid_package(fmt, capsys, dataset, tmp_path):
    import jsonschema

    out_dir = tmp_path / "export"
    code, _, err = run_cli(capsys, "export", str(out_dir), "--format", fmt)
    assert code == 0, err
    assert sum(1 for line in err.splitlines() if line.startswith("memwall: export ")) == len(F.TABLES)
    descriptor = json.loads((out_dir / "datapackage.json").read_text(encoding="utf-8"))
    schema = json.loads((REPO / "tests" / "schemas" / "datapackage-2.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(descriptor)
    units = {f["name"]: f.get("unit") for r in descriptor["resources"] for f in r["schema"]["fields"]}
    assert units["memory_bandwidth_bytes_per_s"] == "B/s" and units["training_compute_flop"] == "FLOP"
    ids = [r[0] for r in parquet_rows("models", ["model_id"])]
    if fmt == "csv":
        with (out_dir / "models.csv").open(encoding="utf-8", newline="") as handle:
            exported = [row["model_id"] for row in csv.DictReader(handle)]
    elif fmt == "json":
        exported = [row["model_id"] for row in json.loads((out_dir / "models.json").read_text(encoding="utf-8"))]
    else:
        exported = pq.read_table(out_dir / "models.parquet").column("model_id").to_pylist()
    assert sorted(exported) == ids


def test_export_can_put_units_in_the_csv_header(capsys, dataset, tmp_path):
    code, _, err = run_cli(capsys, "export", str(tmp_path / "e"), "--tables", "accelerators", "--units-in-header", "-q")
    assert code == 0 and err == ""
    with (tmp_path / "e" / "accelerators.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert "memory_bandwidth_bytes_per_s [B/s]" in header and "name" in header


def test_export_refuses_the_dataset_folders(capsys, dataset):
    before = tree_digest(dataset)
    for folder in (dataset / "curated", dataset / "raw" / "x", dataset):
        code, _, err = run_cli(capsys, "export", str(folder))
        assert code == 1 and "refusing" in err
    assert tree_digest(dataset) == before


def test_build_prints_one_line_per_stage_and_quiet_silences_them(capsys, monkeypatch, dataset):
    ran = []
    for name in ("ingest", "fits"):
        monkeypatch.setitem(build.STAGES, name, lambda name=name: ran.append(name))
    code, out, err = run_cli(capsys, "build", "ingest", "fits")
    assert code == 0 and ran == ["ingest", "fits"]
    lines = err.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["ingest", "fits"]
    assert all(line.endswith(" s") for line in lines)
    code, out, err = run_cli(capsys, "build", "ingest", "fits", "--quiet")
    assert code == 0 and err == "" and out == ""
    code, _, err = run_cli(capsys, "build", "fitz")
    assert code == 2 and "did you mean fits" in err


@pytest.mark.parametrize("command", ["build", "fit", "figures", "sql", "describe", "coverage", "export"])
def test_every_command_has_help_with_an_example(command, capsys):
    code, out, _ = run_cli(capsys, command, "--help")
    assert code == 0
    assert "examples:" in out and f"memwall {command}" in out.split("examples:", 1)[1]


def test_measure_says_clearly_when_the_cost_model_is_missing(capsys, monkeypatch):
    import pipeline.costmodel

    monkeypatch.setitem(sys.modules, "pipeline.costmodel.measure", None)  # import now fails
    monkeypatch.delattr(pipeline.costmodel, "measure", raising=False)
    code, out, err = run_cli(capsys, "measure", "--model", "gpt2")
    assert code == 2 and out == ""
    assert err.strip() == (
        "memwall measure: the cost model (pipeline.costmodel.measure) is not in this checkout yet; "
        "update the repository once it has landed"
    )


def test_measure_forwards_its_arguments(capsys, monkeypatch):
    seen = []
    fake = types.ModuleType("pipeline.costmodel.measure")
    fake.main = lambda argv: seen.append(argv) or 0
    monkeypatch.setitem(sys.modules, "pipeline.costmodel.measure", fake)
    import pipeline.costmodel

    monkeypatch.setattr(pipeline.costmodel, "measure", fake, raising=False)
    code, _, _ = run_cli(capsys, "measure", "--model", "gpt2", "--help")
    assert code == 0 and seen == [["--model", "gpt2", "--help"]]


def test_the_console_script_is_installed():
    import importlib.metadata

    scripts = {e.name: e.value for e in importlib.metadata.entry_points(group="console_scripts")}
    assert scripts.get("memwall") == "pipeline.cli:main"


def test_coverage_lists_the_rows_short_of_an_unmet_share(project):
    from pipeline import coverage

    assert build.run(["ingest"], quiet=True) == 0
    results = coverage.measure(project / "curated")
    short = coverage.shortfalls(project / "curated", results)
    # Fixture: GPT-3 has compute; BERT-Large and Mixtral do not (1 of 3 < 80%). Every model has parameters (met).
    assert short["models 2012-2026: share with training compute"] == ["bert-large", "mixtral-8x7b"]
    assert "models 2012-2026: share with parameters" not in short


# ---------------------------------------------------------------------------------------------------------------
# memwall sql: bounded in time and memory, interruptible, streaming; outputs never land on the project's files

CROSS_JOIN = "SELECT count(*) FROM range(100000000) a, range(100000000) b"


def test_a_query_over_the_time_limit_ends_with_a_message(capsys, dataset):
    code, out, err = run_cli(capsys, "sql", CROSS_JOIN, "--timeout", "1")
    assert code == 1 and out == ""
    assert "ran longer than the time limit (1 s" in err and "--timeout" in err, err


def test_a_query_over_the_memory_limit_ends_with_a_message(capsys, dataset):
    code, out, err = run_cli(capsys, "sql", "SELECT list(range) FROM range(300000000)", "--memory-limit", "100MB")
    assert code == 1 and out == ""
    assert "more memory than the limit" in err, err


def test_sigint_ends_a_running_query_within_a_second(dataset):
    import signal
    import time

    env = {**os.environ, "MEMWALL_ROOT": str(dataset)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "sql", CROSS_JOIN, "--timeout", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3.0)  # imports done, the query running
    assert process.poll() is None, process.communicate()
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    elapsed = time.monotonic() - sent
    assert process.returncode == 1 and "interrupted (Ctrl-C)" in err, err
    assert elapsed < 1.0, f"the query ran {elapsed:.2f} s after Ctrl-C"


def test_invalid_utf8_on_standard_input_is_a_one_line_error(dataset):
    env = {**os.environ, "MEMWALL_ROOT": str(dataset)}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "sql", "-"], input=b"select \xff\xfe 1", env=env, capture_output=True
    )
    err = result.stderr.decode()
    assert result.returncode == 1 and err.count("\n") == 1 and "not UTF-8" in err, err


def test_an_overlong_query_is_refused_before_parsing(capsys, dataset):
    sql = " UNION ALL ".join(["SELECT 1"] * 20_000)
    code, _, err = run_cli(capsys, "sql", sql)
    assert code == 1 and "at most 100,000" in err, err


def test_results_stream_and_the_table_format_stops_early(capsys, dataset):
    code, out, err = run_cli(capsys, "sql", "SELECT * FROM range(3000000000)", "--max-rows", "3")
    assert code == 0, err
    assert out.splitlines()[-1].startswith("(more than 3 rows")
    code, out, err = run_cli(capsys, "sql", "SELECT * FROM range(5)", "--format", "json")
    assert code == 0 and json.loads(out) == [{"range": i} for i in range(5)]


@pytest.mark.parametrize(
    "target",
    [
        "pipeline/cli.py",
        "figures/x/manifest.json",
        ".git/hooks/pre-commit",
        "raw/x.csv",
        "curated/x.parquet",
        "datapackage.json",
        "result.csv",
    ],
)
def test_output_into_the_project_is_refused(capsys, dataset, target):
    for folder in ("pipeline", "figures", ".git/hooks", "raw"):
        (dataset / folder).mkdir(parents=True, exist_ok=True)
    before = tree_digest(dataset)
    code, _, err = run_cli(capsys, "sql", "SELECT 1 AS x", "--format", "parquet", "--output", str(dataset / target))
    assert code == 1 and "refusing" in err, err
    assert tree_digest(dataset) == before


def test_output_into_a_users_own_folder_works_and_never_overwrites_without_force(capsys, dataset):
    target = dataset / "out" / "x.csv"
    code, _, err = run_cli(capsys, "sql", "SELECT 1 AS x", "--format", "csv", "--output", str(target))
    assert code == 0 and target.read_text() == "x\n1\n", err
    code, _, err = run_cli(capsys, "sql", "SELECT 2 AS x", "--format", "csv", "--output", str(target))
    assert code == 1 and "--force" in err and target.read_text() == "x\n1\n"
    code, _, err = run_cli(capsys, "sql", "SELECT 2 AS x", "--format", "csv", "--output", str(target), "--force")
    assert code == 0 and target.read_text() == "x\n2\n"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM checkpoint()",
        "SELECT * FROM query('SELECT 1')",
        "SELECT * FROM glob('*')",
        "PIVOT (SELECT * FROM query_table('models')) ON domain USING count(*)",
    ],
)
def test_table_functions_come_from_an_allow_list(capsys, dataset, sql):
    code, _, err = run_cli(capsys, "sql", sql)
    assert code == 1 and "is not allowed here" in err, err
