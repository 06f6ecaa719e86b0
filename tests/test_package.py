"""The citable package: datapackage.json validates against the official Data Package v2 schema, lists every column of
every curated file with its unit, states only what the data satisfies, and is byte-reproducible; the data dictionary,
the data changelog and CITATION.cff agree with the data and the version."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pyarrow.parquet as pq
import pytest

from pipeline import database, package, paths
from pipeline import fields as F

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO / "tests" / "schemas" / "datapackage-2.0.json"
SCHEMA_SHA256 = "a9ef0fc168b3402ae7aa7d22bbcb798e0db6b639e7ee15ff4aa177463cea7112"  # see tests/schemas/README.md
STALE = "run `python -m pipeline.build package` (or `make figures`) and commit the result"


@pytest.fixture(scope="module")
def validator():
    data = SCHEMA_FILE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256, "the vendored schema differs from the official file"
    schema = json.loads(data)
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def descriptor():
    return json.loads((REPO / "datapackage.json").read_text(encoding="utf-8"))


def test_datapackage_validates_against_the_official_schema(validator, descriptor):
    errors = sorted(validator.iter_errors(descriptor), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("resources",), []),  # at least one resource
        (("resources", 0, "path"), "../outside.parquet"),  # no parent directories
        (("resources", 0, "hash"), "sha256:not-hex"),
        (("resources", 0, "schema", "fields", 0, "type"), "text"),  # not a Table Schema type
        (("licenses", 0, "name"), "CC BY 4.0"),  # spaces are not allowed in a license id
    ],
)
def test_the_schema_check_can_fail(validator, descriptor, path, value):
    broken = json.loads(json.dumps(descriptor))
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert list(validator.iter_errors(broken)), f"setting {path} to {value!r} should not validate"


def test_every_column_of_every_curated_file_is_listed_with_its_unit(descriptor):
    resources = {r["name"]: r for r in descriptor["resources"]}
    files = sorted(p.stem for p in paths.CURATED.glob("*.parquet"))
    assert sorted(resources) == files, "one resource per curated Parquet file"
    for name, resource in resources.items():
        assert resource["path"] == f"curated/{name}.parquet"
        schema = pq.read_schema(paths.CURATED / f"{name}.parquet")  # the file itself, not the registry
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == schema.names, f"{name}: columns differ from the Parquet file"
        for f in fields:
            unit_in_file = (schema.field(f["name"]).metadata or {}).get(b"unit", b"").decode()
            assert f.get("unit", "") == unit_in_file, f"{name}.{f['name']}: unit differs from the file's metadata"
            assert f["description"], f"{name}.{f['name']}: no description"


def test_units_follow_the_column_names(descriptor):
    # An independent reading of the naming convention (STYLE.md: units end column names)
    suffix_units = {"_bytes_per_s": "B/s", "_flops": "FLOP/s", "_flop": "FLOP", "_watts": "W", "_bits": "bit"}
    for resource in descriptor["resources"]:
        for f in resource["schema"]["fields"]:
            for suffix, unit in suffix_units.items():
                if f["name"].endswith(suffix):
                    assert f.get("unit") == unit, f"{resource['name']}.{f['name']}"
                    break


def test_hashes_match_the_files(descriptor):
    for resource in descriptor["resources"]:
        data = (REPO / resource["path"]).read_bytes()
        assert "bytes" not in resource, "frictionless cannot measure a Parquet source: a byte count fails validation"
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), f"{resource['path']}: {STALE}"


def test_frictionless_validates_the_package():
    """The real client: `frictionless validate datapackage.json` (every cell against every field's type and
    constraints, missing values as declared). The first 5,000 rows of each resource: every row of every table but
    the derived inference_bounds grid (135k rows, about 100 s to validate in full; its Parquet schema is the
    registry's, tests/test_registry.py)."""
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(str(REPO / "datapackage.json"), limit_rows=5000)
    sizes = {name: pq.ParquetFile(REPO / "curated" / f"{name}.parquet").metadata.num_rows for name in F.TABLES}
    assert all(n <= 5000 for name, n in sizes.items() if name != "inference_bounds"), sizes
    errors = [e.message for task in report.tasks for e in task.errors][:10]
    assert report.valid, errors


@pytest.mark.parametrize("fmt", ["csv"])
def test_frictionless_validates_an_export(fmt, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    from pipeline import export

    export.export(tmp_path / "out", fmt, quiet=True)
    report = frictionless.validate(str(tmp_path / "out" / "datapackage.json"))
    errors = [e.message for task in report.tasks for e in task.errors][:10]
    assert report.valid, errors


def test_the_descriptor_is_what_the_code_builds_now():
    text = package.render_datapackage(paths.CURATED, paths.dataset_version())
    assert (REPO / "datapackage.json").read_text(encoding="utf-8") == text, STALE


def test_the_descriptor_is_byte_reproducible_across_processes():
    code = (
        "import sys; from pipeline import package, paths; "
        "sys.stdout.write(package.render_datapackage(paths.CURATED, paths.dataset_version()))"
    )
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, check=True)
        outputs.add(result.stdout)
    assert len(outputs) == 1
    assert package.data_dictionary(paths.CURATED, "x") == package.data_dictionary(paths.CURATED, "x")


def test_what_the_descriptor_claims_holds_on_the_data(descriptor):
    tables = {r["name"]: pq.read_table(REPO / r["path"]).to_pandas() for r in descriptor["resources"]}
    for resource in descriptor["resources"]:
        frame = tables[resource["name"]]
        for f in resource["schema"]["fields"]:
            column = frame[f["name"]]
            constraints = f.get("constraints", {})
            where = f"{resource['name']}.{f['name']}"
            if constraints.get("required"):
                assert column.notna().all(), f"{where}: required but has missing values"
            if "enum" in constraints:
                assert set(column.dropna()) <= set(constraints["enum"]), f"{where}: a value outside the enum"
            values = column.dropna()
            if "minimum" in constraints and len(values):
                assert values.min() >= constraints["minimum"], f"{where}: below the minimum"
            if "maximum" in constraints and len(values):
                assert values.max() <= constraints["maximum"], f"{where}: above the maximum"
            if f["type"] == "number":
                assert all(isinstance(v, float) for v in values), where
        key = resource["schema"]["primaryKey"]
        assert not frame.duplicated(subset=key).any(), f"{resource['name']}: primary key {key} is not unique"
        for foreign in resource["schema"].get("foreignKeys", []):
            referenced = tables[foreign["reference"]["resource"]][foreign["reference"]["fields"][0]]
            values = frame[foreign["fields"][0]].dropna()
            assert values.isin(set(referenced)).all(), f"{resource['name']}: a foreign key does not resolve"


def test_every_registry_field_is_in_the_descriptor_with_its_unit(descriptor):
    fields = {(r["name"], f["name"]): f for r in descriptor["resources"] for f in r["schema"]["fields"]}
    for table in F.TABLES.values():
        for f in table.fields:
            entry = fields[(table.name, f.name)]
            assert entry.get("unit") == f.unit, f"{table.name}.{f.name}"
            assert entry["description"] == f.description


def test_licenses_are_cc_by_for_data_and_mit_for_code(descriptor):
    assert [lic["name"] for lic in descriptor["licenses"]] == ["CC-BY-4.0", "MIT"]
    assert all(r["licenses"][0]["name"] == "CC-BY-4.0" for r in descriptor["resources"])
    assert descriptor["version"] == (REPO / "VERSION").read_text(encoding="utf-8").strip()


def test_every_resource_names_its_sources(descriptor):
    for resource in descriptor["resources"]:
        assert resource["sources"], resource["name"]
        for source in resource["sources"]:
            assert (REPO / source["path"]).exists(), f"{resource['name']}: source {source['path']} does not exist"


# ---------------------------------------------------------------------------------------------------------------
# The data dictionary


def test_the_data_dictionary_is_current():
    text = package.data_dictionary(paths.CURATED, paths.dataset_version())
    assert (REPO / "docs" / "DATA_DICTIONARY.md").read_text(encoding="utf-8") == text, STALE


def test_the_data_dictionary_lists_every_column_with_its_unit():
    text = (REPO / "docs" / "DATA_DICTIONARY.md").read_text(encoding="utf-8")
    for table in F.TABLES.values():
        section = text.split(f"\n## {table.name}\n", 1)[1].split("\n## ", 1)[0]
        for f in table.fields:
            row = next((line for line in section.splitlines() if line.startswith(f"| `{f.name}` |")), None)
            assert row, f"{table.name}.{f.name} missing from the data dictionary"
            assert row.split(" | ")[2] == (f.unit or ""), f"{table.name}.{f.name}: unit"


def test_every_unit_is_explained_and_every_view_column_described():
    used = {f.unit for t in F.TABLES.values() for f in t.fields if f.unit}
    assert used <= set(package.UNITS), f"units without a meaning in pipeline/package.py: {used - set(package.UNITS)}"
    registry_columns = {f.name for t in F.TABLES.values() for f in t.fields}
    for view, columns in package.view_columns(paths.CURATED).items():
        for name, _ in columns:
            assert name in registry_columns or name in package.VIEW_COLUMNS, (
                f"view {view} has column {name} that neither the registry nor package.VIEW_COLUMNS describes"
            )
    assert set(package.VIEW_COLUMNS) <= {n for cols in package.view_columns(paths.CURATED).values() for n, _ in cols}
    assert len(package.MACRO_DOCS) == len(database.MACROS)


# ---------------------------------------------------------------------------------------------------------------
# The data changelog and the citation


def test_the_changelog_has_the_current_version_with_its_row_counts():
    text = (REPO / package.CHANGELOG).read_text(encoding="utf-8")
    version = (REPO / "VERSION").read_text(encoding="utf-8").strip()
    headings = re.findall(r"^## (\S+)", text, re.MULTILINE)
    assert headings and headings[0] == version, "the newest CHANGELOG-DATA.md entry must be the version in VERSION"
    counts = package.parse_changelog_counts(text, version)
    actual = {name: pq.ParquetFile(paths.CURATED / f"{name}.parquet").metadata.num_rows for name in F.TABLES}
    assert counts == actual, STALE


def test_the_first_release_is_2026_11_0():
    text = (REPO / package.CHANGELOG).read_text(encoding="utf-8")
    assert re.findall(r"^## (\S+)", text, re.MULTILINE)[-1] == "2026.11.0"


def test_updating_the_changelog_touches_only_the_current_entry():
    text = (
        "# Log\n\n## 2026.12.0\n\nnew\n\n"
        f"{package.COUNTS_BEGIN}\nold\n{package.COUNTS_END}\n\n## 2026.11.0\n\n"
        f"{package.COUNTS_BEGIN}\n\n| table | rows |\n| --- | ---: |\n| `models` | 7 |\n\n{package.COUNTS_END}\n"
    )
    new = package.update_changelog(text, "2026.12.0", {"models": 9})
    assert package.parse_changelog_counts(new, "2026.12.0") == {"models": 9}
    assert package.parse_changelog_counts(new, "2026.11.0") == {"models": 7}
    with pytest.raises(package.PackageError, match="no '## 2027.1.0' entry"):
        package.update_changelog(text, "2027.1.0", {})


# The top-level keys CITATION.cff 1.2.0 allows (schema.json of citation-file-format 1.2.0); others are errors.


def test_citation_cff_validates_against_the_cff_schema_and_is_current():
    import jsonschema
    import yaml

    schema = json.loads((REPO / "tests" / "schemas" / "citation-file-format-1.2.0.json").read_text(encoding="utf-8"))
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(cff)]
    assert not errors, errors
    version = (REPO / "VERSION").read_text(encoding="utf-8").strip()
    date = package.release_date(version, (REPO / "CHANGELOG-DATA.md").read_text(encoding="utf-8"))
    assert cff["type"] == "dataset" and cff["version"] == version and str(cff["date-released"]) == date
    assert cff["title"] == package.TITLE and cff["url"] == package.PROJECT_URL
    preferred = cff["preferred-citation"]
    assert (
        preferred["title"] == package.TITLE and preferred["version"] == version and preferred["year"] == int(date[:4])
    )
    assert (REPO / "CITATION.cff").read_text(encoding="utf-8") == package.citation_cff(version, date)
    assert set(cff["license"]) == {"CC-BY-4.0", "MIT"}


