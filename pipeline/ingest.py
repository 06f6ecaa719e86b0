"""Ingest: raw/*.csv -> validated, unit-normalised tables -> curated/<table>.parquet.

Load (read every CSV of a table as text), process (check every cell against the field registry, convert units,
derive columns), save (Parquet with field metadata, written atomically). Every bad cell is reported with its file,
line, column, the value found and what was expected; the build stops before writing anything if there is one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import fields as F
from pipeline import units

ID_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
# A plain https URL: a host name, then only the characters RFC 3986 allows in a path, query and fragment (no quotes,
# angle brackets, backslashes, braces or spaces: nothing that could close an attribute or open markup).
URL_PATTERN = r"https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::[0-9]{1,5})?(?:[/?#][A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*)?"
DATE_PATTERN = r"(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?)?"
EARLIEST_DATE = dt.date(1940, 1, 1)
NAME_NOISE = r"[\s_\-]+"  # ignored when comparing names for "the same product under two ids"
# Patterns with \s run in Python, one cell at a time (pandas keeps them from Arrow's regex engine, RE2, whose \s
# misses \v and \x1c-\x1f). On ASCII text these spell out what Python's \s matches there, and run in RE2.
ASCII_SPACE = units.ASCII_SPACE
ASCII_URL_PATTERN = URL_PATTERN  # no \s in it: RE2 and Python's re agree
ASCII_NAME_NOISE = rf"[{ASCII_SPACE}_\-]+"
MAX_REPORTED_PROBLEMS = 200
CSV_BLOCK_BYTES = 64 << 20
LARGE_FILE_BYTES = 16 << 20  # above: the file's bytes are checked in chunks and Arrow parses it from disk
SCAN_CHUNK_BYTES = 16 << 20
# Longest cell accepted per raw column (characters); other columns: DEFAULT_MAX_CELL. Far above any real record, far
# below what would bloat the tables or the figures' tooltips.
MAX_CELL = {
    "notes": 4000,
    "parameter_check": 400,
    "source_url": 500,
    "training_compute_source_url": 500,
    "name": 160,
    "organization": 300,
}
DEFAULT_MAX_CELL = 200
# Short identifying text that figures and reports print: no markup characters at all.
PLAIN_COLUMNS = (
    "name",
    "vendor",
    "organization",
    "memory_type",
    "interconnect_name",
    "host_interface",
    "process_node",
    "family",
    "generation",
    "standard",
)
TAG_PATTERN = r"<\s*[A-Za-z/!?]"  # the start of an HTML/XML tag, comment or processing instruction
ASCII_TAG_PATTERN = rf"<[{ASCII_SPACE}]*[A-Za-z/!?]"


def _forbidden_characters() -> str:
    """A regex class of the characters no record contains: controls (tab included; line breaks are refused
    separately), format characters (zero-width spaces and joiners, bidirectional overrides and isolates, soft hyphen,
    byte-order mark, invisible tags), private-use characters, line and paragraph separators, and every space other than
    the ASCII space (no-break, thin, ideographic ...)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x110000):
        if code in (0x0A, 0x0D):
            continue
        category = unicodedata.category(chr(code))
        bad = category in ("Cc", "Cf", "Co", "Zl", "Zp") or (category == "Zs" and code != 0x20)
        if bad:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    parts = [re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges]
    return "[" + "".join(parts) + "]"


# _forbidden_characters() written out (computing it takes a quarter second at every import); a test checks the two
# agree for this Python's Unicode tables.
FORBIDDEN = re.compile(
    r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\xa0\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u1680\u180e"
    r"\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f\u3000\ue000-\uf8ff\ufeff\ufff9-\ufffb\U000110bd"
    r"\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    r"\U000f0000-\U000ffffd\U00100000-\U0010fffd]"
)
# The ASCII characters FORBIDDEN lets through (every other character is forbidden or not ASCII)
ASCII_ALLOWED = bytes(code for code in range(128) if not FORBIDDEN.match(chr(code)))
# Letters of other scripts that look like Latin ones: inside a Latin word they make a look-alike name.
CONFUSABLE = str.maketrans(
    "АВЕКМНОРСТХаеорсухіјѕԁԛԝвкмнтΑΒΕΖΗΙΚΜΝΟΡΤΥΧοναβεζηικμρτυχ",
    "ABEKMHOPCTXaeopcyxijsdqwbkmhtABEZHIKMNOPTYXovabezhikmptyx",
)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None  # 1-based line in the file (the header is line 1); None for a whole-file problem
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        column = f" column '{self.column}':" if self.column else ""
        found = f" found {self.value!r};" if self.value is not None else ""
        return f"{where}:{column}{found} {self.message}"


class ValidationFailed(Exception):
    def __init__(self, problems: list[Problem]):
        problems = sorted(problems, key=lambda p: (p.file, p.line or 0))
        self.problems = problems
        shown = problems[:MAX_REPORTED_PROBLEMS]
        more = len(problems) - len(shown)
        text = "\n".join(str(p) for p in shown) + (f"\n... and {more} more problems" if more > 0 else "")
        super().__init__(f"{len(problems)} problem(s) in raw/:\n{text}")


# ---------------------------------------------------------------------------------------------------- load


def raw_files(table: F.Table, raw_dir: Path) -> list[Path]:
    return sorted(raw_dir.glob(table.raw_glob))


def _plain_ascii_file(path: Path) -> tuple[str, int] | None:
    """(header line, line count) of a file that passes every check of its bytes: ASCII text with a non-blank line,
    without a carriage return or a forbidden character; None for any other file. Read in chunks: a large file is
    never held in memory whole (Arrow parses it from disk)."""
    lines, blank, ends_with_break = 0, True, True
    with path.open("rb") as handle:
        header = handle.readline()
        handle.seek(0)
        while chunk := handle.read(SCAN_CHUNK_BYTES):
            if not chunk.isascii() or b"\r" in chunk or chunk.translate(None, ASCII_ALLOWED):
                return None
            blank = blank and not chunk.strip()
            lines += chunk.count(b"\n")
            ends_with_break = chunk.endswith(b"\n")
    if blank:
        return None
    return header.split(b"\n", 1)[0].decode("ascii"), lines + (0 if ends_with_break else 1)


