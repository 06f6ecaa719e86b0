"""docs/QUERIES.md keeps its answers true: every ```sql block is run and the ```text block after it is its output.

    python -m pipeline.docs           rewrite the outputs from the current curated/ (run when the data changes;
                                      `make figures` and `memwall build` do it through the package stage)
    python -m pipeline.docs --check   exit 1, naming the stale examples, if any output differs

Each query runs exactly as `memwall sql "<query>"` runs it: read-only, over views on curated/*.parquet, printed
by the same table formatter with the same defaults. tests/test_cli.py runs every query on the page against both
the DuckDB file and the Parquet files and compares with what the page shows.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline import paths, query
from pipeline.outputs import staged

QUERIES = Path("docs") / "QUERIES.md"
FENCE_SQL = re.compile(r"^```sql[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
FENCE_TEXT = re.compile(r"(\s*\n)?```text[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass
class Example:
    sql: str
    shown: str | None  # the text block after the query, None if missing
    sql_span: tuple[int, int]
    shown_span: tuple[int, int] | None  # span of the whole text block, fences included
    line: int


def examples(text: str) -> list[Example]:
    """Every ```sql block of the page with the ```text block that follows it (blank lines allowed between)."""
    out = []
    for match in FENCE_SQL.finditer(text):
        after = FENCE_TEXT.match(text, match.end() + 1) if match.end() < len(text) else None
        shown = after.group(2).rstrip("\n") if after else None
        shown_span = (after.start(), after.end()) if after else None
        out.append(
            Example(match.group(1).strip(), shown, match.span(), shown_span, text.count("\n", 0, match.start()) + 1)
        )
    return out


def render(sql: str, con) -> str:
    """What `memwall sql` prints for the query (statements separated by a blank line)."""
    return "\n\n".join(query.format_table(r, query.TABLE_MAX_ROWS, query.TABLE_MAX_WIDTH) for r in query.run(sql, con))


def refresh(text: str, curated_dir: Path | None = None, source: str = "parquet") -> str:
    """The page with every output block rewritten (and added where missing)."""
    con, _ = query.connect(source, curated_dir or paths.CURATED)
    try:
        pieces, position = [], 0
        for example in examples(text):
            try:
                output = render(example.sql, con)
            except query.QueryError as err:
                raise query.QueryError(f"{QUERIES}:{example.line}: {err}") from None
            # a value cannot close the block early: backticks in an output become the look-alike U+02CB
            block = f"```text\n{output.replace('`', chr(0x2CB))}\n```"
            if example.shown_span:
                start, end = example.shown_span
                pieces += [text[position:start], "\n" if text[start] == "\n" else "", block]
                position = end
            else:
                end = example.sql_span[1]
                pieces += [text[position:end], "\n\n", block]
                position = end
        pieces.append(text[position:])
        return "".join(pieces)
    finally:
        con.close()


def stale(text: str, curated_dir: Path | None = None, source: str = "parquet") -> list[str]:
    """One line per example whose shown output differs from what its query returns now."""
    con, _ = query.connect(source, curated_dir or paths.CURATED)
    problems = []
    try:
        for example in examples(text):
            try:
                output = render(example.sql, con)
            except query.QueryError as err:
                problems.append(f"{QUERIES}:{example.line}: the query fails: {err}")
                continue
            if example.shown is None:
                problems.append(f"{QUERIES}:{example.line}: no ```text output block after the query")
            elif example.shown != output:
                problems.append(f"{QUERIES}:{example.line}: the output shown differs from what the query returns")
    finally:
        con.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.docs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report stale outputs instead of rewriting them")
    args = parser.parse_args(argv)
    page = paths.ROOT / QUERIES
    text = page.read_text(encoding="utf-8")
    if args.check:
        problems = stale(text)
        for problem in problems:
            print(f"memwall: {problem}", file=sys.stderr)
        if problems:
            print("memwall: run `python -m pipeline.docs` to rewrite the outputs", file=sys.stderr)
        return 1 if problems else 0
    try:
        new = refresh(text)
    except query.QueryError as err:
        print(f"memwall: {err}", file=sys.stderr)
        return 1
    with staged() as out:
        out.write_text(page, new)
    print(f"memwall: rewrote the outputs of {len(examples(new))} queries in {QUERIES}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
