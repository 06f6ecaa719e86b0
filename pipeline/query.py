"""Read-only SQL over the dataset: the engine behind `memwall sql`, `memwall describe` and docs/QUERIES.md.

Three layers keep a query from changing or reaching past the dataset:

1. Before anything runs, DuckDB's own parser (``duckdb.extract_statements``) splits the input and types each
   statement. Only reads pass: SELECT (with WITH, FROM-first, DESCRIBE, SHOW, SUMMARIZE), PIVOT/UNPIVOT, EXPLAIN of
   a read, and a short list of read-only PRAGMAs. Everything else (INSERT, UPDATE, DELETE, TRUNCATE, CREATE, ALTER,
   COMMENT, DROP, COPY, EXPORT, IMPORT, ATTACH, DETACH, INSTALL, LOAD, SET, RESET, USE, CALL, CHECKPOINT, VACUUM,
   transactions, PREPARE ...) is refused with a one-line reason, and if one statement of the input is refused,
   none runs. ``EXPLAIN ANALYZE`` executes its statement, so the explained statement is checked too.
2. The connection is read-only: ``curated/memwall.duckdb`` opened with ``read_only=True`` when it is at least as
   new as the Parquet files, else an in-memory database holding views over ``curated/*.parquet``.
3. DuckDB's sandbox: ``enable_external_access = false`` with ``allowed_directories`` = the repository, no spill
   directory, and ``lock_configuration = true``. A query may read files inside the repository (raw/*.csv,
   curated/*.parquet), never outside it, never a URL, and cannot change a setting. (The read-only flag alone lets
   COPY TO, ATTACH, INSTALL and LOAD through, and the sandbox still lets COPY write inside the allowed directories:
   layer 1 is what stops those.)

Errors come back as one line; an unknown table, view or column names the closest existing ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import difflib
import functools
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline import fields as F
from pipeline import paths

ST = duckdb.StatementType

# Why each kind of statement is refused (keyed by DuckDB's statement type).
REFUSED: dict[object, str] = {
    ST.INSERT: "it writes rows",
    ST.UPDATE: "it changes rows",
    ST.DELETE: "it deletes rows",
    ST.MERGE_INTO: "it changes rows",
    ST.CREATE: "it creates objects in the database",
    ST.ALTER: "it changes the database (ALTER, COMMENT ON)",
    ST.DROP: "it drops objects from the database",
    ST.COPY: "it copies data to or from files",
    ST.COPY_DATABASE: "it copies a database",
    ST.EXPORT: "it writes files",
    ST.ATTACH: "it opens another database",
    ST.DETACH: "it closes a database",
    ST.LOAD: "it installs or loads an extension",
    ST.EXTENSION: "it changes extensions",
    ST.SET: "it changes a setting (SET, RESET, USE)",
    ST.VARIABLE_SET: "it sets a variable",
    ST.CALL: "it runs a procedure (CALL, CHECKPOINT); use SELECT * FROM <table function>(...) instead",
    ST.TRANSACTION: "transactions have no use on a read-only dataset",
    ST.VACUUM: "it rewrites storage",
    ST.ANALYZE: "it updates statistics",
    ST.PREPARE: "prepared statements are not supported here",
    ST.EXECUTE: "prepared statements are not supported here",
    ST.PRAGMA: "this PRAGMA changes state or reads files",
    ST.MULTI: "it expands into several statements",
}
# Clearer reasons for statements DuckDB files under another type (IMPORT is a PRAGMA, CHECKPOINT a CALL ...).
KEYWORD_REASONS = {
    "IMPORT": "it loads a database export into the database",
    "CHECKPOINT": "it writes the database file",
    "INSTALL": "it downloads and installs an extension",
    "LOAD": "it loads an extension",
    "TRUNCATE": "it deletes every row of a table",
    "COMMENT": "it changes a comment in the database",
    "USE": "it changes the default database",
}
READ_ONLY_PRAGMAS = frozenset(
    {
        "version",
        "platform",
        "user_agent",
        "database_list",
        "database_size",
        "show_databases",
        "show_tables",
        "show_tables_expanded",
        "show",
        "table_info",
        "storage_info",
        "metadata_info",
        "functions",
        "collations",
    }
)
TABLE_MAX_ROWS = 100  # defaults of the aligned-table output (memwall sql, docs/QUERIES.md)
TABLE_MAX_WIDTH = 160  # characters per cell: URLs fit, long notes are cut with an ellipsis
ALLOWED_HELP = "SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE, PIVOT, EXPLAIN and read-only PRAGMAs"


class QueryError(Exception):
    """A query that was refused or failed; ``str()`` is one line meant for the user."""


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]
    types: list[str]
    statement_type: object = ST.SELECT


# ---------------------------------------------------------------------------------------------------------------
# Checking statements before they run


def _strip_comments_and_space(sql: str) -> str:
    """The text after leading whitespace, -- line comments and /* block */ comments."""
    i = 0
    while i < len(sql):
        if sql[i].isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = len(sql) if end < 0 else end + 2
        else:
            break
    return sql[i:]


def leading_keyword(sql: str) -> str:
    """The statement's first word, upper-cased (comments and opening parentheses skipped)."""
    text = _strip_comments_and_space(sql).lstrip("( \t\r\n")
    match = re.match(r"[A-Za-z_]+", text)
    return match.group(0).upper() if match else ""


