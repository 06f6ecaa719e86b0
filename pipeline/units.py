"""Units: the one reviewed place where values as sources print them become base units.

A raw cell holds ``"<number> <unit>"`` (one space). Each kind of quantity accepts a closed set of unit spellings,
each with an explicit factor to the base unit. Decimal prefixes are powers of 10, binary prefixes (KiB, MiB, GiB,
TiB) powers of 2, bits are divided by 8 where the base unit is bytes. ``tests/test_units.py`` checks every factor
against the `pint` units library, so a wrong factor here fails a test written independently of this table.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd

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


def parse_quantities(cells: pd.Series, dimension_name: str) -> tuple[pd.Series, list[tuple[int, str]]]:
    """Vectorised parse of a column of non-empty cells.

    Returns the values in base units (NaN where a cell is malformed) and a list of (position, message) problems.
    """
    dimension = DIMENSIONS[dimension_name]
    cells = cells.astype("string")
    parts = cells.str.extract(QUANTITY_PATTERN)
    numbers = pd.to_numeric(parts["number"], errors="coerce").astype("float64")
    factors = parts["unit"].map(dimension.units).astype("float64")
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