def read_raw_file(path: Path, table: F.Table, label: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one CSV as text cells; check encoding, line endings and header. Adds `_file` and `_line` columns."""
    plain = _plain_ascii_file(path) if path.stat().st_size > LARGE_FILE_BYTES else None
    if plain is None:
        data = path.read_bytes()
        header_line, problems = _check_bytes(data, label)
        if header_line is None:
            return None, problems
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    else:
        data = None
        header_line, lines = plain
    return _read_checked(path, data, header_line, lines, table, label)


def _check_bytes(data: bytes, label: str) -> tuple[str | None, list[Problem]]:
    """The checks of a whole file's bytes (empty, byte-order mark, UTF-8, line endings, forbidden characters): its
    header line, or None and the problems found."""

    def whole(message: str, line: int | None = None, value: str | None = None) -> tuple[None, list[Problem]]:
        return None, [Problem(label, line, None, value, message)]

    if not data.strip():
        return whole("the file is empty; expected a header row and at least one record")
    if data.startswith(b"\xef\xbb\xbf"):
        return whole("the file starts with a byte-order mark; expected UTF-8 without BOM", 1)
    ascii_file = data.isascii()  # ASCII is UTF-8 as it is: checked on its bytes, never decoded (a large file's text
    # takes as much memory again, and the search for forbidden characters a second per 50 MB)
    try:
        text = None if ascii_file else data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return whole(f"bytes that are not UTF-8 ({data[err.start : err.start + 4]!r}); expected UTF-8 text", line)
    if b"\r" in data:  # in UTF-8 the byte 0x0d is the carriage return and nothing else
        line = data[: data.index(b"\r")].count(b"\n") + 1
        return whole("a carriage return (CRLF or CR line ending); expected LF line endings", line)
    if ascii_file:  # of ASCII characters only controls are forbidden: any left once the allowed ones are removed?
        hostile = bool(data.translate(None, ASCII_ALLOWED))
    else:
        hostile = FORBIDDEN.search(text) is not None
    if hostile:  # one search over the whole file; located only when found
        text = data.decode("utf-8") if text is None else text
        problems = []
        for match in FORBIDDEN.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            char = match.group(0)
            name = unicodedata.name(char, f"U+{ord(char):04X}")
            problems.append(
                Problem(
                    label,
                    line,
                    _column_at(text, match.start()),
                    f"U+{ord(char):04X}",
                    f"an invisible or control character ({name}); expected visible text and plain spaces only",
                )
            )
            if len(problems) >= MAX_REPORTED_PROBLEMS:
                break
        return None, problems
    return data.split(b"\n", 1)[0].decode("utf-8"), []


def _read_checked(
    path: Path, data: bytes | None, header_line: str, lines: int, table: F.Table, label: str
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Check the header, then parse the records (from data, or from the file when data is None)."""
    problems: list[Problem] = []

    def whole(message: str, line: int | None = None, value: str | None = None) -> tuple[None, list[Problem]]:
        return None, [Problem(label, line, None, value, message)]

    header = list(next(_csv_rows(header_line)))
    expected = table.raw_columns
    for name in header:
        if name != name.strip():
            problems.append(Problem(label, 1, name, name, "stray whitespace in the header; expected no spaces"))
        elif name not in expected:
            close = difflib.get_close_matches(name, expected, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(
                Problem(label, 1, name, name, f"unknown column{hint}; expected only the columns of {table.name}")
            )
    missing = [c for c in expected if c not in header]
    for name in missing:
        problems.append(Problem(label, 1, name, None, f"missing column; expected header: {','.join(expected)}"))
    if len(set(header)) != len(header):
        problems.append(Problem(label, 1, None, header_line, "a column appears twice in the header"))
    if problems:
        return None, problems

    import pyarrow.csv as pacsv

    try:  # Arrow's reader is strict: a record with more or fewer cells, or a line break in a cell, is an error
        arrow = pacsv.read_csv(
            io.BytesIO(data) if data is not None else str(path),
            # blocks of 64 MB: each column's buffers are few and large, and are freed together once the table is
            # processed (a buffer per column per 1 MB block leaves the memory of the dropped columns fragmented)
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.large_string()),  # what pandas' "string" dtype holds
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as err:
        data = path.read_bytes() if data is None else data
        return None, _csv_structure_problems(data.decode("utf-8"), label, header) or [
            Problem(label, None, None, None, f"not a well-formed CSV file ({str(err).strip()[:200]})")
        ]
    if lines != arrow.num_rows + 1:  # a record over several lines (a line break in a quoted cell) or an empty line
        data = path.read_bytes() if data is None else data
        return None, _csv_structure_problems(data.decode("utf-8"), label, header)
    if arrow.num_rows == 0:
        return whole("the file has a header but no records; expected at least one record", 1)
    # The cells stay in Arrow's buffers (pandas' "string" dtype, Arrow storage): a column of Python strings would
    # take 3 to 4 times the memory, and every check converts its column to "string" anyway.
    del data
    frame = arrow.to_pandas(types_mapper={pa.large_string(): pd.StringDtype("pyarrow")}.get)
    # the same label in every row: references to one string (Arrow would store it once per row)
    frame["_file"] = pd.Series(np.full(len(frame), label, dtype=object), index=frame.index, dtype=object)
    frame["_line"] = np.arange(2, len(frame) + 2)
    return frame, []


def _column_at(text: str, position: int) -> str | None:
    """The header name of the column the character at `position` falls in (counting commas outside quotes)."""
    import csv

    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])))
    line_start = text.rfind("\n", 0, position) + 1
    if line_start == 0:
        return None
    before = text[line_start:position]
    try:
        index = len(next(csv.reader(io.StringIO(before + "x")))) - 1
    except (csv.Error, StopIteration):
        return None
    return header[index] if 0 <= index < len(header) else None


def _csv_structure_problems(text: str, label: str, header: list[str]) -> list[Problem]:
    """Exactly where a CSV file breaks: a record with more or fewer cells than the header, or a quote that never
    closes (pandas only says that the file cannot be parsed)."""
    import csv

    reader = csv.reader(io.StringIO(text), strict=True)
    columns = len(header)
    problems = []
    start = 1
    try:
        for record in reader:
            if reader.line_num > start and reader.line_num == text.count("\n") + (0 if text.endswith("\n") else 1):
                if any("\n" in cell for cell in record):  # a quoted cell ran to the end of the file
                    return [_unterminated(label, start)]
            if reader.line_num > start:  # the record spans several lines: a line break inside a quoted cell
                index = next(i for i, c in enumerate(record) if "\n" in c)
                problems.append(
                    Problem(
                        label,
                        start,
                        header[index] if index < columns else None,
                        record[index][:60],
                        "a line break inside a cell; expected one line per record",
                    )
                )
            elif not record:
                problems.append(Problem(label, start, None, None, "an empty line; expected one record per line"))
            elif len(record) != columns:
                what = "more" if len(record) > columns else "fewer"
                problems.append(
                    Problem(
                        label,
                        start,
                        None,
                        None,
                        f"{len(record)} cells, {what} than the header's {columns}; expected one cell per column "
                        "(a comma inside a cell needs the cell in double quotes)",
                    )
                )
            start = reader.line_num + 1
    except csv.Error as err:
        if "end of data" in str(err) or "EOF" in str(err):
            return [_unterminated(label, start)]
        problems.append(
            Problem(
                label,
                reader.line_num,
                None,
                None,
                f"malformed quoting ({err}); expected "
                'cells quoted as a whole, with a quote inside a quoted cell doubled ("")',
            )
        )
    return problems


def _unterminated(label: str, line: int) -> Problem:
    return Problem(
        label,
        line,
        None,
        None,
        f'an unterminated quote: the quoted cell that opens on line {line} never closes; expected a closing " '
        "before the end of the record",
    )


def _csv_rows(text: str):
    import csv

    return csv.reader(io.StringIO(text))


def load_table(table: F.Table, raw_dir: Path) -> tuple[pd.DataFrame, list[Problem]]:
    files = raw_files(table, raw_dir)
    problems: list[Problem] = []
    if not files:
        problems.append(Problem(f"raw/{table.raw_glob}", None, None, None, f"no file found for table {table.name}"))
        return pd.DataFrame(columns=[*table.raw_columns, "_file", "_line"]), problems
    frames = []
    for path in files:
        label = path.relative_to(raw_dir.parent).as_posix() if raw_dir.parent in path.parents else str(path)
        frame, file_problems = read_raw_file(path, table, label)
        problems += file_problems
        if frame is not None:
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*table.raw_columns, "_file", "_line"]), problems
    return pd.concat(frames, ignore_index=True), problems


# ---------------------------------------------------------------------------------------------------- process


def _problem_rows(raw: pd.DataFrame, mask: np.ndarray, column: str, message: str) -> list[Problem]:
    rows = np.flatnonzero(mask)
    return [Problem(raw["_file"].iat[i], int(raw["_line"].iat[i]), column, raw[column].iat[i], message) for i in rows]


def _ascii(cells: pd.Series) -> bool:
    """Whether every cell is ASCII: then Arrow's regex engine (RE2) matches \\d and \\w exactly as Python's re does
    (on other text RE2's are ASCII-only, Python's are not)."""
    return pc.all(pc.string_is_ascii(pa.array(cells.astype("string"))), min_count=0).as_py()


def _ascii_cells(cells: pd.Series) -> np.ndarray:
    """Which cells are ASCII text (missing cells count as ASCII)."""
    return np.asarray(pc.fill_null(pc.string_is_ascii(pa.array(cells.astype("string"))), True), dtype=bool)


def _stray_whitespace(cells: pd.Series) -> np.ndarray:
    """``(cells != cells.str.strip()).to_numpy()`` without a stripped copy of the whole column: only a cell that
    begins or ends with a character other than a visible ASCII one (whitespace is never one) can change."""
    strings = pa.array(cells.astype("string"))
    edge = np.asarray(
        pc.fill_null(pc.match_substring_regex(strings, r"^[^\x21-\x7e]|[^\x21-\x7e]$"), False), dtype=bool
    )
    stray = np.zeros(len(cells), dtype=bool)
    if edge.any():
        maybe = cells[edge]
        stray[edge] = (maybe != maybe.str.strip()).to_numpy()
    return stray