def _pragma_name(sql: str) -> str:
    match = re.match(r"PRAGMA\s+([A-Za-z_][A-Za-z_0-9]*)", _strip_comments_and_space(sql), re.IGNORECASE)
    return match.group(1).lower() if match else ""


def _explained_statement(sql: str) -> str | None:
    """The statement an EXPLAIN [ANALYZE] [(options)] explains, or None if it cannot be isolated."""
    match = re.match(
        r"EXPLAIN\b\s*(?:ANALY[SZ]E\b\s*)?(?:\([^()]*\)\s*)?", _strip_comments_and_space(sql), re.IGNORECASE
    )
    if not match:
        return None
    return _strip_comments_and_space(sql)[match.end() :]


def _short(sql: str, width: int = 40) -> str:
    text = " ".join(_strip_comments_and_space(sql).split()).rstrip(";")
    return text if len(text) <= width else text[: width - 3] + "..."


def check_statement(statement: duckdb.Statement, depth: int = 0) -> None:
    """Raise QueryError unless the parsed statement only reads."""
    kind = statement.type
    keyword = leading_keyword(statement.query)
    if kind == ST.SELECT:
        return
    if kind == ST.PRAGMA and keyword == "PRAGMA" and _pragma_name(statement.query) in READ_ONLY_PRAGMAS:
        return
    if kind == ST.MULTI and keyword in ("PIVOT", "UNPIVOT"):
        return
    if kind == ST.EXPLAIN and depth == 0:
        inner = _explained_statement(statement.query)
        try:
            parsed = duckdb.extract_statements(inner) if inner else []
        except duckdb.Error:
            parsed = []
        if len(parsed) != 1:
            raise QueryError(f"refused {_short(statement.query)!r}: could not isolate the statement it explains")
        try:
            check_statement(parsed[0], depth + 1)
        except QueryError as err:
            raise QueryError(
                f"refused {_short(statement.query)!r}: the explained statement is refused ({err})"
            ) from None
        return
    reason = KEYWORD_REASONS.get(keyword) or REFUSED.get(kind, "it is not a read")
    if keyword == "FORCE":  # FORCE CHECKPOINT (a CALL) or FORCE INSTALL (a LOAD)
        reason = "it writes the database file" if kind == ST.CALL else REFUSED.get(kind, reason)
    label = keyword or str(kind).rsplit(".", 1)[-1]
    raise QueryError(
        f"refused {label} ({_short(statement.query)!r}): {reason}. memwall sql is read-only: it runs {ALLOWED_HELP}"
    )


# Table functions a query may call (an allow-list: anything else, such as checkpoint() or query(), is refused).
ALLOWED_TABLE_FUNCTIONS = frozenset(
    {
        "range",
        "generate_series",
        "unnest",
        "read_parquet",
        "parquet_scan",
        "parquet_metadata",
        "parquet_schema",
        "parquet_kv_metadata",
        "read_csv",
        "read_csv_auto",
        "duckdb_tables",
        "duckdb_views",
        "duckdb_columns",
        "duckdb_functions",
        "duckdb_types",
        "duckdb_schemas",
        "duckdb_constraints",
        "duckdb_databases",
        "pragma_table_info",
        "pragma_show",
    }
)
MAX_QUERY_BYTES = 100_000  # a longer query is refused before DuckDB parses it (parsing alone can take gigabytes)


