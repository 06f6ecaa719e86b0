"""Check that the committed outputs are what the code builds: run after a full rebuild (make check-reproducible).

Every file under curated/, figures/, docs/ and the package files must be byte-identical to the committed one, except
PDFs, which this renderer cannot make byte-stable: those must match the committed PDF's page size, embed their fonts,
and carry text. For every file that differs, the check says what differs: for a Parquet table the columns that
differ, with the largest difference or the first differing row; for text the first differing line.
Exit status 1 when anything differs.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys

from pipeline import paths

OUTPUT_DIRS = ("curated", "figures", "docs", "datapackage.json", "CITATION.cff", "CHANGELOG-DATA.md")


def git(*args: str, binary: bool = False):
    result = subprocess.run(["git", *args], cwd=paths.ROOT, capture_output=True, check=True)
    return result.stdout if binary else result.stdout.decode()


def changed_outputs() -> list[tuple[str, str]]:
    """(status, path) for every output that differs from the committed tree, untracked ones included."""
    lines = git("status", "--porcelain", "--untracked-files=all", "--", *OUTPUT_DIRS).splitlines()
    return [(line[:2].strip(), line[3:]) for line in lines if line.strip()]


def pdf_facts(data: bytes) -> dict:
    """Page size, embedded fonts and text operators of a PDF, read from its bytes."""
    box = re.search(rb"/MediaBox\s*\[\s*([\d.\s-]+)\]", data)
    return {
        "is_pdf": data.startswith(b"%PDF-"),
        "media_box": tuple(round(float(v), 1) for v in box.group(1).split()) if box else None,
        "fonts_embedded": b"/FontFile" in data,
        "has_font": b"/Font" in data,
    }


def describe_difference(path: str, committed: bytes, fresh: bytes) -> str:
    """What differs between two versions of an output, in one line."""
    if path.endswith(".parquet"):
        return _parquet_difference(committed, fresh)
    try:
        old, new = committed.decode("utf-8").splitlines(), fresh.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return f"binary content differs ({len(committed):,} bytes committed, {len(fresh):,} built)"
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if a != b:
            column = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            return (
                f"line {number}, character {column + 1}: committed {a[max(0, column - 30) : column + 30]!r}, built "
                f"{b[max(0, column - 30) : column + 30]!r}"
            )
    return f"{len(old)} lines committed, {len(new)} built"


def _parquet_difference(committed: bytes, fresh: bytes) -> str:
    import numpy as np
    import pyarrow.parquet as pq

    old, new = pq.read_table(io.BytesIO(committed)), pq.read_table(io.BytesIO(fresh))
    if old.schema.names != new.schema.names:
        added = sorted(set(new.schema.names) - set(old.schema.names))
        removed = sorted(set(old.schema.names) - set(new.schema.names))
        return f"columns differ (added {added}, removed {removed})"
    if old.num_rows != new.num_rows:
        return f"{old.num_rows} rows committed, {new.num_rows} built"
    parts = []
    for name in old.schema.names:
        a, b = old.column(name).to_pandas(), new.column(name).to_pandas()
        if a.equals(b):
            continue
        if a.dtype.kind == "f" and b.dtype.kind == "f":
            x, y = a.to_numpy(dtype="float64"), b.to_numpy(dtype="float64")
            with np.errstate(invalid="ignore", divide="ignore"):
                relative = np.nanmax(np.abs(x - y) / np.maximum(np.abs(x), 1e-300))
            parts.append(f"{name} (largest relative difference {relative:.3g})")
        else:
            row = int(np.flatnonzero((a != b).to_numpy() & ~(a.isna() & b.isna()).to_numpy())[0])
            parts.append(f"{name} (row {row}: committed {a.iat[row]!r}, built {b.iat[row]!r})")
    if not parts:
        return "same values; the file's metadata or encoding differs"
    return "columns " + "; ".join(parts[:6]) + (f" and {len(parts) - 6} more" if len(parts) > 6 else "")


def check() -> list[str]:
    problems = []
    for status, path in changed_outputs():
        if path.endswith(".pdf") and status == "M":
            fresh = pdf_facts((paths.ROOT / path).read_bytes())
            committed = pdf_facts(git("show", f"HEAD:{path}", binary=True))
            if not (fresh["is_pdf"] and fresh["fonts_embedded"] and fresh["has_font"]):
                problems.append(f"{path}: rebuilt PDF lacks embedded fonts or text ({fresh})")
            elif fresh["media_box"] != committed["media_box"]:
                problems.append(
                    f"{path}: page size {fresh['media_box']} differs from committed {committed['media_box']}"
                )
            continue
        if status == "M":
            detail = describe_difference(
                path, git("show", f"HEAD:{path}", binary=True), (paths.ROOT / path).read_bytes()
            )
            problems.append(f"{path}: differs from the committed file: {detail}")
            continue
        what = {"??": "is built but not committed", "D": "is committed but not built"}
        problems.append(f"{path}: {what.get(status, status)}")
    return problems


def main() -> int:
    problems = check()
    if problems:
        print("memwall: a fresh build differs from the committed outputs:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print("memwall: if you changed raw/ or pipeline/, run `make figures` and commit the outputs.", file=sys.stderr)
        return 1
    print("memwall: every committed output matches a fresh build (PDFs checked structurally)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
