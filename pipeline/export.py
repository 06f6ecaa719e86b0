"""Export the curated tables to a folder as CSV, Parquet or JSON, with every column's unit and description.

Each export is itself a Frictionless data package: the table files plus a datapackage.json whose fields carry
type, unit and description (from the registry), so units travel with every format:

- parquet: the curated files as they are (field metadata "unit" and "description" inside);
- csv: one header row of column names (or "name [unit]" with units_in_header), empty cells for missing values,
  floats written in full precision, dates ISO 8601;
- json: one array of row objects per table, null for missing values.

The export never writes into raw/ or curated/, and never over the repository's own datapackage.json.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from pipeline import fields as F
from pipeline import package, paths

FORMATS = ("csv", "parquet", "json")
MEDIATYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet", "json": "application/json"}


class ExportError(ValueError):
    pass


def check_target(folder: Path, force: bool = False) -> Path:
    """Refuse folders inside the repository other than a folder of the user's own that git does not track, and a
    non-empty folder unless force (an export never mixes with older files)."""
    try:
        target = paths.check_user_output(folder, folder=True)
    except paths.OutputRefused as err:
        raise ExportError(str(err)) from None
    if target.exists() and any(target.iterdir()) and not force:
        raise ExportError(f"refusing to export into {folder}: it is not empty (add --force to overwrite its files)")
    return target


def header_name(f: F.Field, units_in_header: bool) -> str:
    return f"{f.name} [{f.unit}]" if units_in_header and f.unit else f.name


def _csv_cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _json_cell(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def write_table(table: F.Table, source: Path, target: Path, fmt: str, units_in_header: bool) -> None:
    import csv

    if fmt == "parquet":
        shutil.copyfile(source, target)
        return
    arrow = pq.read_table(source)
    columns = [arrow.column(f.name).to_pylist() for f in table.fields]
    rows = list(zip(*columns, strict=True)) if columns else []
    if fmt == "csv":
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([header_name(f, units_in_header) for f in table.fields])
            writer.writerows([_csv_cell(v) for v in row] for row in rows)
    else:
        records = [{f.name: _json_cell(v) for f, v in zip(table.fields, row, strict=True)} for row in rows]
        target.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def descriptor(tables: list[F.Table], fmt: str, units_in_header: bool, version: str) -> dict:
    resources = []
    for table in tables:
        schema = package.table_schema(table)
        for field, f in zip(schema["fields"], table.fields, strict=True):
            field["name"] = header_name(f, units_in_header) if fmt == "csv" else f.name
        schema["primaryKey"] = [
            header_name(table.field(k), units_in_header) if fmt == "csv" else k for k in schema["primaryKey"]
        ]
        for foreign in schema.get("foreignKeys", []):
            foreign["fields"] = [
                header_name(table.field(k), units_in_header) if fmt == "csv" else k for k in foreign["fields"]
            ]
            if fmt == "csv":
                ref = F.TABLES[foreign["reference"]["resource"]]
                foreign["reference"]["fields"] = [
                    header_name(ref.field(k), units_in_header) for k in foreign["reference"]["fields"]
                ]
        if fmt == "json":
            schema["missingValues"] = []  # JSON uses null
        resource = {
            "name": table.name,
            "type": "table",
            "path": f"{table.name}.{fmt}",
            "format": fmt,
            "mediatype": MEDIATYPES[fmt],
            "description": table.description,
            "licenses": [package.DATA_LICENSE],
            "schema": schema,
        }
        if fmt == "csv":
            resource["encoding"] = "utf-8"
        resources.append(resource)
    return {
        "$schema": package.PROFILE,
        "name": "memwall-export",
        "title": f"memwall {version}, exported as {fmt}",
        "version": version,
        "licenses": [package.DATA_LICENSE],
        "sources": package.PACKAGE_SOURCES,
        "resources": resources,
    }


def export(
    folder: Path,
    fmt: str,
    table_names: list[str] | None = None,
    units_in_header: bool = False,
    quiet: bool = False,
    curated_dir: Path | None = None,
    force: bool = False,
) -> list[Path]:
    """Write the tables and a datapackage.json into folder; returns the files written."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    curated_dir = curated_dir or paths.CURATED
    names = table_names or list(F.TABLES)
    unknown = [n for n in names if n not in F.TABLES]
    if unknown:
        from pipeline.query import closest

        hint = closest(unknown[0], list(F.TABLES))
        raise ExportError(f"unknown table {unknown[0]!r}" + (f"; did you mean {' or '.join(hint)}?" if hint else ""))
    target = check_target(folder, force)
    target.mkdir(parents=True, exist_ok=True)
    tables = [F.TABLES[n] for n in names]
    written = []
    for table in tables:
        started = time.perf_counter()
        source = curated_dir / f"{table.name}.parquet"
        if not source.exists():
            raise ExportError(f"{source} does not exist: run `memwall build`")
        path = target / f"{table.name}.{fmt}"
        write_table(table, source, path, fmt, units_in_header)
        written.append(path)
        if not quiet:
            print(f"memwall: export {table.name:<20} {time.perf_counter() - started:6.2f} s  {path}", file=sys.stderr)
    meta = target / "datapackage.json"
    meta.write_text(
        json.dumps(descriptor(tables, fmt, units_in_header, paths.dataset_version()), indent=2, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    written.append(meta)
    return written
