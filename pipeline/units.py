"""Units: the one reviewed place where values as sources print them become base units.

A raw cell holds ``"<number> <unit>"`` (one space). Each kind of quantity accepts a closed set of unit spellings,
each with an explicit factor to the base unit. Decimal prefixes are powers of 10, binary prefixes (KiB, MiB, GiB,
TiB) powers of 2, bits are divided by 8 where the base unit is bytes. ``tests/test_units.py`` checks every factor
against the `pint` units library, so a wrong factor here fails a test written independently of this table.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

KILO, MEGA, GIGA, TERA, PETA, EXA, ZETTA = 1e3, 1e6, 1e9, 1e12, 1e15, 1e18, 1e21
KIBI, MEBI, GIBI, TEBI = 2.0**10, 2.0**20, 2.0**30, 2.0**40
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Dimension:
    """A kind of quantity: its base unit, and the accepted unit spellings with their factor to the base unit."""

    name: str
    base_unit: str
    what: str  # how an error message names it ("a compute rate")
    units: dict[str, float]
    bare_number_allowed: bool = False  # counts may be written without a unit


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in [
        Dimension(
            "flop_rate",
            "FLOP/s",
            "a floating-point rate",
            {
                "FLOP/s": 1.0,
                "kFLOP/s": KILO,
                "MFLOP/s": MEGA,
                "GFLOP/s": GIGA,
                "TFLOP/s": TERA,
                "PFLOP/s": PETA,
            },
        ),
        Dimension(
            "op_rate",
            "OP/s",
            "an integer-operation rate",
            {"OP/s": 1.0, "GOP/s": GIGA, "TOP/s": TERA, "POP/s": PETA},
        ),
        Dimension(
            "bytes",
            "B",
            "a memory size",
            {
                "B": 1.0,
                "kB": KILO,
                "MB": MEGA,
                "GB": GIGA,
                "TB": TERA,
                "KiB": KIBI,
                "MiB": MEBI,
                "GiB": GIBI,
                "TiB": TEBI,
            },
        ),
        Dimension(
            "byte_rate",
            "B/s",
            "a bandwidth",
            {
                "MB/s": MEGA,
                "GB/s": GIGA,
                "TB/s": TERA,
                "PB/s": PETA,
                "MiB/s": MEBI,
                "GiB/s": GIBI,
                "TiB/s": TEBI,
                # network links are quoted in bits per second
                "Mb/s": MEGA / 8,
                "Gb/s": GIGA / 8,
                "Tb/s": TERA / 8,
            },
        ),
        Dimension(
            "signal_rate",
            "bit/s",
            "a per-pin or per-lane signalling rate",
            {
                "Mb/s": MEGA,
                "Gb/s": GIGA,
                # one transfer moves one bit per pin (DDR, GDDR, HBM) or per lane (PCIe)
                "MT/s": MEGA,
                "GT/s": GIGA,
            },
        ),
        Dimension("bits", "bit", "a width in bits", {"bit": 1.0}),
        Dimension("power", "W", "a power", {"W": 1.0, "kW": KILO}),
        Dimension(
            "flop",
            "FLOP",
            "an amount of computation",
            {
                "FLOP": 1.0,
                "GFLOP": GIGA,
                "TFLOP": TERA,
                "PFLOP": PETA,
                "EFLOP": EXA,
                "ZFLOP": ZETTA,
                "PFLOP/s-day": PETA * SECONDS_PER_DAY,
            },
        ),
        Dimension(
            "duration",
            "s",
            "a duration",
            {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "hours": 3600.0, "days": SECONDS_PER_DAY},
        ),
        Dimension("token_rate", "tokens/s", "a token rate", {"tokens/s": 1.0, "ktokens/s": KILO}),
        Dimension(
            "fraction",
            "ratio",
            "a fraction",
            {"%": 0.01},
            bare_number_allowed=True,
        ),
        Dimension(
            "count",
            "count",
            "a count",
            {"thousand": KILO, "million": MEGA, "billion": GIGA, "trillion": TERA},
            bare_number_allowed=True,
        ),
    ]
}

# A number: optional sign, digits with an optional fraction, optional exponent. No thousands separators.
NUMBER_PATTERN = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"  # ASCII digits only
QUANTITY_PATTERN = rf"^(?P<number>{NUMBER_PATTERN}) (?P<unit>\S+)$"
BARE_NUMBER_PATTERN = rf"^(?P<number>{NUMBER_PATTERN})$"
# What Python's \s matches in ASCII text, spelled out for Arrow's regex engine (RE2), whose \s misses \v and
# \x1c-\x1f: on ASCII text the patterns written with it match exactly what Python's re matches.
ASCII_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f "
ASCII_QUANTITY_PATTERN = rf"^(?P<number>{NUMBER_PATTERN}) (?P<unit>[^{ASCII_SPACE}]+)$"


class UnitError(ValueError):
    """A cell that is not a well-formed quantity of the expected kind."""


def expected_text(dimension: Dimension) -> str:
    units = ", ".join(dimension.units)
    bare = "a bare number or " if dimension.bare_number_allowed else ""
    return f"{dimension.what}: {bare}'<number> <unit>' with unit one of {units}"


def closest_units(unit: str, dimension: Dimension) -> list[str]:
    """Accepted spellings close to a misspelled unit (case-insensitive first, then by similarity)."""
    same_letters = [u for u in dimension.units if u.lower() == unit.lower()]
    return same_letters or difflib.get_close_matches(unit, list(dimension.units), n=2, cutoff=0.5)


def parse_quantity(text: str, dimension_name: str) -> float:
    """Parse one cell (``"989.4 TFLOP/s"``) to a float in the dimension's base unit; raise UnitError if malformed."""
    values, problems = parse_quantities(pd.Series([text], dtype="string"), dimension_name)
    if problems:
        raise UnitError(problems[0][1])
    return float(values.iloc[0])


