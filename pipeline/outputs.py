"""Writing outputs safely: temporary file in the same folder, then an atomic rename; one build at a time.

A failure or a kill at any moment leaves each output either as it was before or wholly new, never half-written.
All outputs of a stage are first written to temporary files and renamed together at the end, so a stage that
fails part-way changes nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


class Staged:
    """Collects outputs of one stage as temporary files; `commit()` renames them all into place."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def write(self, path: Path, writer: Callable[[Path], None]) -> None:
        """Call ``writer(tmp_path)`` to produce the file; it replaces ``path`` only on commit."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            writer(tmp_path)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        self._pending.append((tmp_path, path))

    def write_bytes(self, path: Path, data: bytes) -> None:
        self.write(path, lambda tmp: tmp.write_bytes(data))

    def write_text(self, path: Path, text: str) -> None:
        self.write_bytes(path, text.encode("utf-8"))

    def commit(self) -> list[Path]:
        done = []
        for tmp, path in self._pending:
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
            done.append(path)
        self._pending.clear()
        return done

    def discard(self) -> None:
        for tmp, _ in self._pending:
            tmp.unlink(missing_ok=True)
        self._pending.clear()


@contextlib.contextmanager
def staged() -> Iterator[Staged]:
    """``with staged() as out: out.write_bytes(...)``: everything is renamed into place only if the block succeeds."""
    stage = Staged()
    try:
        yield stage
    except BaseException:
        stage.discard()
        raise
    stage.commit()


@contextlib.contextmanager
def build_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock for a whole build, so two builds never interleave their writes (the second waits)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
