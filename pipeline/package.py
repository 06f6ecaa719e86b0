"""The citable package: datapackage.json, docs/DATA_DICTIONARY.md, and the generated parts of CHANGELOG-DATA.md
and docs/QUERIES.md, all from the field registry (pipeline/fields.py) and the curated files.

    python -m pipeline.build package

datapackage.json is a Frictionless Data Package (v2): one resource per curated Parquet file, with its size and
SHA-256, its raw sources and a Table Schema whose fields carry type, description, constraints and a custom "unit"
property (v2 has no standard unit). Every output is byte-reproducible: no timestamps, sorted inputs, fixed JSON
formatting.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pyarrow.parquet as pq

from pipeline import fields as F
from pipeline import paths

# One title, one home and one citation for the dataset, wherever it is named (CITATION.cff, datapackage.json, the
# gallery, the README): tests/test_package.py checks every place against these.
TITLE = "memwall: a cited dataset of the historical scaling of AI hardware and AI models"
PROJECT_URL = "https://github.com/memwall/memwall"
AUTHOR = "memwall contributors"
PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
TABLE_SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
DATA_LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0 International (data: raw/, curated/, figures/; see LICENSE-DATA)",
}
CODE_LICENSE = {
    "name": "MIT",
    "path": "https://opensource.org/license/mit",
    "title": "MIT License (code: pipeline/, tests/; see LICENSE)",
}
PACKAGE_SOURCES = [
    {
        "title": "Gholami, Yao, Kim, Hooper, Mahoney, Keutzer. AI and Memory Wall. IEEE Micro 44(3), 2024",
        "path": "https://arxiv.org/abs/2403.14123",
    },
    {
        "title": "The paper authors' data tables (ai_and_memory_wall)",
        "path": "https://github.com/amirgholami/ai_and_memory_wall",
    },
    {"title": "Primary source of every row: its source_url column (datasheets, whitepapers, papers)"},
]
KEYWORDS = [
    "AI hardware",
    "accelerators",
    "memory wall",
    "memory bandwidth",
    "interconnect bandwidth",
    "FLOP/s",
    "training compute",
    "model parameters",
    "scaling trends",
]
TABLE_SCHEMA_TYPES = {"string": "string", "float64": "number", "int64": "integer", "bool": "boolean", "date": "date"}
# A table's primary key where the registry's `key` column alone is not unique.
PRIMARY_KEYS = {
    "fits": ["preset", "series", "selection", "method"],
    "inference_bounds": ["model_id", "accelerator_id", "scenario", "precision"],
}

# What each unit symbol of the registry means (tests check every unit used is here).
UNITS = {
    "FLOP/s": "floating-point operations per second",
    "OP/s": "integer operations per second",
    "FLOP": "floating-point operations",
    "B": "bytes (1 B = 8 bit; decimal kB, MB, GB ... and binary KiB, MiB, GiB ... converted on ingest)",
    "B/s": "bytes per second",
    "bit": "bits",
    "bit/s": "bits per second (signalling rate)",
    "W": "watts",
    "s": "seconds",
    "J": "joules",
    "tokens/s": "tokens per second",
    "count": "a number of things (parameters, tokens, lanes, dies)",
    "ratio": "a dimensionless ratio (growth factor, R²)",
    "year": "years (fractional years for dates: 2020.5 is mid-2020)",
    "1/year": "per year (slope of log10 of a value)",
    "FLOP/B": "floating-point operations per byte moved",
    "B/(FLOP/s)": "bytes of memory per FLOP/s of peak compute",
}

# Columns the views of pipeline/database.py compute (the others are registry columns, described there).
VIEW_COLUMNS: dict[str, tuple[str, str, str]] = {
    "flop_per_memory_byte": (
        "float64",
        "FLOP/B",
        "peak_training_flops / memory_bandwidth_bytes_per_s: the roofline ridge point, FLOP the device must do "
        "per byte it reads from memory to stay compute-bound.",
    ),
    "flop_per_interconnect_byte": (
        "float64",
        "FLOP/B",
        "peak_training_flops / interconnect_bandwidth_per_direction_bytes_per_s.",
    ),
    "memory_bytes_per_flop_per_s": ("float64", "B/(FLOP/s)", "memory_bytes / peak_training_flops."),
    "previous_record_flop": (
        "float64",
        "FLOP",
        "Largest training compute of any earlier model (NULL for the first); a frontier model exceeds it.",
    ),
    "weights_bytes_16bit": ("float64", "B", "2 x parameters: the weights alone in a 16-bit format."),
    "largest_accelerator_memory_bytes": (
        "float64",
        "B",
        "Largest memory_bytes of any non-CPU accelerator released on or before the model.",
    ),
}
MACRO_DOCS = {
    "growth(year, value)": "Aggregate returning a struct: the OLS fit of log10(value) on year (a fractional year, e.g. "
    "release_fractional_year) as curated/fits.parquet holds it for the same points: growth_per_2y, its 95% interval "
    "ci_low and ci_high, n, start_year, end_year, r2. `SELECT unnest(growth(release_fractional_year, "
    "memory_bandwidth_bytes_per_s)) FROM accelerators WHERE segment = 'datacenter'`.",
    "t975(df)": "Student's t 97.5% quantile for df degrees of freedom (the multiplier of the 95% intervals).",
    "fractional_year(d)": "Fractional year at the start of date d: year(d) + (day of year - 1) / days in the year.",
    "growth_per_2y(d, v)": "Aggregate: fitted growth factor per 2 years of v against date d (OLS of log10(v) on "
    "fractional_year(d)): `SELECT growth_per_2y(release_date, memory_bytes) FROM accelerators`.",
}

CHANGELOG = "CHANGELOG-DATA.md"


class PackageError(ValueError):
    """The package cannot be built (a stale or malformed hand-edited file); str() names the file and the fix."""


COUNTS_BEGIN = "<!-- row counts: generated by `python -m pipeline.build package` for the current VERSION -->"
COUNTS_END = "<!-- end of row counts -->"


def rel(path: Path) -> str:
    return path.resolve().relative_to(paths.ROOT.resolve()).as_posix()


# ---------------------------------------------------------------------------------------------------------------
# datapackage.json


def field_descriptor(f: F.Field) -> dict:
    out: dict = {"name": f.name, "type": TABLE_SCHEMA_TYPES[f.dtype], "description": f.description}
    if f.unit:
        out["unit"] = f.unit
    constraints: dict = {}
    if f.required:
        constraints["required"] = True
    if f.choices:
        constraints["enum"] = list(f.choices)
    if f.bounds:
        constraints["minimum"], constraints["maximum"] = f.bounds
    if constraints:
        out["constraints"] = constraints
    return out


def table_schema(table: F.Table) -> dict:
    schema: dict = {
        "$schema": TABLE_SCHEMA_PROFILE,
        "fields": [field_descriptor(f) for f in table.fields],
        "primaryKey": PRIMARY_KEYS.get(table.name, [table.key]),
        # Parquet nulls reach frictionless as "nan" (floats) or "" (text): both mean missing, nothing else does.
        "missingValues": ["", "nan"],
    }
    foreign = []
    for f in table.fields:
        if f.ref:
            ref_table, ref_column = f.ref.split(".")
            foreign.append({"fields": [f.name], "reference": {"resource": ref_table, "fields": [ref_column]}})
    if foreign:
        schema["foreignKeys"] = foreign
    return schema


def table_sources(table: F.Table, root: Path) -> list[dict]:
    if table.raw_glob:
        files = sorted((root / "raw").glob(table.raw_glob))
        return [{"title": f"raw/{p.relative_to(root / 'raw').as_posix()}", "path": rel(p)} for p in files]
    inputs = [f"curated/{name}.parquet" for name in F.RAW_TABLES] + ["pipeline/series.toml"]
    return [{"title": path, "path": path} for path in inputs]


def resource(table: F.Table, curated_dir: Path, root: Path) -> dict:
    path = curated_dir / f"{table.name}.parquet"
    data = path.read_bytes()
    return {
        "name": table.name,
        "type": "table",
        "path": rel(path),
        "format": "parquet",
        "mediatype": "application/vnd.apache.parquet",
        # No "bytes": frictionless cannot measure a Parquet source and would report every resource invalid. The hash
        # is checked by the tests (frictionless does not read it for Parquet).
        "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
        "description": table.description,
        "sources": table_sources(table, root),
        "licenses": [DATA_LICENSE],
        "schema": table_schema(table),
    }


def datapackage(curated_dir: Path, version: str, root: Path | None = None) -> dict:
    root = root or paths.ROOT
    return {
        "$schema": PROFILE,
        "name": "memwall",
        "title": TITLE,
        "homepage": PROJECT_URL,
        "description": (
            "Cited records of accelerators and CPUs (peak FLOP/s per number format, memory capacity, DRAM and "
            "interconnect bandwidth), DRAM and link generations, and notable AI models (parameters, training "
            "compute), 1996-2026, with fitted growth rates; reproduces the figures and rates of 'AI and Memory "
            "Wall' (Gholami et al., IEEE Micro 2024). Values are in base units; each field's unit is in its "
            "'unit' property. Documentation: docs/DATA_DICTIONARY.md, docs/QUERIES.md, CHANGELOG-DATA.md."
        ),
        "version": version,
        "keywords": KEYWORDS,
        "contributors": [{"title": AUTHOR, "roles": ["creator"]}],
        "licenses": [DATA_LICENSE, CODE_LICENSE],
        "sources": PACKAGE_SOURCES,
        "resources": [resource(table, curated_dir, root) for table in F.TABLES.values()],
    }


def render_datapackage(curated_dir: Path, version: str, root: Path | None = None) -> str:
    return json.dumps(datapackage(curated_dir, version, root), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# Citation: CITATION.cff and a BibTeX entry, both from the version and its release date in CHANGELOG-DATA.md


def release_date(version: str, changelog_text: str) -> str:
    """The release date of a version, from its changelog heading '## <version> (YYYY-MM-DD) — ...'."""
    match = re.search(rf"^## {re.escape(version)} \((\d{{4}}-\d{{2}}-\d{{2}})\)", changelog_text, re.MULTILINE)
    if not match:
        raise PackageError(
            f"{CHANGELOG}: the '## {version}' heading has no release date; write it as "
            f"'## {version} (YYYY-MM-DD) — ...'"
        )
    return match.group(1)


def bibtex(version: str, date: str) -> str:
    """A BibTeX entry for the dataset version: the author is an organisation (double braces keep BibTeX from
    reading it as a person's name), the version and URL are in the note for styles without those fields."""
    return "\n".join(
        [
            "@misc{memwall,",
            f"  author       = {{{{{AUTHOR}}}}},",
            "  title        = {{memwall}: a cited dataset of the historical scaling of {AI} hardware and {AI} models},",
            f"  year         = {{{date[:4]}}},",
            f"  version      = {{{version}}},",
            f"  url          = {{{PROJECT_URL}}},",
            f"  howpublished = {{\\url{{{PROJECT_URL}}}}},",
            f"  note         = {{Dataset version {version}, released {date}; data CC BY 4.0}}",
            "}",
        ]
    )


def citation_cff(version: str, date: str) -> str:
    """CITATION.cff (CFF 1.2.0) for the dataset version."""
    return f"""# Generated by `python -m pipeline.build package` (pipeline/package.py, CHANGELOG-DATA.md); do not edit.
cff-version: 1.2.0
message: >-
  If you use the memwall data or figures, please cite the dataset with the version you used (printed on every
  figure, stored in every Parquet file and in datapackage.json), the paper it reproduces, and, for a specific value,
  the original source given in that row's source_url.
type: dataset
title: "{TITLE}"
abstract: >-
  Cited records of accelerators and CPUs (peak FLOP/s per number format, memory capacity, DRAM and interconnect
  bandwidth), DRAM and link generations, and notable AI models (parameters, training compute), 1996-2026, in base
  units, with fitted growth rates and 95% intervals; it reproduces the figures and rates of "AI and Memory Wall"
  (Gholami et al., IEEE Micro 2024) and carries them to 2026.
authors:
  - name: "{AUTHOR}"
version: "{version}"
date-released: "{date}"
url: "{PROJECT_URL}"
repository-code: "{PROJECT_URL}"
license:
  - CC-BY-4.0
  - MIT
keywords:
{chr(10).join(f"  - {k}" for k in KEYWORDS)}
preferred-citation:
  type: data
  title: "{TITLE}"
  authors:
    - name: "{AUTHOR}"
  version: "{version}"
  year: {date[:4]}
  date-released: "{date}"
  url: "{PROJECT_URL}"
  notes: "Dataset version {version}. Data CC BY 4.0."
references:
  - type: article
    title: "AI and Memory Wall"
    authors:
      - family-names: Gholami
        given-names: Amir
      - family-names: Yao
        given-names: Zhewei
      - family-names: Kim
        given-names: Sehoon
      - family-names: Hooper
        given-names: Coleman
      - family-names: Mahoney
        given-names: Michael W.
      - family-names: Keutzer
        given-names: Kurt
    journal: IEEE Micro
    year: 2024
    url: "https://arxiv.org/abs/2403.14123"
    identifiers:
      - type: other
        value: "arXiv:2403.14123"
        description: arXiv identifier
"""


# ---------------------------------------------------------------------------------------------------------------
# docs/DATA_DICTIONARY.md


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _allowed(f: F.Field) -> str:
    parts = []
    if f.required:
        parts.append("required")
    if f.choices:
        parts.append("one of " + ", ".join(f"`{c}`" for c in f.choices))
    if f.bounds:
        parts.append(f"{f.bounds[0]:g} to {f.bounds[1]:g}")
    if f.ref:
        parts.append(f"references `{f.ref}`")
    return "; ".join(parts)


def view_columns(curated_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """view -> [(column, DuckDB type)], from the views created over the Parquet files."""
    import duckdb

    from pipeline import database

    con = duckdb.connect()
    database.create_schema(con, curated_dir, materialize=False)
    out = {}
    for view in database.VIEWS:
        out[view] = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {view}").fetchall()]
    con.close()
    return out


def describe_column(name: str, table_hint: str | None = None) -> tuple[str, str | None, str]:
    """(type, unit, description) of a view or table column: a computed view column, else its registry field."""
    if name in VIEW_COLUMNS:
        dtype, unit, description = VIEW_COLUMNS[name]
        return dtype, unit, description
    tables = [F.TABLES[table_hint]] if table_hint in F.TABLES else list(F.TABLES.values())
    for table in tables:
        for f in table.fields:
            if f.name == name:
                return f.dtype, f.unit, f.description
    raise KeyError(name)


def data_dictionary(curated_dir: Path, version: str) -> str:
    from pipeline import database

    lines = [
        "# Data dictionary",
        "",
        "<!-- Generated by `python -m pipeline.build package` from pipeline/fields.py and pipeline/database.py; "
        "do not edit by hand. -->",
        "",
        f"Dataset version {version}. Every value is stored in the base unit of its column; the same definitions "
        "travel as Parquet field metadata, DuckDB column comments and the `unit`/`description` properties of "
        "`datapackage.json`. Query examples: [QUERIES.md](QUERIES.md).",
        "",
        "| table | file | key | rows are | built from |",
        "| --- | --- | --- | --- | --- |",
    ]
    for table in F.TABLES.values():
        key = ", ".join(f"`{k}`" for k in PRIMARY_KEYS.get(table.name, [table.key]))
        built = f"`raw/{table.raw_glob}`" if table.raw_glob else "the curated tables + `pipeline/series.toml`"
        lines.append(
            f"| [{table.name}](#{table.name}) | `curated/{table.name}.parquet` | {key} | "
            f"{_cell(table.description)} | {built} |"
        )
    lines += ["", "## Units", "", "| unit | meaning |", "| --- | --- |"]
    used = sorted(
        {f.unit for t in F.TABLES.values() for f in t.fields if f.unit} | {u for _, u, _ in VIEW_COLUMNS.values()}
    )
    lines += [f"| `{u}` | {UNITS[u]} |" for u in used]
    for table in F.TABLES.values():
        lines += ["", f"## {table.name}", "", _cell(table.description), ""]
        lines += ["| column | type | unit | description | allowed values |", "| --- | --- | --- | --- | --- |"]
        for f in table.fields:
            lines.append(f"| `{f.name}` | {f.dtype} | {f.unit or ''} | {_cell(f.description)} | {_cell(_allowed(f))} |")
    lines += [
        "",
        "## Views",
        "",
        "Defined in `pipeline/database.py`; present in `curated/memwall.duckdb` and created over the Parquet files "
        "by `memwall sql`. Columns marked *computed* are defined by the view; the others are the registry columns "
        "of the same name.",
    ]
    for view, columns in view_columns(curated_dir).items():
        lines += ["", f"### {view}", "", _cell(database.VIEWS[view][0]), ""]
        lines += ["| column | type | unit | description |", "| --- | --- | --- | --- |"]
        source = "models" if "model" in view else "accelerators"
        for name, duck_type in columns:
            _, unit, description = describe_column(name, source)
            computed = " *(computed)*" if name in VIEW_COLUMNS else ""
            lines.append(f"| `{name}`{computed} | {duck_type.lower()} | {unit or ''} | {_cell(description)} |")
    lines += ["", "## Macros", "", "| macro | what it returns |", "| --- | --- |"]
    lines += [f"| `{name}` | {_cell(text)} |" for name, text in MACRO_DOCS.items()]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# CHANGELOG-DATA.md: the row counts of the current version's entry


def row_counts(curated_dir: Path) -> dict[str, int]:
    return {name: pq.ParquetFile(curated_dir / f"{name}.parquet").metadata.num_rows for name in F.TABLES}


def counts_block(counts: dict[str, int]) -> str:
    lines = [COUNTS_BEGIN, "", "| table | rows |", "| --- | ---: |"]
    lines += [f"| `{name}` | {count} |" for name, count in counts.items()]
    return "\n".join([*lines, "", COUNTS_END])


def update_changelog(text: str, version: str, counts: dict[str, int]) -> str:
    """Rewrite the row-count block of the `## <version>` entry; older entries are history and stay as they are."""
    heading = re.search(rf"^## {re.escape(version)}\b.*$", text, re.MULTILINE)
    if not heading:
        raise PackageError(f"{CHANGELOG} has no '## {version}' entry: add one for the version in VERSION")
    next_heading = re.search(r"^## ", text[heading.end() :], re.MULTILINE)
    end = heading.end() + next_heading.start() if next_heading else len(text)
    entry = text[heading.end() : end]
    block = re.compile(re.escape(COUNTS_BEGIN) + r".*?" + re.escape(COUNTS_END), re.DOTALL)
    if not block.search(entry):
        raise PackageError(f"{CHANGELOG}: the '## {version}' entry lacks the generated row-count block")
    entry = block.sub(lambda _: counts_block(counts), entry)
    return text[: heading.end()] + entry + text[end:]


def parse_changelog_counts(text: str, version: str) -> dict[str, int]:
    """The row counts the `## <version>` entry states (read back by the tests)."""
    heading = re.search(rf"^## {re.escape(version)}\b.*$", text, re.MULTILINE)
    if not heading:
        return {}
    rest = text[heading.end() :]
    stop = re.search(r"^## ", rest, re.MULTILINE)
    entry = rest[: stop.start()] if stop else rest
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^\| `(\w+)` \| (\d+) \|$", entry, re.MULTILINE)}


# ---------------------------------------------------------------------------------------------------------------
# The stage


def build(curated_dir: Path | None = None, root: Path | None = None) -> None:
    """Write datapackage.json, docs/DATA_DICTIONARY.md, and the generated parts of CHANGELOG-DATA.md and
    docs/QUERIES.md. Every file is rewritten (even when unchanged) so make sees them newer than their inputs."""
    from pipeline import docs
    from pipeline.outputs import staged
    from pipeline.query import QueryError

    curated_dir = curated_dir or paths.CURATED
    root = root or paths.ROOT
    version = paths.dataset_version()
    changelog = root / CHANGELOG
    changelog_text = update_changelog(changelog.read_text(encoding="utf-8"), version, row_counts(curated_dir))
    queries = root / "docs" / "QUERIES.md"
    try:
        queries_text = docs.refresh(queries.read_text(encoding="utf-8"), curated_dir) if queries.exists() else None
    except QueryError as err:
        raise PackageError(f"a query in docs/QUERIES.md fails: {err}") from None
    date = release_date(version, changelog_text)
    with staged() as out:
        out.write_text(root / "CITATION.cff", citation_cff(version, date))
        out.write_text(root / "datapackage.json", render_datapackage(curated_dir, version, root))
        out.write_text(root / "docs" / "DATA_DICTIONARY.md", data_dictionary(curated_dir, version))
        out.write_text(changelog, changelog_text)
        if queries_text is not None:
            out.write_text(queries, queries_text)