def python_regex_cells(cells: pd.Series) -> np.ndarray:
    """Which cells Arrow's regex engine (RE2) cannot match as Python's re does: text that is not ASCII (there RE2's
    \\d, \\w and \\s are ASCII-only, Python's are not), or that holds a line break (where Python's $ also matches
    before a final one). Missing cells match nothing either way."""
    strings = pa.array(cells.astype("string"))
    ascii_text = pc.fill_null(pc.string_is_ascii(strings), True)
    no_break = pc.fill_null(pc.invert(pc.match_substring(strings, "\n")), True)
    return ~np.asarray(pc.and_(ascii_text, no_break), dtype=bool)


def extract(cells: pd.Series, pattern: str, ascii_pattern: str | None = None) -> pd.DataFrame:
    """``cells.astype("string").str.extract(pattern)`` for a pattern of named groups none of which can match an
    empty string, run by Arrow's regex engine (RE2) on the whole column (pandas runs str.extract in Python, one cell
    at a time, for any pattern with \\s or \\S). ascii_pattern: the pattern as RE2 must read it to match as Python
    does on ASCII text (\\s spelled out, see ASCII_SPACE); the cells python_regex_cells names take pandas' path. As
    with str.extract, a cell that does not match, or a group that takes no part in the match, is missing."""
    cells = cells.astype("string")
    names = list(re.compile(pattern).groupindex)
    matched = pc.extract_regex(pa.array(cells), ascii_pattern or pattern)
    columns = {}
    for position, name in enumerate(names):
        group = pc.struct_field(matched, [position])  # missing where the cell does not match
        if pc.any(pc.equal(group, ""), min_count=0).as_py():  # a group that took no part in the match: missing too
            group = pc.if_else(pc.equal(group, ""), None, group)
        columns[name] = pd.Series(group, index=cells.index, dtype="string")
    parts = pd.DataFrame(columns, index=cells.index)
    slow = python_regex_cells(cells)
    if slow.any():
        parts.iloc[np.flatnonzero(slow)] = cells[slow].str.extract(pattern)[names].to_numpy(dtype=object)
    return parts


