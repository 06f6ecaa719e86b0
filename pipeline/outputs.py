"""Writing outputs safely: temporary file in the same folder, then an atomic rename; one build at a time.

A failure or a kill at any moment leaves each output either as it was before or wholly new, never half-written.
All outputs of a stage are first written to temporary files and renamed together at the end, so a stage that
fails part-way changes nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import os
import shutil
import signal
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
            fault_point(f"commit:{path.name}")
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


def fault_point(name: str) -> None:
    """A test hook: with MEMWALL_FAULT=<name>, the process kills itself here (SIGKILL, as a power cut would), or with
    MEMWALL_FAULT=<name>:sigint interrupts its whole process group (as Ctrl-C in a terminal would, make included).
    Tests use it to prove that a kill at any named point loses no output (tests/test_reliability.py)."""
    wanted = os.environ.get("MEMWALL_FAULT")
    if not wanted:
        return
    if wanted.removesuffix(":sigint") != name:
        return
    if wanted.endswith(":sigint"):
        os.killpg(os.getpgrp(), signal.SIGINT)
        signal.pause()  # the signal arrives; never returns normally
    os.kill(os.getpid(), signal.SIGKILL)


_RENAME_EXCHANGE = 2


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 with RENAME_EXCHANGE); False where the system cannot."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def replace_directory(staging: Path, target: Path) -> None:
    """Put the complete folder `staging` in place of `target` in one step: a reader, or a build killed at any moment,
    sees the whole old folder or the whole new one. Uses an atomic exchange where the system offers one; elsewhere
    two renames (a kill between them leaves `target` missing, which the next build rebuilds)."""
    if not target.exists():
        os.replace(staging, target)
        return
    if _renameat2_exchange(staging, target):
        fault_point("swap:exchanged")
        shutil.rmtree(staging, ignore_errors=True)  # holds the old folder now
        return
    old = target.with_name(f".old-{target.name}-{os.getpid()}")
    os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
