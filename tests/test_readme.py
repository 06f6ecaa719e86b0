"""The README cannot drift: every command and every Python snippet it shows runs, verbatim, as a user would run it
after the two set-up commands (in a folder beside the repository, so that the files they write land there)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import database, paths

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, re.DOTALL)
SETUP_COMMANDS = {"make figures", "make test"}  # the two set-up commands themselves: CI runs them


def sh_commands() -> list[str]:
    commands = []
    for language, body in BLOCKS:
        if language != "sh":
            continue
        for line in body.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command:
                commands.append(command)
    return commands


def python_snippets() -> list[str]:
    return [body for language, body in BLOCKS if language == "python"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A user's working folder: the repository's files as they are after `make figures` (the database built into a
    copy of curated/, since a fresh clone that runs `make test` first has none)."""
    root = tmp_path_factory.mktemp("user") / "memwall"
    root.mkdir()
    for entry in REPO.iterdir():
        if entry.name in (".git", "curated"):
            continue
        (root / entry.name).symlink_to(entry)
    (root / "curated").mkdir()
    for path in (REPO / "curated").iterdir():
        if path.suffix in (".parquet", ".md"):
            (root / "curated" / path.name).symlink_to(path)
    database.build_database(root / "curated", root / "curated" / "memwall.duckdb")
    return root


def test_the_readme_shows_commands_and_python():
    commands = sh_commands()
    assert SETUP_COMMANDS <= set(commands), "the two set-up commands"
    assert len(commands) >= 6 and python_snippets()


def test_every_make_target_the_readme_names_exists():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    for target in set(re.findall(r"`make ([a-z-]+)`", README)) | {
        c.split()[1] for c in sh_commands() if c.startswith("make ")
    }:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), f"make {target} is not a target"


@pytest.mark.parametrize("command", [c for c in sh_commands() if c not in SETUP_COMMANDS])
def test_every_readme_command_runs(command, workdir):
    env = {**os.environ, "MEMWALL_ROOT": str(workdir)}
    env.pop("PYTHONPATH", None)
    shutil.rmtree(workdir / "out", ignore_errors=True)
    result = subprocess.run(shlex.split(command), cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert result.stdout.strip() or "--output" in command or " export " in command, f"{command} printed nothing"


@pytest.mark.parametrize("snippet", python_snippets())
def test_every_readme_python_snippet_runs_as_a_script_and_prints(snippet, workdir, tmp_path):
    script = tmp_path / "snippet.py"
    script.write_text(snippet, encoding="utf-8")
    env = {**os.environ, "MEMWALL_ROOT": str(workdir)}
    result = subprocess.run(
        [sys.executable, str(script)], cwd=workdir, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "the snippet prints nothing when run as a script"


def test_the_readme_states_the_duckdb_versions_the_tests_check():
    assert f"DuckDB {database.OLDEST_READER}" in README
    assert paths.dataset_version() in README
