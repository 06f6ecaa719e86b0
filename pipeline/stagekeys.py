"""Skip a stage whose inputs are what they were when it last ran and whose outputs are as it left them.

A stage's key is a SHA-256 of everything its outputs are a function of: the code (pipeline/, its fonts, VERSION,
requirements.lock) and the raw files. Free text that only some outputs carry is left out of the key of the stages
that never read it: the `notes` column of every raw table is read only by ingest (it stores it), the database and
the package (they copy it), so an edited note rebuilds those three and skips fits, bounds, paper, report and figures.
After a stage runs, its key and the SHA-256 of each output are stored in curated/.stage-keys.json (not committed:
a fresh clone runs every stage once). A stage is skipped only when its key is unchanged and every output exists with
the stored hash; its outputs are then touched, so make sees them as new as their inputs.

MEMWALL_NO_SKIP=1 (or `build --force`) runs every stage regardless: check-reproducible uses it. With
MEMWALL_FIGURES (render only the figures named, keep the others: tests and development) the figures stage always
runs and its key is dropped, since the figures it kept were not checked against the current inputs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path

from pipeline import fields as F
from pipeline import paths

KEYS_FILE_NAME = ".stage-keys.json"
# Stages whose outputs hold the raw notes; every other stage's key leaves the notes column out.
READS_NOTES = {"ingest", "database", "package"}
FREE_TEXT_COLUMNS = ("notes",)


def outputs(stage: str) -> list[Path]:
    """The files a stage writes (figures: its manifest, which names and hashes every figure file)."""
    version = paths.dataset_version()
    return {
        "ingest": [paths.CURATED / f"{name}.parquet" for name in F.RAW_TABLES],
        "fits": [paths.CURATED / "fits.parquet"],
        "bounds": [paths.CURATED / "inference_bounds.parquet"],
        "paper": [paths.CURATED / "paper_points.parquet"],
        "report": [paths.CURATED / "REPORT.md"],
        "database": [paths.DATABASE],
        "package": [
            paths.ROOT / "datapackage.json",
            paths.DOCS / "DATA_DICTIONARY.md",
            paths.DOCS / "QUERIES.md",
            paths.ROOT / "CHANGELOG-DATA.md",
            paths.ROOT / "CITATION.cff",
        ],
        "figures": [paths.FIGURES / version / "manifest.json"],
    }[stage]


def _code_files() -> list[Path]:
    code = Path(__file__).resolve().parent
    files = [p for p in code.rglob("*") if p.is_file() and p.suffix in (".py", ".toml", ".ttf", ".js", ".json")]
    files += [paths.ROOT / "VERSION", paths.ROOT / "requirements.lock"]
    return sorted(f for f in files if f.exists() and "__pycache__" not in f.parts)


def _without_free_text(data: bytes) -> bytes:
    """A raw CSV with its free-text columns emptied (the bytes as they are if it does not parse)."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return data
    if not rows:
        return data
    drop = [i for i, name in enumerate(rows[0]) if name in FREE_TEXT_COLUMNS]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if i in drop else cell for i, cell in enumerate(row)] if drop else row)
    return out.getvalue().encode("utf-8")


def key(stage: str) -> str:
    digest = hashlib.sha256(f"memwall stage {stage}\n".encode())
    project = Path(__file__).resolve().parent.parent
    for path in _code_files():
        name = path.relative_to(project) if path.is_relative_to(project) else path.relative_to(paths.ROOT)
        digest.update(str(name).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    for path in sorted(paths.RAW.rglob("*.csv")):
        data = path.read_bytes()
        if stage not in READS_NOTES:
            data = _without_free_text(data)
        digest.update(str(path.relative_to(paths.RAW)).encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _file_hash(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _figures_intact(manifest: Path) -> bool:
    """Every file the figures' manifest lists is there with the hash it lists (a PDF: is there)."""
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8"))["figures"]
        files = {name: meta["sha256"] for entry in listed.values() for name, meta in entry["outputs"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    # PDFs are not byte-reproducible (render.py): the manifest's hash of one is not the file's; it must exist
    return all(
        (manifest.parent / name).is_file() if name.endswith(".pdf") else _file_hash(manifest.parent / name) == sha
        for name, sha in files.items()
    )


def _stored() -> dict:
    try:
        return json.loads((paths.CURATED / KEYS_FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def disabled() -> bool:
    return os.environ.get("MEMWALL_NO_SKIP", "") not in ("", "0")


def _partial_figures(stage: str) -> bool:
    """A figures stage that renders only some figures (MEMWALL_FIGURES): never skipped, never recorded."""
    return stage == "figures" and bool(os.environ.get("MEMWALL_FIGURES"))


def up_to_date(stage: str, stage_key: str) -> bool:
    """Whether `stage` may be skipped: same key as when it last ran and every output as it left them."""
    if disabled() or _partial_figures(stage):
        return False
    entry = _stored().get(stage)
    if not entry or entry.get("key") != stage_key:
        return False
    files = outputs(stage)
    if [_file_hash(p) for p in files] != entry.get("outputs"):
        return False
    return stage != "figures" or _figures_intact(files[0])


def touch(stage: str) -> None:
    for path in outputs(stage):
        os.utime(path)


def record(stage: str, stage_key: str) -> None:
    """Store the key a stage just ran with and the hashes of what it wrote."""
    stored = _stored()
    if _partial_figures(stage):
        stored.pop(stage, None)
    else:
        stored[stage] = {"key": stage_key, "outputs": [_file_hash(p) for p in outputs(stage)]}
    target = paths.CURATED / KEYS_FILE_NAME
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, target)


def forget() -> None:
    """Drop every stored key (the next build runs every stage)."""
    (paths.CURATED / KEYS_FILE_NAME).unlink(missing_ok=True)