def table_functions(sql: str) -> list[str] | None:
    """Names of every table function a single SELECT calls, anywhere in it (subqueries, CTEs, joins), read from DuckDB's
    own parse tree (json_serialize_sql); None if DuckDB cannot serialize the statement."""
    import json

    con = duckdb.connect()
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    except duckdb.Error:
        return None
    finally:
        con.close()
    if tree.get("error"):
        return None
    names: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TABLE_FUNCTION" and isinstance(node.get("function"), dict):
                names.append(str(node["function"].get("function_name", "")).lower())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return names


@functools.cache
def _all_table_functions() -> frozenset[str]:
    con = duckdb.connect()
    try:
        rows = con.execute("SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type = 'table'")
        return frozenset(r[0] for r in rows.fetchall())
    finally:
        con.close()


def _called_table_functions(sql: str) -> list[str]:
    """Names of DuckDB table functions called anywhere in the text (strings, quoted names and comments removed):
    the conservative check for statements DuckDB cannot serialize."""
    text = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", " ", sql, flags=re.DOTALL)
    called = {m.lower() for m in re.findall(r"\b([A-Za-z_][A-Za-z_0-9]*)\s*\(", text)}
    return sorted(called & _all_table_functions())


def check_table_functions(statement: duckdb.Statement) -> None:
    """Refuse a statement that calls a table function outside ALLOWED_TABLE_FUNCTIONS."""
    text = statement.query
    if statement.type == ST.EXPLAIN:
        text = _explained_statement(text) or text
    names = table_functions(text)
    if names is None:  # PIVOT and others DuckDB does not serialize: every call of a known table function in the text
        names = _called_table_functions(text)
    refused = sorted({n for n in names if n not in ALLOWED_TABLE_FUNCTIONS})
    if refused:
        raise QueryError(
            f"refused {_short(statement.query)!r}: table function {', '.join(refused)}() is not allowed here; "
            f"memwall sql allows {', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))}"
        )


def parse(sql: str) -> list[duckdb.Statement]:
    """Split and type the statements with DuckDB's parser; refuse the whole input if any statement writes or calls a
    table function that is not on the allow-list."""
    if len(sql.encode("utf-8")) > MAX_QUERY_BYTES:
        raise QueryError(
            f"the query is {len(sql.encode('utf-8')):,} bytes; memwall sql takes at most {MAX_QUERY_BYTES:,} "
            "(write a shorter query, e.g. a join instead of a long UNION ALL)"
        )
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        raise QueryError(first_line(err)) from None
    if not statements:
        raise QueryError("no SQL statement given")
    for statement in statements:
        check_statement(statement)
        if statement.type != ST.PRAGMA:
            check_table_functions(statement)
    return statements


# ---------------------------------------------------------------------------------------------------------------
# The read-only connection


def database_is_current(database: Path, curated_dir: Path) -> bool:
    """True when the DuckDB file exists and is at least as new as every curated Parquet file."""
    if not database.exists():
        return False
    newest = max((p.stat().st_mtime for p in curated_dir.glob("*.parquet")), default=0.0)
    return database.stat().st_mtime >= newest


def choose_source(source: str = "auto", curated_dir: Path | None = None, database: Path | None = None) -> str:
    """'database' or 'parquet': what `source` (auto | database | parquet) resolves to."""
    curated_dir = curated_dir or paths.CURATED
    database = database or paths.DATABASE
    if source == "database":
        if not database.exists():
            raise QueryError(f"{_rel(database)} does not exist: run `memwall build` (or use --source parquet)")
        return "database"
    if source == "parquet":
        return "parquet"
    return "database" if database_is_current(database, curated_dir) else "parquet"


DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_TIMEOUT_S = 60.0


