"""The field registry is the single definition of every column: every field is used, every used column defined."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline import fields as F
from pipeline import units

REPO = Path(__file__).resolve().parent.parent
UNIT_SUFFIXES = {
    "FLOP/s": ("_flops",),
    "OP/s": ("_ops",),
    "B": ("_bytes",),
    "B/s": ("_bytes_per_s",),
    "FLOP": ("_flop",),
    "W": ("_watts",),
    "bit": ("_bits",),
    "bit/s": ("_bits_per_s",),
    "year": ("_year", "_years"),
    "s": ("_s",),
    "ratio": ("_fraction",),
}


@pytest.mark.parametrize("name", F.RAW_TABLES)
def test_raw_headers_are_exactly_the_registry_columns(name):
    table = F.TABLES[name]
    files = sorted((REPO / "raw").glob(table.raw_glob))
    assert files, f"no raw file for {name}"
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == table.raw_columns, f"{path}: header differs from the registry's raw columns"


@pytest.mark.parametrize("name", [*F.RAW_TABLES, "fits"])
def test_curated_parquet_columns_are_exactly_the_registry_fields_with_metadata(name):
    table = F.TABLES[name]
    schema = pq.read_schema(REPO / "curated" / f"{name}.parquet")
    assert schema.names == table.columns, f"curated/{name}.parquet columns differ from the registry"
    for f in table.fields:
        metadata = schema.field(f.name).metadata
        assert metadata[b"description"].decode() == f.description
        assert metadata[b"unit"].decode() == (f.unit or "")
    assert schema.metadata[b"memwall.table"].decode() == name


def test_every_field_is_well_formed():
    for table in F.TABLES.values():
        names = [f.name for f in table.fields]
        assert len(names) == len(set(names)), f"{table.name}: a field is defined twice"
        assert table.key in names
        for f in table.fields:
            assert f.description.endswith("."), f"{table.name}.{f.name}: description is not a sentence"
            assert f.dtype in {"string", "float64", "int64", "bool", "date"}
            if f.parse == "quantity:by_metric":  # each row's unit follows its metric; value_unit names it
                assert f.unit is None and "value_unit" in names
                assert set(F.METRIC_DIMENSIONS.values()) <= set(units.DIMENSIONS)
            elif f.parse.startswith("quantity:"):
                dimension = units.DIMENSIONS[f.parse.split(":", 1)[1]]
                assert f.unit == dimension.base_unit, f"{table.name}.{f.name}: unit differs from its parser's"
            else:
                assert f.parse in F.PARSERS
            if f.parse == "enum":
                assert f.choices, f"{table.name}.{f.name}: an enum without choices"
            if f.ref:
                ref_table, ref_column = f.ref.split(".")
                assert ref_column in F.TABLES[ref_table].columns


def test_units_end_column_names():
    for table in F.TABLES.values():
        for f in table.fields:
            suffixes = UNIT_SUFFIXES.get(f.unit or "")
            if suffixes and table.name != "fits":
                assert f.name.endswith(suffixes), f"{table.name}.{f.name} holds {f.unit} but its name does not say so"


def test_every_raw_column_is_used_by_exactly_one_field():
    for table in F.TABLES.values():
        raws = [f.raw for f in table.fields if f.raw]
        assert len(raws) == len(set(raws))
        for raw in raws:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", raw)
