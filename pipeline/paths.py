"""Where things are: the repository's folders, resolved from this file so any working directory works."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("MEMWALL_ROOT", Path(__file__).resolve().parent.parent))
RAW = ROOT / "raw"
CURATED = ROOT / "curated"
FIGURES = ROOT / "figures"
DOCS = ROOT / "docs"
FONTS = Path(__file__).resolve().parent / "fonts"
DATABASE = CURATED / "memwall.duckdb"
LOCK = CURATED / ".build.lock"


def dataset_version() -> str:
    """The dataset version (date-based, e.g. 2026.11.0), read from the VERSION file."""
    return (ROOT / "VERSION").read_text(encoding="utf-8").strip()


class OutputRefused(ValueError):
    """A path a command must not write to; str() says why and what to do instead."""


# Top-level entries of the repository that hold its own files (used where git is not at hand to list them).
PROJECT_ENTRIES = (
    ".git",
    ".venv",
    ".ci",
    "bench",
    "curated",
    "docs",
    "figures",
    "pipeline",
    "raw",
    "tests",
    "memwall",
)


def _tracked_top_level(root: Path) -> set[str]:
    """Names of the repository's top-level entries that git tracks (files and folders), plus PROJECT_ENTRIES."""
    import subprocess

    names = set(PROJECT_ENTRIES)
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True, timeout=10
        ).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return names
    names.update(entry.split("/", 1)[0] for entry in listed.split("\0") if entry)
    return names


def check_user_output(path: Path, force: bool = False, folder: bool = False) -> Path:
    """Where a command may write a user's output: anywhere outside the repository, or inside it only in a folder of
    the user's own that git does not track (e.g. out/); never over an existing file unless force. Returns the
    resolved path; raises OutputRefused."""
    target = path.resolve()
    root = ROOT.resolve()
    if target == root or root in target.parents:
        relative = target.relative_to(root)
        first = relative.parts[0] if relative.parts else ""
        inside_folder = len(relative.parts) > (0 if folder else 1)
        if not inside_folder or first in _tracked_top_level(root):
            raise OutputRefused(
                f"refusing to write {path}: inside the repository, output goes only into a folder of your own that "
                f"git does not track (e.g. out/{relative.name or 'result'}), never into {first or 'the root'}"
                + ("/ (the project's own files)" if first else "")
            )
    if not folder and target.exists() and not force:
        raise OutputRefused(f"refusing to overwrite {path}: it exists (add --force to replace it)")
    return target
