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


def parse(sql: str) -> list[duckdb.Statement]:
    """Split and type the statements with DuckDB's parser; refuse the whole input if any statement writes."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        raise QueryError(first_line(err)) from None
    if not statements:
        raise QueryError("no SQL statement given")
    for statement in statements:
        check_statement(statement)
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


def _sandbox(con: duckdb.DuckDBPyConnection, allowed: list[Path]) -> None:
    dirs = sorted({p.resolve().as_posix().rstrip("/") + "/" for p in allowed})
    con.execute("SET allowed_directories = [" + ", ".join(_quote(d) for d in dirs) + "]")
    con.execute("SET temp_directory = ''")  # nothing is spilled to disk
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def connect(source: str = "auto", curated_dir: Path | None = None, database: Path | None = None):
    """A read-only, sandboxed connection to the dataset. Returns (connection, 'database' | 'parquet')."""
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
    _sandbox(con, [paths.ROOT, curated_dir])
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
    return QueryError(first_line(err))


def execute(con: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> Result:
    try:
        cursor = con.execute(statement.query)
        rows = cursor.fetchall()
        description = cursor.description or []
    except duckdb.Error as err:
        raise explain_error(err, con) from None
    return Result([d[0] for d in description], rows, [str(d[1]) for d in description], statement.type)


def run(sql: str, con: duckdb.DuckDBPyConnection) -> list[Result]:
    """Check every statement, then run them in order; one Result per statement."""
    return [execute(con, statement) for statement in parse(sql)]


def run_arrow(sql: str, con: duckdb.DuckDBPyConnection):
    """One checked statement's result as a pyarrow Table (for Parquet output)."""
    statements = parse(sql)
    if len(statements) != 1:
        raise QueryError(f"--format parquet takes exactly one statement; got {len(statements)}")
    try:
        return con.sql(statements[0].query).to_arrow_table()
    except duckdb.Error as err:
        raise explain_error(err, con) from None


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


def format_table(result: Result, max_rows: int = 0, max_width: int = 0) -> str:
    """An aligned text table: numbers right-aligned, text left-aligned, one header rule."""
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
    if len(rows) < len(result.rows):
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
