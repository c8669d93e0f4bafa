"""The files of a repository (or of a plain folder), as agents and planners should see them."""

from __future__ import annotations

import ast
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

MAX_SYMBOLS = 12
MAX_PARSE_BYTES = 200_000

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


def _symbols(path: Path) -> list[str]:
    try:
        if path.stat().st_size > MAX_PARSE_BYTES:
            return []
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    names = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.append(f"class {node.name}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.append(f"def {node.name}")
    if len(names) > MAX_SYMBOLS:
        names = names[:MAX_SYMBOLS] + [f"+{len(names) - MAX_SYMBOLS} more"]
    return names


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB"


def repo_map(root: Path, exclude: Iterable[str] = (), max_files: int = 300) -> str:
    """A tree of the repository's files with sizes, and top-level symbols of Python files."""
    root = Path(root)
    files = list_repo_files(root, exclude)
    lines: list[str] = []
    shown_dirs: set[tuple[str, ...]] = set()
    for name in files[:max_files]:
        parts = PurePosixPath(name).parts
        for depth in range(1, len(parts)):
            if parts[:depth] not in shown_dirs:
                shown_dirs.add(parts[:depth])
                lines.append("  " * (depth - 1) + parts[depth - 1] + "/")
        path = root / name
        line = "  " * (len(parts) - 1) + f"{parts[-1]} ({_size(path.stat().st_size)})"
        if name.endswith(".py"):
            symbols = _symbols(path)
            if symbols:
                line += ": " + ", ".join(symbols)
        lines.append(line)
    if len(files) > max_files:
        lines.append(f"… and {len(files) - max_files} more files")
    return "\n".join(lines) or "(empty repository)"