def _sandbox(con: duckdb.DuckDBPyConnection, allowed: list[Path], memory_limit: str = DEFAULT_MEMORY_LIMIT) -> None:
    dirs = sorted({p.resolve().as_posix().rstrip("/") + "/" for p in allowed})
    con.execute("SET allowed_directories = [" + ", ".join(_quote(d) for d in dirs) + "]")
    con.execute("SET temp_directory = ''")  # nothing is spilled to disk: the memory limit is the whole budget
    try:
        con.execute(f"SET memory_limit = {_quote(memory_limit)}")
    except duckdb.Error as err:
        raise QueryError(f"--memory-limit {memory_limit!r}: {first_line(err)} (write e.g. 2GB or 500MB)") from None
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def connect(
    source: str = "auto",
    curated_dir: Path | None = None,
    database: Path | None = None,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
):
    """A read-only, sandboxed connection to the dataset with a memory limit. Returns (connection, 'database' |
    'parquet')."""
    from pipeline import database as db

    curated_dir = curated_dir or paths.CURATED
    database = database or paths.DATABASE
    chosen = choose_source(source, curated_dir, database)
    missing = [name for name in F.TABLES if not (curated_dir / f"{name}.parquet").exists()]
    if chosen == "database":
        try:
            con = duckdb.connect(str(database), read_only=True)
        except duckdb.Error as err:
            raise QueryError(
                f"cannot open {_rel(database)} read-only ({first_line(err)}); try --source parquet"
            ) from None
    else:
        if missing:
            raise QueryError(f"{_rel(curated_dir)} lacks {', '.join(missing)}.parquet: run `memwall build`")
        con = duckdb.connect()
        db.create_schema(con, curated_dir, materialize=False)
    _sandbox(con, [paths.ROOT, curated_dir], memory_limit)
    return con, chosen


# ---------------------------------------------------------------------------------------------------------------
# Running and explaining failures


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def catalog_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT internal "
        "UNION SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def catalog_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """column name -> the tables and views that have it."""
    rows = con.execute(
        "SELECT c.column_name, c.table_name FROM duckdb_columns() c WHERE NOT c.internal ORDER BY 2, c.column_index"
    ).fetchall()
    out: dict[str, list[str]] = {}
    for column, table in rows:
        out.setdefault(column, []).append(table)
    return out


def closest(name: str, candidates: list[str], n: int = 3) -> list[str]:
    """Candidates that start with `name` first (a column name missing its unit suffix), then difflib's best."""
    lowered = name.lower()
    prefixed = sorted((c for c in candidates if c.lower().startswith(lowered) and c.lower() != lowered), key=len)
    fuzzy = difflib.get_close_matches(lowered, candidates, n=n, cutoff=0.55)
    out: list[str] = []
    for c in [*prefixed, *fuzzy]:
        if c not in out:
            out.append(c)
    return out[:n]


def _did_you_mean(options: list[str]) -> str:
    if not options:
        return ""
    return "; did you mean " + " or ".join(options) + "?"


def explain_error(err: duckdb.Error, con: duckdb.DuckDBPyConnection) -> QueryError:
    """One line for a DuckDB error, naming the closest tables or columns for unknown ones."""
    text = str(err)
    table = re.search(r"Table with name (\S+) does not exist", text)
    if table:
        name = table.group(1).strip('"')
        options = closest(name, catalog_names(con))
        return QueryError(f"unknown table or view {name!r}{_did_you_mean(options)}")
    column = re.search(r'Referenced column "([^"]+)" not found', text) or re.search(
        r'does not have a column named "([^"]+)"', text
    )
    if column:
        name = column.group(1)
        columns = catalog_columns(con)
        in_scope = re.findall(r'"([^"]+)"', text.split("Candidate bindings", 1)[1]) if "Candidate" in text else []
        options = closest(name, [c for c in in_scope if c in columns] or list(columns))
        if not options:
            options = closest(name, list(columns))
        labelled = [f"{c} ({', '.join(columns.get(c, [])[:3])})" if columns.get(c) else c for c in options]
        return QueryError(f"unknown column {name!r}{_did_you_mean(labelled)}")
    denied = re.search(r'Cannot access (?:file|directory) "([^"]+)"', text)
    if isinstance(err, duckdb.PermissionException) and denied:
        return QueryError(
            f"refused to read {denied.group(1)!r}: queries may read only files inside the repository "
            f"({paths.ROOT.as_posix()}), and no URLs"
        )
    if "configuration has been locked" in text:
        return QueryError("refused: settings cannot be changed in memwall sql")
    if isinstance(err, duckdb.OutOfMemoryException) or "Out of Memory" in text:
        return QueryError(
            "the query needs more memory than the limit allows (memwall sql --memory-limit, default "
            f"{DEFAULT_MEMORY_LIMIT}); narrow it or raise the limit"
        )
    if isinstance(err, duckdb.InterruptException) or "INTERRUPT" in text.upper():
        return QueryError("the query was interrupted")
    macro = re.search(r"No function matches the given name and argument types '(\w+)\(([^)]*)\)'", text)
    if macro and macro.group(1) in ("log10", "regr_slope", "year", "dayofyear", "regr_count"):
        return QueryError(
            "wrong arguments for a growth macro: growth(year, value) takes a numeric fractional year (e.g. "
            "release_fractional_year) and a positive value; growth_per_2y(date, value) takes a DATE (e.g. "
            f"release_date) and a positive value (DuckDB: {first_line(err)})"
        )
    return QueryError(first_line(err))


