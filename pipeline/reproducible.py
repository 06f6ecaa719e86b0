"""Check that the committed outputs are what the code builds: run after a full rebuild (make check-reproducible).

Every file under curated/ and figures/ must be byte-identical to the committed one, except PDFs, which this
renderer cannot make byte-stable: those must match the committed PDF's page size, embed their fonts, and carry text.
Exit status 1 names every file that differs.
"""

from __future__ import annotations

import re
import subprocess
import sys

from pipeline import paths

OUTPUT_DIRS = ("curated", "figures", "docs", "datapackage.json")


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
        what = {
            "M": "differs from the committed file",
            "??": "is built but not committed",
            "D": "is committed but not built",
        }
        problems.append(f"{path}: {what.get(status, status)}")
    return problems


def main() -> int:
    problems = check()
    if problems:
        print("memwall: committed outputs are stale; run `make figures` and commit:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("memwall: every committed output matches a fresh build (PDFs checked structurally)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
