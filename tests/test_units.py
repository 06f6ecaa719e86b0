"""Unit conversion: hand-computed values, and every factor of the unit table checked against pint."""

from __future__ import annotations

import math

import pint
import pytest

from pipeline import units


@pytest.mark.parametrize(
    ("text", "dimension", "expected"),
    [
        ("989.4 TFLOP/s", "flop_rate", 989.4e12),  # H100 dense BF16
        ("390 MFLOP/s", "flop_rate", 390e6),
        ("1978.9 TOP/s", "op_rate", 1978.9e12),
        ("80 GiB", "bytes", 80 * 1024**3),  # "80GB" HBM3 on H100 is 80 GiB = 85,899,345,920 bytes
        ("80 GB", "bytes", 80_000_000_000),
        ("220 MiB", "bytes", 220 * 1024 * 1024),
        ("3.35 TB/s", "byte_rate", 3.35e12),
        ("400 Gb/s", "byte_rate", 50e9),  # InfiniBand NDR: 400 gigabits = 50 gigabytes per second
        ("32 GiB/s", "byte_rate", 32 * 1024**3),
        ("8 GT/s", "signal_rate", 8e9),
        ("6400 MT/s", "signal_rate", 6.4e9),
        ("5120 bit", "bits", 5120),
        ("700 W", "power", 700),
        ("154960329 ns", "duration", 0.154960329),  # an MLPerf time per output token
        ("20 ms", "duration", 0.020),
        ("9910 tokens/s", "token_rate", 9910),
        ("3640 PFLOP/s-day", "flop", 3640 * 1e15 * 86400),  # GPT-3: 3.14e23 FLOP
        ("3.14e23 FLOP", "flop", 3.14e23),
        ("310000000 PFLOP", "flop", 3.1e23),
        ("175 billion", "count", 175e9),
        ("1.6 trillion", "count", 1.6e12),
        ("61000000", "count", 61e6),
        ("6.1e7", "count", 61e6),
    ],
)
def test_hand_computed_conversions(text, dimension, expected):
    assert units.parse_quantity(text, dimension) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "dimension", "fragment"),
    [
        ("989.4 TFLOPS", "flop_rate", "did you mean 'TFLOP/s'"),
        ("80 gb", "bytes", "did you mean 'GB'"),
        ("80", "bytes", "a number without a unit"),
        ("80 GB/s", "bytes", "'GB/s' is the unit of a bandwidth"),
        ("1,000 W", "power", "comma"),
        ("nan W", "power", "not a finite number"),
        ("inf W", "power", "not a finite number"),
        ("about 700 W", "power", "not a quantity"),
        (" 700 W", "power", "stray whitespace"),
        ("700  W", "power", "not a quantity"),
        ("175 B", "count", "unknown unit 'B'"),
    ],
)
def test_malformed_cells_are_refused_with_a_reason(text, dimension, fragment):
    with pytest.raises(units.UnitError) as err:
        units.parse_quantity(text, dimension)
    assert fragment in str(err.value)


def test_nan_and_infinity_literals_are_not_numbers():
    for text in ("nan", "inf", "NaN", "Infinity"):
        with pytest.raises(units.UnitError):
            units.parse_quantity(text, "count")


# How pint spells each of our units, with FLOP and OP defined as units of a "computation" dimension.
PINT_NAMES = {
    "FLOP/s": "FLOP/s",
    "kFLOP/s": "kiloFLOP/s",
    "MFLOP/s": "megaFLOP/s",
    "GFLOP/s": "gigaFLOP/s",
    "TFLOP/s": "teraFLOP/s",
    "PFLOP/s": "petaFLOP/s",
    "OP/s": "OP/s",
    "GOP/s": "gigaOP/s",
    "TOP/s": "teraOP/s",
    "POP/s": "petaOP/s",
    "B": "byte",
    "kB": "kilobyte",
    "MB": "megabyte",
    "GB": "gigabyte",
    "TB": "terabyte",
    "KiB": "kibibyte",
    "MiB": "mebibyte",
    "GiB": "gibibyte",
    "TiB": "tebibyte",
    "B/s": "byte/s",
    "MB/s": "megabyte/s",
    "GB/s": "gigabyte/s",
    "TB/s": "terabyte/s",
    "PB/s": "petabyte/s",
    "MiB/s": "mebibyte/s",
    "GiB/s": "gibibyte/s",
    "TiB/s": "tebibyte/s",
    "Mb/s": "megabit/s",
    "Gb/s": "gigabit/s",
    "Tb/s": "terabit/s",
    "bit/s": "bit/s",
    "MT/s": "megatransfer/s",
    "GT/s": "gigatransfer/s",
    "bit": "bit",
    "W": "watt",
    "kW": "kilowatt",
    "FLOP": "FLOP",
    "GFLOP": "gigaFLOP",
    "TFLOP": "teraFLOP",
    "PFLOP": "petaFLOP",
    "EFLOP": "exaFLOP",
    "ZFLOP": "zettaFLOP",
    "PFLOP/s-day": "petaFLOP/s * day",
    "s": "second",
    "ns": "nanosecond",
    "us": "microsecond",
    "ms": "millisecond",
    "tokens/s": "token/s",
    "ktokens/s": "kilotoken/s",
    "hours": "hour",
    "days": "day",
    "ratio": "dimensionless",
    "%": "percent",
    "count": "item",
    "thousand": "kiloitem",
    "million": "megaitem",
    "billion": "gigaitem",
    "trillion": "teraitem",
}


def pint_registry() -> pint.UnitRegistry:
    registry = pint.UnitRegistry()
    registry.define("FLOP = [computation]")
    registry.define("OP = [integer_operation]")
    registry.define("item = [count]")
    registry.define("token = [text]")
    registry.define("transfer = bit")  # one transfer carries one bit per pin or lane
    return registry


@pytest.mark.parametrize("dimension", sorted(units.DIMENSIONS))
def test_every_factor_agrees_with_pint(dimension):
    registry = pint_registry()
    spec = units.DIMENSIONS[dimension]
    for unit, factor in spec.units.items():
        expected = registry.Quantity(1, PINT_NAMES[unit]).to(PINT_NAMES[spec.base_unit]).magnitude
        assert math.isclose(factor, expected, rel_tol=1e-12), (
            f"{dimension}: 1 {unit} = {factor} {spec.base_unit} here, pint says {expected}"
        )