FETCH_ROWS = 2048  # rows fetched from DuckDB at a time when streaming


def bounded(con: duckdb.DuckDBPyConnection, work, timeout_s: float | None = DEFAULT_TIMEOUT_S):
    """Run work(cursor) on a cursor of `con` in a worker thread while this thread waits, so that a time limit and
    Ctrl-C can interrupt DuckDB (a query blocks the thread that runs it, and Python handles signals in the main thread
    only). Returns what work returns; raises QueryError when the limit passes or the user interrupts."""
    import threading
    import time

    cursor = con.cursor()
    outcome: dict = {}
    done = threading.Event()

    def target() -> None:
        try:
            outcome["value"] = work(cursor)
        except BaseException as err:  # handed to the waiting thread, without the frames that hold the result
            outcome["error"] = err.with_traceback(None)
        finally:
            try:
                cursor.close()  # ends any pending result, so the connection is free again
            except duckdb.Error:
                pass
            done.set()

    worker = threading.Thread(target=target, name="memwall-query", daemon=True)
    deadline = None if not timeout_s else time.monotonic() + timeout_s
    reason = None
    worker.start()
    # Poll with sleep, not Thread.join: a Ctrl-C that lands inside join() can leave the thread looking finished
    # while it still runs (CPython 3.11), and the connection busy.
    while not done.is_set():
        try:
            time.sleep(0.02)
        except KeyboardInterrupt:
            reason = reason or "interrupted (Ctrl-C)"
            cursor.interrupt()
            continue
        if deadline is not None and time.monotonic() > deadline and reason is None:
            reason = f"the query ran longer than the time limit ({timeout_s:g} s; raise it with --timeout)"
            cursor.interrupt()
    worker.join()
    if reason:
        outcome.clear()  # the interrupted query's exception and its frames hold the connection busy
        raise QueryError(reason)
    if "error" in outcome:
        err = outcome.pop("error")
        if isinstance(err, duckdb.Error):
            raise explain_error(err, con) from None
        raise err
    return outcome.get("value")


def execute(
    con: duckdb.DuckDBPyConnection, statement: duckdb.Statement, timeout_s: float | None = DEFAULT_TIMEOUT_S
) -> Result:
    def work(c: duckdb.DuckDBPyConnection) -> Result:
        cursor = c.execute(statement.query)
        description = cursor.description or []
        rows = cursor.fetchall()
        return Result([d[0] for d in description], rows, [str(d[1]) for d in description], statement.type)

    return bounded(con, work, timeout_s)


def stream(
    con: duckdb.DuckDBPyConnection,
    statement: duckdb.Statement,
    consume,
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
):
    """Run a checked statement and hand its result to consume(columns, types, batches), where batches yields lists of
    at most FETCH_ROWS rows as DuckDB produces them: nothing is held beyond what consume keeps."""

    def work(c: duckdb.DuckDBPyConnection):
        cursor = c.execute(statement.query)
        description = cursor.description or []

        def batches():
            while True:
                rows = cursor.fetchmany(FETCH_ROWS)
                if not rows:
                    return
                yield rows

        return consume([d[0] for d in description], [str(d[1]) for d in description], batches())

    return bounded(con, work, timeout_s)


def run(sql: str, con: duckdb.DuckDBPyConnection, timeout_s: float | None = DEFAULT_TIMEOUT_S) -> list[Result]:
    """Check every statement, then run them in order; one Result per statement."""
    return [execute(con, statement, timeout_s) for statement in parse(sql)]


