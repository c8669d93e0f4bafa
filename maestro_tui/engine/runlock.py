"""One process per run: an advisory file lock the kernel drops when the process dies."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RunLocked(Exception):
    """Another live maestro-tui process holds this run."""


def lock_path(db_path: Path, run_id: str) -> Path:
    return db_path.parent / "locks" / f"{run_id}.lock"


@contextmanager
def run_lock(db_path: Path, run_id: str) -> Iterator[None]:
    """Hold the run's lock; RunLocked if a live process has it. A crashed holder frees it."""
    path = lock_path(db_path, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            raise RunLocked(
                f"run {run_id} is in use by another maestro-tui process (pid {holder}):"
                " wait for it to finish or stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


def is_locked(db_path: Path, run_id: str) -> bool:
    try:
        with run_lock(db_path, run_id):
            return False
    except RunLocked:
        return True
