"""A corpus of bad inputs: each stops the build with a message naming file, line, column, the value found and what
was expected, and leaves every file in curated/ and figures/ byte-identical."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import pytest
from conftest import FIXTURE_RAW, REPO, read_rows, table_header, write_rows

from pipeline import build, paths

NVIDIA = "accelerators/nvidia.csv"
MODELS = "models/2018-2024.csv"
LINKS = "interconnects.csv"
TABLE_OF = {NVIDIA: "accelerators", MODELS: "models", LINKS: "interconnects"}


def set_cell(file: str, row: int, column: str, value: str, **other_cells: str):
    """Set one cell (the one the message must name), and optionally other cells of the same row."""

    def mutate(root):
        path = root / "raw" / file
        rows = read_rows(path)
        rows[row][column] = value
        rows[row].update(other_cells)
        write_rows(path, rows, table_header(TABLE_OF[file]))

    mutate.where = (file, row + 2, column, value)
    return mutate


def rewrite(file: str, transform, line: int | None = None):
    def mutate(root):
        path = root / "raw" / file
        path.write_bytes(transform(path.read_bytes()))

    mutate.where = (file, line, None, None)
    return mutate


def rename_header(file: str, old: str, new: str):
    return rewrite(file, lambda b: b.replace(old.encode(), new.encode(), 1), line=1)


def no_value(mutate):
    """The message names the character found (U+200B ...) or the length, not the whole cell."""
    file, line, column, _ = mutate.where
    mutate.where = (file, line, column, None)
    return mutate


def _lines(data: bytes) -> list[str]:
    return data.decode().split("\n")


def _extra_cell(data: bytes, line: int) -> bytes:
    lines = _lines(data)
    lines[line - 1] += ",surplus"
    return "\n".join(lines).encode()


def _drop_last_cell(data: bytes, line: int) -> bytes:
    import csv
    import io

    lines = _lines(data)
    cells = next(csv.reader(io.StringIO(lines[line - 1])))
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells[:-1])
    lines[line - 1] = out.getvalue()
    return "\n".join(lines).encode()


def _open_quote(data: bytes, line: int) -> bytes:
    lines = _lines(data)
    first, rest = lines[line - 1].split(",", 1)
    lines[line - 1] = f'{first},"{rest}'
    return "\n".join(lines).encode()


# (case, mutation, fragments the message must contain besides the place)
CASES = [
    ("unknown unit", set_cell(NVIDIA, 0, "tdp", "700 Watt"), ["expected a power"]),
    ("misspelled unit", set_cell(NVIDIA, 0, "peak_bf16", "989.4 TFlop/s"), ["did you mean 'TFLOP/s'"]),
    ("unit in a numbers-only column", set_cell(NVIDIA, 2, "dies_per_device", "2 dies"), ["numbers-only column"]),
    ("non-number", set_cell(NVIDIA, 0, "memory_bandwidth", "fast TB/s"), ["not a quantity"]),
    ("negative", set_cell(NVIDIA, 0, "memory_bandwidth", "-3.35 TB/s"), ["expected between"]),
    ("zero where impossible", set_cell(NVIDIA, 1, "tdp", "0 W"), ["zero; expected a positive value"]),
    ("NaN", set_cell(NVIDIA, 0, "peak_fp32", "nan TFLOP/s"), ["not a finite number"]),
    ("infinity", set_cell(NVIDIA, 0, "peak_fp32", "inf TFLOP/s"), ["not a finite number"]),
    ("absurd magnitude", set_cell(NVIDIA, 0, "peak_fp16", "1e30 FLOP/s"), ["out of the plausible range"]),
    ("malformed date", set_cell(NVIDIA, 0, "release_date", "2022-13-01"), ["expected YYYY, YYYY-MM or YYYY-MM-DD"]),
    ("date in another format", set_cell(NVIDIA, 0, "release_date", "22/03/2022"), ["not a date"]),
    ("future date", set_cell(MODELS, 0, "release_date", "2099-01-01"), ["a date in the future"]),
    ("date before 1940", set_cell(NVIDIA, 0, "release_date", "1939-12-31"), ["a date before 1940"]),
    ("duplicate id", set_cell(NVIDIA, 1, "accelerator_id", "nvidia-h100-sxm5-80gb"), ["duplicate id"]),
    ("same product under two ids", set_cell(NVIDIA, 1, "name", "H100 SXM5 80GB"), ["the same vendor and product"]),
    ("missing source", set_cell(MODELS, 1, "source_url", ""), ["a required value is empty"]),
    ("malformed URL", set_cell(MODELS, 1, "source_url", "arxiv.org/abs/1810.04805"), ["expected an https://"]),
    ("sparse figure marked with a star", set_cell(NVIDIA, 0, "peak_bf16", "1979 TFLOP/s*"), ["dense rate"]),
    ("sparse headline in a dense column", set_cell(NVIDIA, 0, "peak_bf16", "1979 TFLOP/s"), ["2:4-sparse headline"]),
    ("missing required column", rewrite(NVIDIA, lambda b: _drop_column(b, "vendor"), line=1), ["missing column"]),
    ("unknown extra column", rewrite(NVIDIA, lambda b: _add_column(b, "price"), line=1), ["unknown column"]),
    (
        "misspelled header",
        rename_header(NVIDIA, "memory_bandwidth", "memory_bandwith"),
        ["did you mean 'memory_bandwidth'"],
    ),
    ("empty file", rewrite(LINKS, lambda b: b"", line=None), ["the file is empty"]),
    ("header-only file", rewrite(LINKS, lambda b: b.split(b"\n", 1)[0] + b"\n", line=1), ["no records"]),
    ("byte-order mark", rewrite(LINKS, lambda b: b"\xef\xbb\xbf" + b, line=1), ["byte-order mark"]),
    ("non-UTF-8 bytes", rewrite(MODELS, lambda b: b.replace(b"Mistral AI", b"Mistral \xe9AI"), line=4), ["not UTF-8"]),
    ("CRLF line endings", rewrite(LINKS, lambda b: b.replace(b"\n", b"\r\n"), line=1), ["carriage return"]),
    ("quoted comma in a number", set_cell(NVIDIA, 0, "tdp", "1,000 W"), ["comma"]),
    ("quoted newline in a cell", set_cell(MODELS, 1, "notes", "two\nlines"), ["a line break inside a cell"]),
    ("stray whitespace", set_cell(NVIDIA, 0, "tdp", " 700 W"), ["stray whitespace"]),
    ("boolean written as yes", set_cell(MODELS, 0, "is_recommender", "yes"), ["expected true or false"]),
    ("mixed units in one column", set_cell(NVIDIA, 0, "memory_capacity", "80 GB/s"), ["unit of a bandwidth"]),
    ("memory size with no unit", set_cell(NVIDIA, 1, "memory_capacity", "40"), ["a number without a unit"]),
    ("unknown enum value", set_cell(NVIDIA, 0, "segment", "server"), ["expected one of datacenter"]),
    ("unknown reference", set_cell(MODELS, 0, "trained_on", "nvidia-h100"), ["unknown accelerator_id"]),
    (
        "active above total parameters",
        set_cell(MODELS, 2, "active_parameters", "50 billion"),
        ["expected active <= total"],
    ),
    (
        "bandwidth without a direction",
        set_cell(NVIDIA, 0, "interconnect_bandwidth_direction", ""),
        ["expected bidirectional or per_direction"],
    ),
    ("compute without its method", set_cell(MODELS, 0, "training_compute_method", ""), ["expected reported, 6ND"]),
    (
        "6ND without its inputs",
        set_cell(MODELS, 1, "training_compute_method", "6ND"),
        ["6ND without parameters and training_tokens"],
    ),
    (
        "6ND value that is not 6 x N x D",
        set_cell(MODELS, 0, "training_compute", "1e24 FLOP", training_compute_method="6ND"),
        ["differs from 6 x parameters x training_tokens"],  # 6 x 175e9 x 300e9 = 3.15e23
    ),
    (
        "hardware estimate without its duration",
        set_cell(
            MODELS,
            1,
            "training_compute_method",
            "hardware",
            training_chip_count="16",
            training_utilization="0.4",
            trained_on="nvidia-h100-sxm5-80gb",
        ),
        ["hardware without training_chip_count, training_duration"],
    ),
    ("utilization above one", set_cell(MODELS, 0, "training_utilization", "1.5"), ["out of the plausible range"]),
    ("duration without a unit", set_cell(MODELS, 0, "training_duration", "65"), ["expected a duration"]),
    ("id that is not a slug", set_cell(MODELS, 0, "model_id", "GPT 3"), ["expected a lowercase slug"]),
    # hostile records: markup, scripts, invisible and control characters, look-alikes, exotic digits, overlong cells
    (
        "script in a name",
        set_cell(MODELS, 0, "name", "LLaMA 7B</script><img src=x onerror=alert(1)>"),
        ["markup characters"],
    ),
    ("tag in the notes", set_cell(MODELS, 0, "notes", "see <iframe src=https://evil.example>"), ["HTML/XML tag"]),
    (
        "attribute break-out in a URL",
        set_cell(MODELS, 1, "source_url", 'https://arxiv.org/abs/1"><script>x</script>'),
        ["expected an https://"],
    ),
    ("javascript URL", set_cell(MODELS, 1, "source_url", "javascript:alert(1)"), ["expected an https://"]),
    (
        "URL with a space",
        set_cell(MODELS, 1, "source_url", "https://arxiv.org/abs/1810 .04805"),
        ["expected an https://"],
    ),
    ("zero-width space in a name", no_value(set_cell(NVIDIA, 1, "name", "A100\u200b SXM4 40GB")), ["ZERO WIDTH SPACE"]),
    (
        "right-to-left override in notes",
        no_value(set_cell(MODELS, 0, "notes", "abc\u202edef")),
        ["RIGHT-TO-LEFT OVERRIDE"],
    ),
    ("tab inside a cell", no_value(set_cell(MODELS, 0, "notes", "a\tb")), ["invisible or control character"]),
    ("no-break space", no_value(set_cell(MODELS, 0, "name", "GPT-3\u00a0175B")), ["NO-BREAK SPACE"]),
    ("control character", no_value(set_cell(MODELS, 0, "organization", "Open\x07AI")), ["control character"]),
    (
        "look-alike duplicate (Cyrillic H)",
        set_cell(NVIDIA, 1, "name", "\u041d100 SXM5 80GB"),
        ["the same vendor and product"],
    ),
    (
        "Latin word with a Cyrillic letter",
        set_cell(MODELS, 0, "name", "GPT-3 \u0430dvanced"),
        ["mixing Latin letters with look-alike"],
    ),
    ("Arabic-Indic digits", set_cell(NVIDIA, 0, "tdp", "\u0667\u0660\u0660 W"), ["digits that are not ASCII"]),
    ("overlong notes", no_value(set_cell(MODELS, 0, "notes", "x" * 1_000_000)), ["expected at most 4000"]),
    ("overlong name", no_value(set_cell(MODELS, 0, "name", "GPT " * 100)), ["expected at most 160"]),
    ("spreadsheet formula in a name", set_cell(MODELS, 0, "name", "=HYPERLINK(1)"), ["spreadsheet formula"]),
    ("one cell too many", rewrite(MODELS, lambda b: _extra_cell(b, 3), line=3), ["more than the header"]),
    ("one cell too few", rewrite(MODELS, lambda b: _drop_last_cell(b, 3), line=3), ["fewer than the header"]),
    ("unterminated quote", rewrite(MODELS, lambda b: _open_quote(b, 3), line=3), ["an unterminated quote"]),
    ("empty key cell not explained", set_cell(NVIDIA, 0, "memory_bandwidth", ""), ["not explained"]),
    (
        "explained cell that is filled",
        set_cell(NVIDIA, 0, "not_published", "memory_bandwidth"),
        ["lists 'memory_bandwidth' but memory_bandwidth is filled"],
    ),
    (
        "unknown column in an explanation",
        set_cell(NVIDIA, 0, "not_published", "memory_bandwith"),
        ["unknown column name"],
    ),
    ("unknown status", set_cell(NVIDIA, 0, "status", "released"), ["expected one of shipping"]),
]


def _drop_column(data: bytes, column: str) -> bytes:
    import csv
    import io

    rows = list(csv.reader(io.StringIO(data.decode())))
    index = rows[0].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:index] + r[index + 1 :] for r in rows])
    return out.getvalue().encode()


def _add_column(data: bytes, column: str) -> bytes:
    lines = data.decode().split("\n")
    return "\n".join([lines[0] + f",{column}"] + [line + ",1" if line else line for line in lines[1:]]).encode()


def snapshot(root) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in ("curated", "figures")
        for p in sorted((root / folder).rglob("*"))
        if p.is_file() and p.name != ".build.lock"
    }


@pytest.fixture(scope="session")
def fixture_tables(tmp_path_factory):
    """The fixture raw/ ingested once per test run (every case starts from these outputs)."""
    root = tmp_path_factory.mktemp("baseline")
    shutil.copytree(FIXTURE_RAW, root / "raw")
    shutil.copy(REPO / "VERSION", root / "VERSION")
    (root / "curated").mkdir()
    with pytest.MonkeyPatch.context() as m:
        for name, value in (
            ("ROOT", root),
            ("RAW", root / "raw"),
            ("CURATED", root / "curated"),
            ("FIGURES", root / "figures"),
            ("DATABASE", root / "curated" / "memwall.duckdb"),
            ("LOCK", root / "curated" / ".build.lock"),
        ):
            m.setattr(paths, name, value)
        assert build.run(["ingest"], quiet=True) == 0
    return root / "curated"


@pytest.fixture
def built(project, fixture_tables):
    for path in fixture_tables.iterdir():  # the tables as `build ingest` writes them from the unchanged raw/
        if path.name != ".build.lock":
            shutil.copy2(path, project / "curated" / path.name)
    (project / "figures" / "2026.11.0").mkdir(parents=True)
    (project / "figures" / "2026.11.0" / "fig.svg").write_text("<svg/>")
    return project


def test_the_corpus_is_at_least_sixty_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize(("case", "mutate", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_stops_the_build_and_changes_nothing(built, capsys, case, mutate, fragments):
    before = snapshot(built)
    mutate(built)
    assert build.run(["ingest"], quiet=True) == 1, f"{case}: the build accepted a bad input"
    message = capsys.readouterr().err
    file, line, column, value = mutate.where
    place = f"raw/{file}" + (f":{line}:" if line else "")
    assert place in message, f"{case}: message does not name {place}:\n{message}"
    if column:
        assert f"column '{column}'" in message, message
    if value is not None and case not in ("duplicate id", "same product under two ids") and "look-alike" not in case:
        assert f"found {value!r}" in message, message
    for fragment in fragments:
        assert fragment in message, f"{case}: {fragment!r} not in:\n{message}"
    assert "expected" in message
    assert snapshot(built) == before, f"{case}: an output changed"


def test_the_command_line_build_exits_nonzero(built):
    set_cell(NVIDIA, 0, "tdp", "700 Watt")(built)
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.build", "ingest"],
        capture_output=True,
        text=True,
        env={"MEMWALL_ROOT": str(built), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert "raw/accelerators/nvidia.csv:2: column 'tdp': found '700 Watt'" in result.stderr