def _any_substring(
    strings: pa.Array | pa.ChunkedArray, needles: tuple[str, ...], search=pc.match_substring
) -> np.ndarray:
    """Which strings hold any of the literal needles (search=pc.starts_with: begin with one), as a numpy mask; missing
    strings hold none."""
    found = np.zeros(len(strings), dtype=bool)
    for needle in needles:
        found |= np.asarray(pc.fill_null(search(strings, needle), False), dtype=bool)
    return found


def _contains(cells: pd.Series, pattern: str, ascii_pattern: str) -> np.ndarray:
    """``cells.str.contains(pattern).fillna(False)`` as a numpy mask, by Arrow's regex engine (RE2) with
    ascii_pattern (the pattern with \\s spelled out for ASCII text) on the whole column; the cells RE2 cannot match as
    Python does (units.python_regex_cells) by Python's re, one at a time."""
    strings = pa.array(cells.astype("string"))
    found = np.asarray(pc.fill_null(pc.match_substring_regex(strings, ascii_pattern), False), dtype=bool)
    slow = units.python_regex_cells(cells)
    if slow.any():
        found[slow] = cells[slow].str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)
    return found


def extract(cells: pd.Series, pattern: str) -> pd.DataFrame:
    """``cells.str.extract(pattern)`` for a pattern of named groups without \\s, none of which can match an empty
    string, run by Arrow's regex engine (RE2) on the whole column (pandas runs str.extract in Python, one cell at a
    time, for patterns with \\d). Cells of non-ASCII text, or with a line break (where Python's $ also matches before
    it), take pandas' path (units.extract)."""
    return units.extract(cells, pattern)


def _whole_numbers(digits: pd.Series) -> pd.Series:
    """pd.to_numeric(digits, errors="coerce") for cells of ASCII digits, by a cast (to_numeric takes a second per
    million strings); other text (Unicode digits) goes to to_numeric."""
    try:
        return digits.astype("Int64")
    except (ValueError, TypeError, pa.ArrowInvalid):
        return pd.to_numeric(digits, errors="coerce")


def parse_dates(cells: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, np.ndarray]:
    """Dates as YYYY, YYYY-MM or YYYY-MM-DD -> (first day, precision, fractional year at midpoint, bad mask)."""
    distinct, codes = units.distinct_cells(cells)
    if len(distinct) == len(cells):
        return _parse_dates(cells)
    # each distinct cell parsed once; every cell takes its results (the same date objects, shared)
    start, precision, fractional, bad = _parse_dates(distinct)
    return (
        pd.Series(start.to_numpy(dtype=object)[codes], index=cells.index, dtype=object),
        pd.Series(precision.array.take(codes), index=cells.index),
        pd.Series(fractional.to_numpy(dtype="float64")[codes], index=cells.index),
        bad[codes],
    )


def _parse_dates(cells: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, np.ndarray]:
    parts = extract(cells, f"^{DATE_PATTERN}$")
    year, month, day = (_whole_numbers(parts[name]) for name in ("year", "month", "day"))
    precision = pd.Series(np.where(day.notna(), "day", np.where(month.notna(), "month", "year")), index=cells.index)
    unparsed = year.isna()
    start = pd.to_datetime(
        pd.DataFrame({"year": year.fillna(2000), "month": month.fillna(1), "day": day.fillna(1)}),
        errors="coerce",
    )
    start = start.where(~unparsed)
    bad = start.isna().to_numpy().copy()
    end = start.copy()
    is_day, is_month, is_year = (precision == "day"), (precision == "month"), (precision == "year")
    end[is_day] = start[is_day] + pd.Timedelta(days=1)
    end[is_month] = start[is_month] + pd.offsets.MonthBegin(1)
    end[is_year] = start[is_year] + pd.offsets.YearBegin(1)
    midpoint = start + (end - start) / 2
    mid_year = midpoint.dt.year.fillna(2000)
    jan1 = pd.to_datetime(pd.DataFrame({"year": mid_year, "month": 1, "day": 1}))
    next_jan1 = pd.to_datetime(pd.DataFrame({"year": mid_year + 1, "month": 1, "day": 1}))
    fractional = midpoint.dt.year + (midpoint - jan1) / (next_jan1 - jan1)
    return start.dt.date, precision.where(~bad), fractional.astype("float64"), bad


# Per table, the raw columns that its DERIVE function and the checks after process_table read (the cell a problem
# shows), beyond each row's file and line; the others may be dropped once converted (process_table with
# drop_converted: the raw text of a million models takes as much memory as the processed table). None: all of them.
# A check that shows another raw cell needs its column here.
RAW_KEPT: dict[str, tuple[str, ...] | None] = {
    "models": (
        "name",  # _derive_models
        "is_recommender",  # _derive_models
        "active_parameters",  # _derive_models
        "training_compute",  # _derive_6nd, derive_hardware_compute
        "training_compute_method",  # _derive_models, _derive_6nd, derive_hardware_compute
    ),
}


