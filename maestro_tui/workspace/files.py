"""The files of a repository (or of a plain folder), as agents and planners should see them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

# Never listed: version control, caches, virtual environments and build output.
IGNORED_DIRS = frozenset(
    {
        ".git",
        "__pycache__",
        ".venv",
        "venv",
        "node_modules",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        "dist",
        "build",
        ".eggs",
    }
)


def list_repo_files(root: Path, exclude: Iterable[str] = ()) -> list[str]:
    """The repository's files, relative and sorted: git's view when it is a git repo."""
    excluded = set(exclude)
    files: list[str] | None = None
    if (root / ".git").exists():
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=False,
        )
        if proc.returncode == 0:
            names = proc.stdout.decode("utf-8", "replace").split("\0")
            files = [n for n in names if n and (root / n).is_file()]
    if files is None:
        files = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
            rel = Path(dirpath).relative_to(root)
            files.extend(str(PurePosixPath(*rel.parts, f)) for f in filenames)
    return sorted(
        f
        for f in files
        if not (IGNORED_DIRS.intersection(PurePosixPath(f).parts) or _excluded(f, excluded))
    )


def _excluded(name: str, patterns: set[str]) -> bool:
    path = PurePosixPath(name)
    return any(path.match(p) or name.startswith(p.rstrip("/") + "/") for p in patterns)