def test_the_bibtex_entry_compiles_with_the_plain_style():
    """Formatted by a real BibTeX implementation (pybtex, plain style): the author is the organisation, not a person
    named 'contributors', and year, version and URL reach the reference."""
    from pybtex.database import parse_string
    from pybtex.plugin import find_plugin

    version = (REPO / "VERSION").read_text(encoding="utf-8").strip()
    date = package.release_date(version, (REPO / "CHANGELOG-DATA.md").read_text(encoding="utf-8"))
    entry = package.bibtex(version, date)
    database = parse_string(entry, "bibtex")
    person = database.entries["memwall"].persons["author"][0]
    assert str(person) == "{memwall contributors}" or " ".join(person.last_names) == "{memwall contributors}", person
    style = find_plugin("pybtex.style.formatting", "plain")()
    text = next(style.format_entries(database.entries.values())).text.render_as("text")
    assert text.startswith("memwall contributors."), text
    for part in (date[:4], version, package.PROJECT_URL):
        assert part in text, (part, text)


def test_one_title_everywhere():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    gallery = (paths.FIGURES / "README.md").read_text(encoding="utf-8")
    descriptor = json.loads((REPO / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["title"] == package.TITLE
    assert package.TITLE in " ".join(readme.split())
    assert package.TITLE in gallery
    version = (REPO / "VERSION").read_text(encoding="utf-8").strip()
    date = package.release_date(version, (REPO / "CHANGELOG-DATA.md").read_text(encoding="utf-8"))
    assert package.bibtex(version, date) in readme, "the README's BibTeX entry is not the current one"
    assert package.bibtex(version, date) in gallery