def process_table(
    table: F.Table, raw: pd.DataFrame, today: dt.date, drop_converted: bool = False
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check and convert every raw column of one table; derive the computed columns. drop_converted: delete from raw
    each converted column that RAW_KEPT does not keep."""
    kept = RAW_KEPT.get(table.name)
    problems: list[Problem] = _cell_problems(table, raw)
    out = pd.DataFrame(index=raw.index)
    for f in table.fields:
        if f.raw is None:
            continue
        pa.default_memory_pool().release_unused()  # the previous column's intermediate arrays: not kept for reuse
        cells = raw[f.raw].astype("string")
        empty = (cells == "").to_numpy()
        present = ~empty
        if f.required:
            problems += _problem_rows(raw, empty, f.raw, f"a required value is empty; expected {_expected_of(f)}")
        stray = present & _stray_whitespace(cells)
        problems += _problem_rows(raw, stray, f.raw, "stray whitespace around the value; expected none")
        present &= ~stray
        values = cells if present.all() else cells.where(present)  # no copy of a column that is all values
        if f.parse.startswith("quantity:"):
            column = pd.Series(np.nan, index=raw.index, dtype="float64")
            for dimension, rows in _quantity_rows(f, raw, present):
                parsed, cell_problems = units.parse_quantities(cells if rows.all() else cells[rows], dimension)
                idx = np.flatnonzero(rows)
                for position, message in cell_problems:
                    i = idx[position]
                    problems.append(
                        Problem(raw["_file"].iat[i], int(raw["_line"].iat[i]), f.raw, cells.iat[i], message)
                    )
                column.iloc[idx] = parsed.to_numpy(dtype="float64", na_value=np.nan)
            problems += _check_bounds(raw, f, column, None)
            out[f.name] = column
        elif f.parse == "integer":
            parsed, cell_problems = units.parse_integers(cells[present])
            idx = np.flatnonzero(present)
            for position, message in cell_problems:
                i = idx[position]
                problems.append(Problem(raw["_file"].iat[i], int(raw["_line"].iat[i]), f.raw, cells.iat[i], message))
            column = pd.Series(pd.NA, index=raw.index, dtype="Int64")
            column.iloc[idx] = parsed.to_numpy()
            problems += _check_bounds(raw, f, column.astype("float64"), None)
            out[f.name] = column
        elif f.parse == "date":
            start, precision, fractional, bad = parse_dates(cells.fillna(""))
            bad = bad & present
            problems += _problem_rows(raw, bad, f.raw, "not a date; expected YYYY, YYYY-MM or YYYY-MM-DD")
            good = present & ~bad
            starts = pd.to_datetime(start.where(good))  # midnight of each day: compared as timestamps, not dates
            future = good & (starts > pd.Timestamp(today)).fillna(False).to_numpy()
            ancient = good & (starts < pd.Timestamp(EARLIEST_DATE)).fillna(False).to_numpy()
            problems += _problem_rows(raw, future, f.raw, f"a date in the future; expected a date up to {today}")
            problems += _problem_rows(raw, ancient, f.raw, f"a date before {EARLIEST_DATE}; expected a later date")
            out[f.name] = start.where(good)
            out["release_date_precision"] = precision.where(good)
            out["release_fractional_year"] = fractional.where(good)
        elif f.parse == "id":
            bad = present & ~cells.str.fullmatch(ID_PATTERN).fillna(False).to_numpy(dtype=bool)
            problems += _problem_rows(
                raw, bad, f.raw, "not an id; expected a lowercase slug like 'nvidia-h100-sxm5-80gb'"
            )
            # no two cells alike: none is a duplicate; else pandas says which
            unique = not _any_equal(pa.array(cells))
            dup = np.zeros(len(cells), dtype=bool) if unique else present & cells.duplicated(keep=False).to_numpy()
            for i in np.flatnonzero(dup):
                others = [
                    f"{raw['_file'].iat[j]}:{raw['_line'].iat[j]}"
                    for j in np.flatnonzero(dup & (cells == cells.iat[i]).to_numpy())
                    if j != i
                ]
                problems.append(
                    Problem(
                        raw["_file"].iat[i],
                        int(raw["_line"].iat[i]),
                        f.raw,
                        cells.iat[i],
                        f"duplicate id (also at {', '.join(others)}); expected each id once in {table.name}",
                    )
                )
            out[f.name] = values
        elif f.parse == "enum":
            bad = present & ~cells.isin(f.choices).to_numpy()
            for i in np.flatnonzero(bad):
                found = str(cells.iat[i])
                close = [c for c in f.choices if c.lower() == found.lower()]
                close = close or difflib.get_close_matches(found, f.choices, n=1, cutoff=0.5)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                problems.append(
                    Problem(
                        raw["_file"].iat[i],
                        int(raw["_line"].iat[i]),
                        f.raw,
                        cells.iat[i],
                        f"not an allowed value{hint}; expected one of {', '.join(f.choices)}",
                    )
                )
            out[f.name] = values
        elif f.parse == "bool":
            bad = present & ~cells.isin(["true", "false"]).to_numpy()
            problems += _problem_rows(raw, bad, f.raw, "not a boolean; expected true or false")
            # values.map({"true": True, "false": False}).astype("boolean"), by Arrow (map makes a Python string of
            # every cell): True, False, or missing for anything else
            strings = pa.array(values)
            true = np.asarray(pc.fill_null(pc.equal(strings, "true"), False), dtype=bool)
            false = np.asarray(pc.fill_null(pc.equal(strings, "false"), False), dtype=bool)
            out[f.name] = pd.Series(pd.arrays.BooleanArray(true, ~(true | false)), index=raw.index)
        elif f.parse == "url":
            pattern = ASCII_URL_PATTERN if _ascii(cells) else URL_PATTERN
            bad = present & ~cells.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
            problems += _problem_rows(raw, bad, f.raw, "not a URL; expected an https:// address")
            out[f.name] = values
        elif f.parse == "fieldlist":
            allowed = EXPLAINABLE[table.name]
            for i in np.flatnonzero(present):
                tokens = str(cells.iat[i]).split(";")
                unknown = [t for t in tokens if t not in allowed]
                if unknown or len(set(tokens)) != len(tokens):
                    what = f"unknown column name '{unknown[0]}'" if unknown else "a column named twice"
                    problems.append(
                        Problem(
                            raw["_file"].iat[i],
                            int(raw["_line"].iat[i]),
                            f.raw,
                            cells.iat[i],
                            f"{what}; expected raw column names separated by ';' (no spaces) among "
                            f"{', '.join(allowed)}",
                        )
                    )
            out[f.name] = values
        elif f.parse in ("text", "ref"):  # control and invisible characters are refused when the file is read
            out[f.name] = values
        else:  # pragma: no cover - a registry error, caught by tests
            raise ValueError(f"unknown parser {f.parse!r} for {table.name}.{f.name}")
        if drop_converted and kept is not None and f.raw not in kept:
            del raw[f.raw]
    out = out.astype({f.name: "string" for f in table.fields if f.dtype == "string" and f.name in out})
    problems += DERIVE[table.name](raw, out)
    return out, problems


def _quantity_rows(f: F.Field, raw: pd.DataFrame, present: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(dimension, rows) to parse a quantity column with: one dimension for the whole column, or with
    `quantity:by_metric` the dimension of each row's metric (rows with an unknown metric are reported by the metric
    column's own check)."""
    dimension = f.parse.split(":", 1)[1]
    if dimension != "by_metric":
        return [(dimension, present)]
    metric_dimension = raw["metric"].map(F.METRIC_DIMENSIONS)
    return [
        (name, present & (metric_dimension == name).to_numpy(dtype=bool))
        for name in sorted(set(F.METRIC_DIMENSIONS.values()))
    ]


def _cell_problems(table: F.Table, raw: pd.DataFrame) -> list[Problem]:
    """Cells no record contains: overlong ones, markup, and names that mix look-alike letters of other scripts into
    Latin words (control and invisible characters are refused when the file is read)."""
    problems = []
    for column in table.raw_columns:
        cells = raw[column].astype("string")
        limit = MAX_CELL.get(column, DEFAULT_MAX_CELL)
        long = (cells.str.len() > limit).fillna(False).to_numpy(dtype=bool)
        for i in np.flatnonzero(long):
            problems.append(
                Problem(
                    raw["_file"].iat[i],
                    int(raw["_line"].iat[i]),
                    column,
                    cells.iat[i][:60] + "...",
                    f"{len(cells.iat[i])} characters; expected at most {limit} in {column}",
                )
            )
        strings = pa.array(cells)
        if column in PLAIN_COLUMNS:  # cells.str.contains(r"[<>`]"), by literal searches
            markup = _any_substring(strings, ("<", ">", "`"))
            message = "markup characters (<, > or `); expected plain text"
        else:  # a tag starts with '<': the pattern is tried on the cells holding one only
            markup = _any_substring(strings, ("<",))
            if markup.any():
                markup[markup] = _contains(cells[markup], TAG_PATTERN, ASCII_TAG_PATTERN)
            message = "an HTML/XML tag; expected plain text (write '< ' with a space for 'less than')"
        problems += _problem_rows(raw, markup & ~long, column, message)
        # cells.str.match(r"[=+@]", na=False): the first character is one of them
        formula = _any_substring(strings, ("=", "+", "@"), pc.starts_with) & ~long
        problems += _problem_rows(
            raw, formula, column, "starts with '=', '+' or '@' (a spreadsheet formula); expected plain text"
        )
        if column in PLAIN_COLUMNS and not _ascii(cells):
            # only text with letters of other scripts can mix them with Latin ones (CONFUSABLE maps no ASCII letter)
            mixed = np.zeros(len(cells), dtype=bool)
            for i in np.flatnonzero(~_ascii_cells(cells)):
                mixed[i] = _mixes_scripts(cells.iat[i])
            problems += _problem_rows(
                raw,
                mixed,
                column,
                "a word mixing Latin letters with look-alike Cyrillic or Greek ones; expected one script per word",
            )
    return problems


def _mixes_scripts(text: str) -> bool:
    for word in re.findall(r"[^\W\d_]+", text):
        latin = any("LATIN" in unicodedata.name(ch, "") for ch in word)
        lookalike = word != word.translate(CONFUSABLE)
        if latin and lookalike:
            return True
    return False


def _expected_of(f: F.Field) -> str:
    """What a cell of this field should hold, in words, for error messages."""
    if f.parse == "quantity:by_metric":
        return "a quantity whose unit suits the metric (tokens/s, a duration, % or FLOP/s)"
    if f.parse.startswith("quantity:"):
        return units.expected_text(units.DIMENSIONS[f.parse.split(":", 1)[1]])
    return {
        "id": "a lowercase slug like 'nvidia-h100-sxm5-80gb'",
        "date": "a date as YYYY, YYYY-MM or YYYY-MM-DD",
        "url": "an https:// address of the source",
        "bool": "true or false",
        "enum": "one of " + ", ".join(f.choices),
        "integer": "a plain integer",
    }.get(f.parse, "a value")


def _check_bounds(raw: pd.DataFrame, f: F.Field, column: pd.Series, dimension) -> list[Problem]:
    if f.bounds is None:
        return []
    low, high = f.bounds
    values = column.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(values) & ((values < low) | (values > high))
    zero = bad & (values == 0)
    unit = f.unit or ""
    messages = []
    messages += _problem_rows(raw, zero, f.raw, "zero; expected a positive value (leave the cell empty if unknown)")
    rest = bad & ~zero
    messages += _problem_rows(
        raw,
        rest,
        f.raw,
        f"out of the plausible range; expected between {low:g} and {high:g} {unit} after conversion",
    )
    return messages


# The first word of memory_type names the memory family and generation as JEDEC writes it.
MEMORY_TYPES = (
    "SDRAM",
    "DDR",
    "DDR2",
    "DDR3",
    "DDR4",
    "DDR5",
    "RDRAM/DDR",
    "GDDR3",
    "GDDR4",
    "GDDR5",
    "GDDR5X",
    "GDDR6",
    "GDDR6X",
    "GDDR7",
    "HBM",
    "HBM2",
    "HBM2E",
    "HBM3",
    "HBM3E",
    "HBM4",
    "LPDDR4",
    "LPDDR4X",
    "LPDDR5",
    "LPDDR5X",
    "MCDRAM",
    "SRAM",
)


def _check_memory_types(raw: pd.DataFrame, out: pd.DataFrame) -> list[Problem]:
    first = out["memory_type"].str.split(" ", n=1).str[0]
    bad = (first.notna() & ~first.isin(MEMORY_TYPES)).to_numpy(dtype=bool)
    problems = []
    for i in np.flatnonzero(bad):
        found = str(first.iat[i])
        close = [t for t in MEMORY_TYPES if t.lower() == found.lower()]
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(
            Problem(
                raw["_file"].iat[i],
                int(raw["_line"].iat[i]),
                "memory_type",
                raw["memory_type"].iat[i],
                f"unknown memory family '{found}'{hint}; expected a first word among {', '.join(MEMORY_TYPES)}",
            )
        )
    return problems


def _without_noise(names: pd.Series) -> pd.Series:
    """Names with NAME_NOISE removed (lowercased beforehand by the caller); other text is brought to one skeleton
    (compatibility forms folded, look-alike letters of other scripts read as Latin), so that a look-alike name is the
    same name."""
    skeleton = names.str.replace(ASCII_NAME_NOISE, "", regex=True)
    if not _ascii(names):  # only the cells of other text: on ASCII text (lowercased) the steps below change nothing
        other = ~_ascii_cells(names)
        folded = names[other].str.normalize("NFKC").str.translate(CONFUSABLE).str.lower()
        skeleton[other] = folded.str.replace(NAME_NOISE, "", regex=True)
    return skeleton


def _derive_accelerators(raw: pd.DataFrame, out: pd.DataFrame) -> list[Problem]:
    problems = _check_memory_types(raw, out)
    problems += _directional(
        raw,
        out,
        "interconnect_bandwidth",
        "interconnect_bandwidth_direction",
        "interconnect_bandwidth_per_direction_bytes_per_s",
    )
    out["peak_training_flops"] = out[["peak_fp32_flops", "peak_fp16_flops", "peak_bf16_flops"]].max(axis=1)
    # Same product under two ids: vendor + name must be unique.
    key = out["vendor"].fillna("").str.lower() + "|" + out["name"].fillna("").str.lower().pipe(_without_noise)
    problems += _same_thing_twice(raw, out, key, "name", "the same vendor and product name as another row")
    return problems


def _derive_memory(raw: pd.DataFrame, out: pd.DataFrame) -> list[Problem]:
    key = (
        out["name"].fillna("").str.lower().pipe(_without_noise)
        + "|"
        + out["pin_rate_bits_per_s"].astype("string").fillna("")
    )
    return _same_thing_twice(raw, out, key, "name", "the same generation and pin rate as another row")


def _derive_interconnects(raw: pd.DataFrame, out: pd.DataFrame) -> list[Problem]:
    problems = _directional(raw, out, "bandwidth", "bandwidth_direction", "bandwidth_per_direction_bytes_per_s")
    key = out["name"].fillna("").str.lower().pipe(_without_noise)
    return problems + _same_thing_twice(raw, out, key, "name", "the same link name as another row")


def _derive_models(raw: pd.DataFrame, out: pd.DataFrame) -> list[Problem]:
    problems = []
    over = (out["active_parameters"] > out["parameters"]).fillna(False).to_numpy(dtype=bool)
    problems += _problem_rows(
        raw, over, "active_parameters", "more active parameters than total; expected active <= total"
    )
    problems += _derive_6nd(raw, out)
    method_missing = out["training_compute_flop"].notna().to_numpy() & out["training_compute_method"].isna().to_numpy()
    problems += _problem_rows(
        raw,
        method_missing,
        "training_compute_method",
        "empty while training_compute is set; expected reported, 6ND, hardware or third_party",
    )
    recommender_domain = (out["domain"] == "recommendation").fillna(False).to_numpy(dtype=bool)
    unflagged = recommender_domain & ~out["is_recommender"].fillna(False).to_numpy(dtype=bool)
    problems += _problem_rows(raw, unflagged, "is_recommender", "false for a recommendation model; expected true")
    key = out["name"].fillna("").str.lower().pipe(_without_noise)
    problems += _same_thing_twice(raw, out, key, "name", "the same model name as another row")
    return problems


# Relative difference tolerated between a computed training compute (6ND, hardware) written in raw/ anyway and the
# product computed here: rounding only.
COMPUTED_TOLERANCE = 0.01


def _computed_compute(
    raw: pd.DataFrame, models: pd.DataFrame, method: str, computed: pd.Series, formula: str, inputs: str
) -> list[Problem]:
    """Training compute of the rows of `method` is `computed` (the product `formula` of `inputs`): filled in where
    training_compute is empty, checked where the row writes a value anyway, refused where an input is missing."""
    rows = (models["training_compute_method"] == method).fillna(False).to_numpy(dtype=bool)
    given = models["training_compute_flop"]
    no_inputs = rows & computed.isna().to_numpy()
    problems = _problem_rows(
        raw, no_inputs, "training_compute_method", f"{method} without {inputs}; expected all (or another method)"
    )
    off = rows & ((given / computed - 1).abs() > COMPUTED_TOLERANCE).fillna(False).to_numpy(dtype=bool)
    problems += _problem_rows(
        raw,
        off,
        "training_compute",
        f"differs from {formula} by more than {COMPUTED_TOLERANCE:.0%}; expected that product (leave the cell "
        "empty and it is computed)",
    )
    fill = rows & given.isna().to_numpy() & ~no_inputs
    models["training_compute_flop"] = given.where(~fill, computed)
    return problems


def _derive_6nd(raw: pd.DataFrame, out: pd.DataFrame) -> list[Problem]:
    """`6ND` compute is arithmetic, so it is done here: 6 x parameters x training tokens, with the active parameters
    for mixture-of-experts."""
    n = out["active_parameters"].fillna(out["parameters"])
    computed = 6.0 * n * out["training_tokens"]
    out["training_compute_6nd_flop"] = computed  # for every method: the spread beside a reported value
    return _computed_compute(
        raw, out, "6ND", computed, "6 x parameters x training_tokens", "parameters and training_tokens"
    )


def derive_hardware_compute(models: pd.DataFrame, raw: pd.DataFrame, accelerators: pd.DataFrame) -> list[Problem]:
    """`hardware` compute is computed here: chips x wall-clock duration x the trained_on accelerator's
    peak_training_flops (its densest FP32/FP16/BF16 rate) x utilization."""
    # a duplicate id is reported elsewhere
    unique = accelerators[["accelerator_id", "peak_training_flops"]].drop_duplicates("accelerator_id")
    peak = models["trained_on_accelerator_id"].map(unique.set_index("accelerator_id")["peak_training_flops"])
    chips = models["training_chip_count"].to_numpy(dtype="float64", na_value=np.nan)
    computed = chips * models["training_duration_s"] * peak.astype("float64") * models["training_utilization_fraction"]
    return _computed_compute(
        raw,
        models,
        "hardware",
        computed,
        "chips x duration x peak x utilization",
        "training_chip_count, training_duration, training_utilization and a trained_on accelerator with a "
        "16-bit-or-wider peak",
    )


def _directional(raw: pd.DataFrame, out: pd.DataFrame, value_col: str, direction_col: str, field: str) -> list[Problem]:
    direction = raw[direction_col]
    has_value = out[field].notna().to_numpy()
    no_direction = has_value & (direction == "").to_numpy()
    problems = _problem_rows(
        raw,
        no_direction,
        direction_col,
        f"empty while {value_col} is set; expected bidirectional or per_direction",
    )
    halve = (direction == "bidirectional").to_numpy()
    out[field] = out[field].where(~halve, out[field] / 2)
    return problems


def _any_equal(strings: pa.Array | pa.ChunkedArray) -> bool:
    """Whether two of the strings are equal (two missing ones count as equal): neighbours in sorted order, which
    takes less memory than a hash table of a million strings."""
    if len(strings) < 2:
        return False
    ordered = pc.take(strings, pc.array_sort_indices(strings, null_placement="at_end"))
    if ordered.null_count > 1:
        return True
    return bool(pc.any(pc.equal(ordered[1:], ordered[:-1]), min_count=0).as_py())


def _same_thing_twice(raw: pd.DataFrame, out: pd.DataFrame, key: pd.Series, column: str, what: str) -> list[Problem]:
    if not _any_equal(pa.array(key)):
        return []
    dup = key.duplicated(keep="first").to_numpy() & (key != "").to_numpy()
    problems = []
    for i in np.flatnonzero(dup):
        first = int(np.flatnonzero((key == key.iat[i]).to_numpy())[0])
        problems.append(
            Problem(
                raw["_file"].iat[i],
                int(raw["_line"].iat[i]),
                column,
                raw[column].iat[i],
                f"{what} (first at {raw['_file'].iat[first]}:{raw['_line'].iat[first]}); "
                "expected each product once under one id",
            )
        )
    return problems


def _derive_model_shapes(raw: pd.DataFrame, out: pd.DataFrame) -> list[Problem]:
    """Checks of one shape row on its own: what each attention and feed-forward kind needs, and nothing it cannot
    use. The parameter count is checked against the models table in check_shape_parameters."""

    def given(column: str) -> np.ndarray:
        return out[column].notna().to_numpy(dtype=bool)

    def number(column: str) -> np.ndarray:
        return out[column].astype("float64").to_numpy(dtype="float64", na_value=np.nan)

    problems: list[Problem] = []
    moe = given("moe_experts")
    for column in ("moe_experts_per_token", "moe_ffn_dim"):
        problems += _problem_rows(raw, moe & ~given(column), column, "empty in a mixture-of-experts row; expected it")
    for column in (
        "moe_experts_per_token",
        "moe_shared_experts",
        "moe_dense_layers",
        "moe_ffn_dim",
        "moe_shared_ffn_dim",
        "moe_layer_every",
    ):
        problems += _problem_rows(
            raw, ~moe & given(column), column, "set without moe_experts; expected empty in a dense model"
        )
    problems += _problem_rows(
        raw,
        moe & (number("moe_experts_per_token") > number("moe_experts")),
        "moe_experts_per_token",
        "more active experts than experts; expected at most moe_experts",
    )
    all_moe = (
        moe & (np.nan_to_num(number("moe_dense_layers")) == 0) & (np.nan_to_num(number("moe_layer_every"), nan=1) == 1)
    )
    problems += _problem_rows(
        raw, ~all_moe & ~given("ffn_dim"), "ffn_dim", "empty while some layers are dense; expected their FFN size"
    )
    mla = (out["attention"] == "mla").fillna(False).to_numpy(dtype=bool)
    for column in ("kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"):
        problems += _problem_rows(raw, mla & ~given(column), column, "empty with attention mla; expected it")
        problems += _problem_rows(raw, ~mla & given(column), column, "set without attention mla; expected empty")
    problems += _problem_rows(
        raw, ~mla & given("q_lora_rank"), "q_lora_rank", "set without attention mla; expected empty"
    )
    heads, kv_heads = number("heads"), number("kv_heads")
    with np.errstate(invalid="ignore"):
        uneven = given("kv_heads") & ((kv_heads > heads) | (np.fmod(heads, kv_heads) != 0))
    problems += _problem_rows(raw, uneven, "kv_heads", "does not divide heads; expected a divisor of heads")
    kind = out["attention"].astype("string")
    mismatch = given("kv_heads") & (
        ((kind == "mha").fillna(False).to_numpy(dtype=bool) & (kv_heads != heads))
        | ((kind == "mqa").fillna(False).to_numpy(dtype=bool) & (kv_heads != 1))
    )
    problems += _problem_rows(
        raw, mismatch, "kv_heads", "disagrees with attention (mha: as many as heads; mqa: 1); expected agreement"
    )
    with np.errstate(invalid="ignore"):
        split = ~given("head_dim") & ~mla & (np.fmod(number("d_model"), heads) != 0)
    problems += _problem_rows(raw, split, "head_dim", "empty while heads does not divide d_model; expected it")
    encdec = (out["architecture"] == "encoder_decoder").fillna(False).to_numpy(dtype=bool)
    problems += _problem_rows(
        raw,
        encdec & ~given("encoder_layers"),
        "encoder_layers",
        "empty in an encoder_decoder row; expected the encoder's blocks",
    )
    problems += _problem_rows(
        raw,
        ~encdec & given("encoder_layers"),
        "encoder_layers",
        "set in a single-stack model; expected empty (layers holds its blocks)",
    )
    return problems


def check_shape_parameters(shapes: pd.DataFrame, raw: pd.DataFrame, models: pd.DataFrame) -> list[Problem]:
    """Parameters computed from each shape (total and active) against the models table: within
    SHAPE_PARAMETER_TOLERANCE, or parameter_check says why not (and is empty when they agree)."""
    from pipeline.costmodel import shapes as S

    # the models rows of the shapes' ids (and of missing ids, as the map matches them): the first row of each id is
    # that of the whole table, without indexing a million models for a few hundred shapes
    ids = models["model_id"]
    named = _isin(pa.array(ids.astype("string")), pa.array(shapes["model_id"].astype("string"))) | ids.isna().to_numpy()
    unique = models.loc[named, ["model_id", "parameters", "active_parameters"]].drop_duplicates("model_id")
    unique = unique.set_index("model_id")
    published = shapes["model_id"].map(unique["parameters"]).astype("float64")
    published_active = shapes["model_id"].map(unique["active_parameters"]).astype("float64")
    shapes["tied_embeddings_assumed"] = S.resolve_tying(shapes, published)
    counts = S.parameter_counts(shapes)
    shapes["computed_parameters"] = counts["computed_parameters"]
    shapes["computed_active_parameters"] = counts["computed_active_parameters"]
    with np.errstate(invalid="ignore"):
        off_total = (shapes["computed_parameters"] / published - 1).abs() > SHAPE_PARAMETER_TOLERANCE
        off_active = (shapes["computed_active_parameters"] / published_active - 1).abs() > SHAPE_PARAMETER_TOLERANCE
    off = (off_total | off_active).fillna(False).to_numpy(dtype=bool)
    explained = shapes["parameter_check"].notna().to_numpy(dtype=bool)
    problems = []
    for i in np.flatnonzero(off & ~explained):
        problems.append(
            Problem(
                raw["_file"].iat[i],
                int(raw["_line"].iat[i]),
                "parameter_check",
                None,
                f"the shape gives {shapes['computed_parameters'].iat[i]:.4g} parameters "
                f"({shapes['computed_active_parameters'].iat[i]:.4g} active) but the models table says "
                f"{published.iat[i]:.4g} ({published_active.iat[i]:.4g} active), more than "
                f"{SHAPE_PARAMETER_TOLERANCE:.0%} apart; expected a shape that agrees, or a parameter_check saying why",
            )
        )
    problems += _problem_rows(
        raw,
        explained & ~off,
        "parameter_check",
        f"set although the computed counts agree with the models table within {SHAPE_PARAMETER_TOLERANCE:.0%}; "
        "expected empty",
    )
    return problems


def _derive_measurements(raw: pd.DataFrame, out: pd.DataFrame) -> list[Problem]:
    dimension = out["metric"].map(F.METRIC_DIMENSIONS)
    out["value_unit"] = dimension.map({name: d.base_unit for name, d in units.DIMENSIONS.items()}).astype("string")
    tp = out["tensor_parallel"].astype("float64").fillna(1.0)
    pp = out["pipeline_parallel"].astype("float64").fillna(1.0)
    too_many = ((tp * pp) > out["chip_count"].astype("float64")).fillna(False).to_numpy(dtype=bool)
    return _problem_rows(
        raw, too_many, "tensor_parallel", "tensor x pipeline parallel exceeds chip_count; expected at most chip_count"
    )


# Relative difference allowed between a shape's computed parameter count and the models table's.
SHAPE_PARAMETER_TOLERANCE = 0.02

DERIVE = {
    "accelerators": _derive_accelerators,
    "memory_technologies": _derive_memory,
    "interconnects": _derive_interconnects,
    "models": _derive_models,
    "model_shapes": _derive_model_shapes,
    "measurements": _derive_measurements,
}


PEAK_COLUMNS = tuple(f.raw for f in F.ACCELERATORS.fields if f.raw and f.raw.startswith("peak_"))
# What a not_published / not_applicable list may name: 'peak' (every peak_* column) and the raw columns of values.
EXPLAINABLE = {
    "accelerators": (
        "peak",
        *PEAK_COLUMNS,
        *(
            f.raw
            for f in F.ACCELERATORS.fields
            if f.raw and not f.raw.startswith("peak_") and (f.parse.startswith("quantity:") or f.parse == "integer")
        ),
        "memory_type",
        "interconnect_name",
        "host_interface",
        "process_node",
    )
}


def check_explanations(acc: pd.DataFrame, raw: pd.DataFrame) -> list[Problem]:
    """Every empty key cell of an accelerator is explained (not_published or not_applicable), and an explained cell is
    empty. Run after fill_host_link_bandwidth: a PCIe host link's bandwidth derived from interconnects fills it."""
    problems = []
    lists = {
        column: acc[name].fillna("")
        for column, name in (("not_published", "fields_not_published"), ("not_applicable", "fields_not_applicable"))
    }
    peak_empty = np.ones(len(raw), dtype=bool)
    for column in PEAK_COLUMNS:
        peak_empty &= (raw[column] == "").to_numpy()
    empty = {
        "peak": peak_empty,
        "interconnect_bandwidth": acc["interconnect_bandwidth_per_direction_bytes_per_s"].isna().to_numpy(),
    }
    # A row that lists nothing and has every key cell filled has nothing to report: only the others are looked at
    candidates = np.zeros(len(raw), dtype=bool)
    for cells in lists.values():
        candidates |= (cells != "").to_numpy(dtype=bool)
    for key in F.ACCELERATOR_KEY_CELLS:
        candidates |= empty[key] if key in empty else (raw[key] == "").to_numpy(dtype=bool)
    for i in np.flatnonzero(candidates):
        listed = {column: set(str(cells.iat[i]).split(";")) - {""} for column, cells in lists.items()}
        both = listed["not_published"] & listed["not_applicable"]
        for token in sorted(both):
            problems.append(
                Problem(
                    raw["_file"].iat[i],
                    int(raw["_line"].iat[i]),
                    "not_applicable",
                    token,
                    "also listed in not_published; expected each column in one list only",
                )
            )
        for column, tokens in listed.items():
            for token in sorted(tokens - both):
                is_empty = empty[token][i] if token in empty else raw[token].iat[i] == "" if token in raw else True
                if not is_empty:
                    shown = "a peak_* column" if token == "peak" else token
                    problems.append(
                        Problem(
                            raw["_file"].iat[i],
                            int(raw["_line"].iat[i]),
                            column,
                            raw[column].iat[i],
                            f"lists '{token}' but {shown} is filled; expected only empty columns listed",
                        )
                    )
        explained = listed["not_published"] | listed["not_applicable"]
        for key in F.ACCELERATOR_KEY_CELLS:
            is_empty = empty[key][i] if key in empty else raw[key].iat[i] == ""
            if is_empty and key not in explained:
                column = "peak_*" if key == "peak" else key
                what = "every peak_* column is empty" if key == "peak" else "empty"
                problems.append(
                    Problem(
                        raw["_file"].iat[i],
                        int(raw["_line"].iat[i]),
                        column,
                        "",
                        f"{what} and not explained; expected a value, or '{key}' in not_published (no source gives "
                        "it) or in not_applicable (the device has no such feature)",
                    )
                )
    return problems


PCIE_LINK = r"^PCIe (?P<generation>\d\.\d)a? x(?P<lanes>\d+)$"


def fill_host_link_bandwidth(accelerators: pd.DataFrame, interconnects: pd.DataFrame) -> None:
    """Devices without a scale-up link name their PCIe host link (`PCIe 3.0 x16`) and leave its bandwidth empty: it
    is taken from the interconnects table's x16 row of that generation, scaled by lanes / 16 (PCIe bandwidth is
    linear in lanes). The row says where the number came from in interconnect_bandwidth_source."""
    acc = accelerators
    has_value = acc["interconnect_bandwidth_per_direction_bytes_per_s"].notna()
    acc["interconnect_bandwidth_source"] = pd.Series(np.where(has_value, "row", None), index=acc.index, dtype="string")
    name = acc["interconnect_name"].fillna(acc["host_interface"])
    parts = extract(name, PCIE_LINK)
    pcie = interconnects[(interconnects["family"] == "PCIe") & (interconnects["link_count"] == 16)]
    by_generation = {
        str(g).rstrip("a"): (i, bw)
        for g, i, bw in zip(
            pcie["generation"],
            pcie["interconnect_id"],
            pcie["bandwidth_per_direction_bytes_per_s"],
            strict=True,
        )
    }
    generation = parts["generation"].astype(object)
    link_id = generation.map({g: i for g, (i, _) in by_generation.items()})
    x16 = generation.map({g: bw for g, (_, bw) in by_generation.items()}).astype("float64")
    fill = (~has_value & x16.notna()).to_numpy()
    if not fill.any():
        return
    lanes = pd.to_numeric(parts["lanes"][fill]).astype("int64")
    suffix = np.where(lanes == 16, "", " x " + lanes.astype(str) + "/16 lanes")
    acc.loc[fill, "interconnect_bandwidth_per_direction_bytes_per_s"] = x16[fill] * lanes / 16
    acc.loc[fill, "interconnect_name"] = name[fill]
    acc.loc[fill, "interconnect_bandwidth_source"] = "interconnects:" + link_id[fill].astype(str) + suffix


SPARSE_HEADLINES = "reference/sparse_headlines.csv"


def check_sparse_headlines(acc: pd.DataFrame, raw: pd.DataFrame, raw_dir: Path) -> list[Problem]:
    """Refuse a dense column holding a vendor's 2:4-sparse headline figure (raw/reference/sparse_headlines.csv lists
    the sparse figures vendors print, with their sources): the classic slip of copying the starred number."""
    path = raw_dir / SPARSE_HEADLINES
    if not path.exists():  # the guard must not switch itself off
        return [
            Problem(
                f"raw/{SPARSE_HEADLINES}",
                None,
                None,
                None,
                "missing; expected the reference list of vendors' "
                "sparse headline figures (restore it from git: the build refuses to run without its guard)",
            )
        ]
    reference = pd.read_csv(path, dtype=str, keep_default_na=False)
    problems = []
    ids = acc["accelerator_id"].tolist()
    for _, ref in reference.iterrows():
        if ref["accelerator_id"] not in ids:
            continue
        f = next(f for f in F.ACCELERATORS.fields if f.raw == ref["column"])
        sparse = units.parse_quantity(ref["sparse_value"], f.parse.split(":", 1)[1])
        i = ids.index(ref["accelerator_id"])
        value = acc[f.name].iat[i]
        if pd.notna(value) and abs(value - sparse) <= 0.005 * sparse:
            problems.append(
                Problem(
                    raw["_file"].iat[i],
                    int(raw["_line"].iat[i]),
                    f.raw,
                    raw[f.raw].iat[i],
                    f"the vendor's 2:4-sparse headline ({ref['sparse_value']}, {ref['source_url']}); "
                    f"expected the dense rate, {sparse / 2:.4g} {f.unit}",
                )
            )
    return problems


def _isin(values: pa.Array | pa.ChunkedArray, known: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Which values are among the known ones (a missing value never is), as a numpy mask. Arrow hashes one side: the
    known values, or, when they far outnumber the values (a million models for 237 shapes), the distinct values, to
    find those among the known."""
    known = known.combine_chunks() if isinstance(known, pa.ChunkedArray) else known
    if len(known) > 4 * len(values):
        distinct = pc.drop_null(pc.unique(values))
        known = pc.unique(pc.filter(known, pc.is_in(known, value_set=distinct)))
    return np.asarray(pc.fill_null(pc.is_in(values, value_set=known), False), dtype=bool)


def check_references(tables: dict[str, pd.DataFrame], raws: dict[str, pd.DataFrame]) -> list[Problem]:
    problems = []
    for table_name, frame in tables.items():
        for f in F.TABLES[table_name].fields:
            if not f.ref:
                continue
            ref_table, ref_column = f.ref.split(".")
            known = tables[ref_table][ref_column].dropna() if ref_table in tables else pd.Series([], dtype="string")
            values = frame[f.name]
            # values.isin(known), by Arrow (pandas builds a Python list of every known id first)
            found = _isin(pa.array(values.astype("string")), pa.array(known.astype("string")))
            bad = values.notna().to_numpy(dtype=bool) & ~found
            raw = raws[table_name]
            names = None
            for i in np.flatnonzero(bad):
                names = sorted(set(known)) if names is None else names
                close = difflib.get_close_matches(str(values.iat[i]), names, n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                problems.append(
                    Problem(
                        raw["_file"].iat[i],
                        int(raw["_line"].iat[i]),
                        f.raw,
                        values.iat[i],
                        f"unknown {ref_column}{hint}; expected an id of the {ref_table} table",
                    )
                )
    return problems


# ---------------------------------------------------------------------------------------------------- save


def arrow_schema(table: F.Table, version: str) -> pa.Schema:
    types = {
        "string": pa.string(),
        "float64": pa.float64(),
        "int64": pa.int64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
    }
    arrow_fields = []
    for f in table.fields:
        metadata = {"description": f.description, "unit": f.unit or ""}
        arrow_fields.append(pa.field(f.name, types[f.dtype], nullable=True, metadata=metadata))
    file_metadata = {
        "memwall.table": table.name,
        "memwall.description": table.description,
        "memwall.dataset_version": version,
        "memwall.fields": json.dumps({f.name: {"unit": f.unit, "description": f.description} for f in table.fields}),
    }
    return pa.schema(arrow_fields, metadata=file_metadata)


def to_arrow(table: F.Table, frame: pd.DataFrame, version: str) -> pa.Table:
    """The frame as an Arrow table of the registry's schema, its rows sorted by the table's key (stable): the order of
    ``frame.sort_values(table.key, kind="stable")``, applied column by column (no sorted copy of the whole frame)."""
    pa.default_memory_pool().release_unused()
    order = _key_order(table, frame)
    schema = arrow_schema(table, version)
    columns = []
    for f in table.fields:
        series = frame[f.name]
        if f.dtype == "float64":
            values = series.to_numpy(dtype="float64", na_value=np.nan)
            array = pa.array(values if order is None else values[order], type=pa.float64(), from_pandas=True)
        else:  # Arrow converts the column itself (dates are datetime.date objects); every missing value is null
            array = pa.array(series, type=schema.field(f.name).type, from_pandas=True)
            array = array if order is None else array.take(order)
        if isinstance(array, pa.ChunkedArray):  # one contiguous array per column, as from a column of objects
            array = array.combine_chunks()
        columns.append(array)
    return pa.Table.from_arrays(columns, schema=schema)


def _key_order(table: F.Table, frame: pd.DataFrame) -> np.ndarray | None:
    """The positions of the rows in the order of ``frame.sort_values(table.key, kind="stable")``; None when that is
    the order they are in (or the frame has no key column)."""
    if table.key not in frame:
        return None
    if not isinstance(frame[table.key].dtype, pd.StringDtype):
        return frame[table.key].reset_index(drop=True).sort_values(kind="stable").index.to_numpy()
    keys = pa.array(frame[table.key])
    if len(keys) < 2 or (keys.null_count == 0 and pc.all(pc.greater_equal(keys[1:], keys[:-1]), min_count=0).as_py()):
        return None  # in order already: a stable sort keeps every row where it is
    # what pandas sorts the column by (Arrow's stable sort of its strings, missing ones last), without its copies
    return np.asarray(pc.array_sort_indices(keys, order="ascending", null_placement="at_end"), dtype=np.intp)


def _in_key_order(table: F.Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's rows sorted as to_arrow writes them, built column by column (each column of the unsorted frame is
    dropped once copied: the memory of one column more, not of a second frame)."""
    order = _key_order(table, frame)
    if order is None:
        return frame
    columns = {}
    for column in list(frame.columns):
        columns[column] = frame[column].array.take(order)
        del frame[column]
        pa.default_memory_pool().release_unused()
    return pd.DataFrame(columns, index=pd.RangeIndex(len(order)))


def write_parquet(arrow_table: pa.Table, path: Path) -> None:
    pq.write_table(arrow_table, path, compression="zstd", use_dictionary=True, write_statistics=True)


@contextlib.contextmanager
def _system_allocator():
    """Arrow allocates with the C library's malloc meanwhile (its default pool, mimalloc, keeps the memory it frees
    for reuse: the memory of the raw cells, of every intermediate column and of the CSV parser would stay with the
    process after they are freed); release_unused() then hands freed memory back to the system."""
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def build_tables(raw_dir: Path, today: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """Load and process every raw table; raise ValidationFailed with every problem found."""
    with _system_allocator():
        return _build_tables(raw_dir, today)


def _build_tables(raw_dir: Path, today: dt.date | None) -> dict[str, pd.DataFrame]:
    today = today or dt.date.today()
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    raws: dict[str, pd.DataFrame] = {}
    for name in F.RAW_TABLES:
        table = F.TABLES[name]
        raw, load_problems = load_table(table, raw_dir)
        pa.default_memory_pool().release_unused()  # the CSV parser's buffers back to the system, not kept for reuse
        problems += load_problems
        if raw.empty:
            continue
        out, table_problems = process_table(table, raw, today, drop_converted=True)
        problems += table_problems
        tables[name], raws[name] = out, raw
        del raw
        pa.default_memory_pool().release_unused()  # the memory of the checks' intermediate columns
    if "accelerators" in tables:
        problems += check_references(tables, raws)
        problems += check_sparse_headlines(tables["accelerators"], raws["accelerators"], raw_dir)
        if "interconnects" in tables:
            fill_host_link_bandwidth(tables["accelerators"], tables["interconnects"])
        problems += check_explanations(tables["accelerators"], raws["accelerators"])
        if "models" in tables:
            problems += derive_hardware_compute(tables["models"], raws["models"], tables["accelerators"])
    if "model_shapes" in tables and "models" in tables:
        problems += check_shape_parameters(tables["model_shapes"], raws["model_shapes"], tables["models"])
    del raws
    pa.default_memory_pool().release_unused()  # the raw cells' memory back to the system, not kept for reuse
    if problems:
        raise ValidationFailed(problems)
    # in the order to_arrow writes them, sorted here while the raw cells' memory is free
    tables = {name: _in_key_order(F.TABLES[name], frame) for name, frame in tables.items()}
    pa.default_memory_pool().release_unused()
    return tables