def distinct_cells(cells: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The distinct cells (in order of first appearance, as "string") and, for each cell, the position of its value
    among them: a column parsed once per distinct cell (a million rows often hold a few thousand dates)."""
    strings = pa.array(cells.astype("string"))
    distinct = pc.unique(strings)
    codes = pc.index_in(strings, value_set=distinct)  # a missing cell finds the missing value among them
    return pd.Series(distinct, dtype="string"), np.asarray(codes, dtype=np.intp)


def parse_quantities(cells: pd.Series, dimension_name: str) -> tuple[pd.Series, list[tuple[int, str]]]:
    """Vectorised parse of a column of non-empty cells.

    Returns the values in base units (NaN where a cell is malformed) and a list of (position, message) problems.
    """
    cells = cells.astype("string")
    distinct, codes = distinct_cells(cells)
    if len(distinct) == len(cells):
        return _parse_quantities(cells, dimension_name)
    # each distinct cell parsed once; every cell takes its value and its problem
    values, problems = _parse_quantities(distinct, dimension_name)
    messages = dict(problems)
    bad = np.zeros(len(distinct), dtype=bool)
    bad[list(messages)] = True
    rows = np.flatnonzero(bad[codes])
    return pd.Series(values.array.take(codes), index=cells.index), [(int(p), messages[codes[p]]) for p in rows]


def _parse_quantities(cells: pd.Series, dimension_name: str) -> tuple[pd.Series, list[tuple[int, str]]]:
    dimension = DIMENSIONS[dimension_name]
    parts = extract(cells, QUANTITY_PATTERN, ASCII_QUANTITY_PATTERN)
    numbers = pd.to_numeric(parts["number"], errors="coerce").astype("float64")
    # parts["unit"].map(dimension.units), by Arrow: the factor of each unit spelled exactly as one of the dimension's
    spelled = pa.array(parts["unit"])
    known = pc.index_in(spelled, value_set=pa.array(list(dimension.units), type=spelled.type))
    factors = np.append(np.array(list(dimension.units.values()), dtype="float64"), np.nan)
    factors = pd.Series(factors[pc.fill_null(known, len(dimension.units)).to_numpy()], index=cells.index)
    values = numbers * factors
    if dimension.bare_number_allowed:
        bare = cells.str.fullmatch(BARE_NUMBER_PATTERN).fillna(False).astype(bool)
        values = values.where(~bare, pd.to_numeric(cells.where(bare), errors="coerce"))
    bad = values.isna().to_numpy() | ~np.isfinite(values.to_numpy(dtype="float64", na_value=np.nan))
    problems: list[tuple[int, str]] = []
    for position in np.flatnonzero(bad):
        problems.append((int(position), _explain(str(cells.iloc[position]), dimension, parts.iloc[position])))
    return values.where(~pd.Series(bad, index=values.index)), problems


def _explain(text: str, dimension: Dimension, parts: pd.Series) -> str:
    expected = expected_text(dimension)
    exotic = [ch for ch in text if ch.isdigit() and not ch.isascii()]
    if exotic:
        return f"digits that are not ASCII ({''.join(exotic)!r}); expected the digits 0-9 in {expected}"
    if "*" in text or "sparse" in text.lower() or "sparsity" in text.lower():
        return f"a figure marked as sparse; expected the dense rate (half a 2:4-sparse figure) as {expected}"
    unit = parts["unit"]
    if isinstance(unit, str):
        others = [o for o in DIMENSIONS.values() if o is not dimension and unit in o.units]
        suggestions = closest_units(unit, dimension)
        if others:
            hint = f" ('{unit}' is the unit of {others[0].what}, not of {dimension.what})"
        elif suggestions:
            hint = f" (did you mean {' or '.join(repr(s) for s in suggestions)}?)"
        else:
            hint = ""
        return f"unknown unit '{unit}'{hint}; expected {expected}"
    stripped = text.strip()
    if stripped != text:
        return f"stray whitespace around the value; expected {expected}"
    if "," in text:
        return f"a comma in a number (no thousands separators); expected {expected}"
    lowered = stripped.lower()
    if lowered in {"nan", "inf", "-inf", "+inf", "infinity"} or lowered.split(" ")[0] in {
        "nan",
        "inf",
        "infinity",
    }:
        return f"not a finite number; expected {expected}"
    if not dimension.bare_number_allowed and _is_bare_number(stripped):
        return f"a number without a unit; expected {expected}"
    return f"not a quantity; expected {expected}"


def _is_bare_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_integers(cells: pd.Series) -> tuple[pd.Series, list[tuple[int, str]]]:
    """Vectorised parse of a plain-integer column (no unit, no fraction)."""
    cells = cells.astype("string")
    ok = cells.str.fullmatch(r"[0-9]+").fillna(False).astype(bool)
    values = pd.to_numeric(cells.where(ok), errors="coerce").astype("Int64")
    problems = []
    for position in np.flatnonzero(~ok.to_numpy()):
        text = str(cells.iloc[position])
        why = "a unit in a numbers-only column" if " " in text.strip() else "not a whole number"
        problems.append((int(position), f"{why}; expected a plain non-negative integer such as 2"))
    return values, problems