def write_parquet(sql: str, con: duckdb.DuckDBPyConnection, target: Path, timeout_s: float | None) -> int:
    """One checked statement's result streamed into a Parquet file (record batches, never the whole result in
    memory), with each column's unit from the registry as field metadata. Returns the number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    statements = parse(sql)
    if len(statements) != 1:
        raise QueryError(f"--format parquet takes exactly one statement; got {len(statements)}")

    def work(c: duckdb.DuckDBPyConnection) -> int:
        reader = c.sql(statements[0].query).to_arrow_reader(FETCH_ROWS * 8)
        fields = []
        for f in reader.schema:
            unit = registry_unit(f.name)
            fields.append(f.with_metadata({"unit": unit}) if unit else f)
        schema = pa.schema(fields)
        rows = 0
        with pq.ParquetWriter(target, schema) as writer:
            for batch in reader:
                writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
                rows += batch.num_rows
        return rows

    return bounded(con, work, timeout_s)


# ---------------------------------------------------------------------------------------------------------------
# Formatting results


def format_value(value) -> str:
    """A cell as text: floats with 6 significant digits, ISO dates, NULL for missing."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return f"{value:.6g}"
    if isinstance(value, decimal.Decimal):
        return f"{float(value):.6g}" if value != value.to_integral_value() else str(value.quantize(1))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _is_number(value) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


TABLE_HARD_LIMIT = 100_000  # the table format never holds more rows than this (--format csv streams any number)


def format_table(result: Result, max_rows: int = 0, max_width: int = 0, more: bool = False, limit: int = 0) -> str:
    """An aligned text table: numbers right-aligned, text left-aligned, one header rule. `more`: the result had more
    rows than the `limit` shown (a streamed result, whose total is not known)."""
    if result.statement_type == ST.EXPLAIN and len(result.columns) == 2:
        return "\n".join(str(row[1]).rstrip("\n") for row in result.rows)
    rows = result.rows if max_rows <= 0 else result.rows[:max_rows]

    def cell(value) -> str:
        text = format_value(value).replace("\n", " ")
        if max_width > 0 and len(text) > max_width:
            text = text[: max_width - 1] + "…"
        return text

    body = [[cell(v) for v in row] for row in rows]
    numeric = [
        all(_is_number(row[i]) or row[i] is None for row in rows) and any(_is_number(row[i]) for row in rows)
        for i in range(len(result.columns))
    ]
    widths = [max([len(name), *(len(r[i]) for r in body)]) for i, name in enumerate(result.columns)]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    lines = [line(list(result.columns)), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in body]
    if more:
        lines.append(
            f"(more than {limit} rows; {limit} shown; "
            + ("--max-rows 0 shows up to 100,000, " if limit < TABLE_HARD_LIMIT else "")
            + "--format csv streams them all)"
        )
    elif len(rows) < len(result.rows):
        lines.append(f"({len(result.rows)} rows, {len(rows)} shown; --max-rows 0 shows all)")
    elif not result.rows:
        lines.append("(no rows)")
    return "\n".join(lines)


def _json_value(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return value


def format_json(result: Result) -> str:
    rows = [dict(zip(result.columns, (_json_value(v) for v in row), strict=True)) for row in result.rows]
    return json.dumps(rows, indent=2, ensure_ascii=False)


def _csv_value(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def csv_writer(handle):
    """A stream consumer writing CSV rows to handle as they arrive; returns the row count."""

    def consume(columns, types, batches) -> int:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        count = 0
        for batch in batches:
            writer.writerows([_csv_value(v) for v in row] for row in batch)
            count += len(batch)
        return count

    return consume


def json_writer(handle):
    """A stream consumer writing a JSON array of row objects to handle as rows arrive; returns the row count."""

    def consume(columns, types, batches) -> int:
        count = 0
        handle.write("[")
        for batch in batches:
            for row in batch:
                record = dict(zip(columns, (_json_value(v) for v in row), strict=True))
                handle.write(("," if count else "") + "\n  " + json.dumps(record, ensure_ascii=False))
                count += 1
        handle.write("\n]\n" if count else "]\n")
        return count

    return consume


def format_csv(result: Result) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([_csv_value(v) for v in row] for row in result.rows)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------------
# Units and descriptions of columns, from the registry


def registry_unit(column: str) -> str | None:
    """The unit of a column name when every registry field of that name agrees on it, else None."""
    units = {f.unit for t in F.TABLES.values() for f in t.fields if f.name == column}
    return units.pop() if len(units) == 1 else None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(paths.ROOT.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
