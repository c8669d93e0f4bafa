"""The files of a repository (or of a plain folder), as agents and planners should see them."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_SYMBOLS = 12
MAX_PARSE_BYTES = 200_000
SCRIPT_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_TOP_PY = re.compile(rb"^(?:async[ \t]+def|def|class)[ \t]+(\w+)", re.M)
_TOP_JS = re.compile(
    rb"^export[ \t]+(?:default[ \t]+)?(?:async[ \t]+)?"
    rb"(function\*?|class|const|let|var|interface|type|enum)[ \t]+(\w+)",
    re.M,
)

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


@dataclass(frozen=True)
class RepoFiles:
    """A repository's files: relative paths, sorted; those git does not track yet; and
    whether git listed them (False: a plain folder, walked)."""

    paths: list[str]
    untracked: frozenset[str] = frozenset()
    git: bool = False


def repo_files(root: Path, exclude: Iterable[str] = ()) -> RepoFiles:
    """The repository's files as git sees them (tracked, and untracked but not ignored); a
    plain folder is walked. No file is stat-ed, so a tracked file deleted from the working
    tree may be listed: a large repository's listing costs git's time, not a system call per
    file here."""
    root = Path(root)
    listing = GitListing.start(root, exclude, symlinks=True)
    if listing is not None:
        tracked, untracked = listing.tracked, listing.untracked()
        if untracked is not None:
            return RepoFiles(sorted([*tracked, *untracked]), frozenset(untracked), git=True)
    return RepoFiles(walk_files(root, exclude))


def walk_files(root: Path, exclude: Iterable[str] = ()) -> list[str]:
    """A plain folder's files, relative and sorted, without the IGNORED_DIRS."""
    excluded = set(exclude)
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        rel = Path(dirpath).relative_to(root)
        files.extend(str(PurePosixPath(*rel.parts, f)) for f in filenames)
    return sorted(f for f in files if _kept(f, excluded))


class GitListing:
    """A git repository's files in two listings: the tracked ones at once (from the index),
    the untracked ones (a walk of the folders) left running until asked for, so the caller
    can work on the first meanwhile. Symlinks are left out: what they point to may lie
    outside the repository."""

    def __init__(
        self,
        root: Path,
        tracked: list[str],
        others: subprocess.Popen[bytes],
        excluded: set[str],
        symlinks: bool,
    ) -> None:
        self.root = root
        self.tracked = tracked
        self._others = others
        self._excluded = excluded
        self._symlinks = symlinks

    @classmethod
    def start(
        cls, root: Path, exclude: Iterable[str] = (), symlinks: bool = False
    ) -> GitListing | None:
        """None when `root` is not a git repository's top. `symlinks`: list them too."""
        if not (root / ".git").exists():
            return None
        listed = subprocess.run(
            ["git", "ls-files", "-z", "-t", "-s"], cwd=root, capture_output=True
        )
        if listed.returncode != 0:
            return None
        # Started once the index is read, so the walk does not slow that down.
        others = subprocess.Popen(
            ["git", "ls-files", "-z", "--others", "--exclude-standard"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        # "H 100644 <sha> 0\tpath", sorted as git keeps its index. Left out: S (outside a
        # sparse checkout, so not in the working tree), submodules (160000: a folder), and
        # unless asked for, symlinks (120000: what they point to may lie outside). M, a
        # conflicted file, comes once per stage.
        text = listed.stdout.decode("utf-8", "replace")
        left_out = ("160000",) if symlinks else ("120000", "160000")
        tracked = [
            e.partition("\t")[2]
            for e in text.split("\0")
            if e and e[0] != "S" and e[2:8] not in left_out
        ]
        if text.startswith("M ") or "\0M " in text:
            tracked = list(dict.fromkeys(tracked))
        excluded = set(exclude)
        if excluded or _any_ignored(tracked):
            tracked = [p for p in tracked if _kept(p, excluded)]
        return cls(root, tracked, others, excluded, symlinks)

    def untracked(self) -> list[str] | None:
        """The untracked files, not ignored, sorted; None when git failed to list them."""
        out, _ = self._others.communicate()
        if self._others.returncode != 0:
            return None
        names = [
            n
            for n in out.decode("utf-8", "replace").split("\0")
            if n and (self._symlinks or not os.path.islink(os.path.join(self.root, n)))
        ]
        if self._excluded or _any_ignored(names):
            names = [n for n in names if _kept(n, self._excluded)]
        return sorted(names)


def _any_ignored(paths: Iterable[str]) -> bool:
    """Whether any path lies in an ignored folder: its folders checked once each, not every
    path split (git has usually left those folders out already)."""
    folders = {p.rpartition("/")[0] for p in paths}
    return any(not IGNORED_DIRS.isdisjoint(f.split("/")) for f in folders if f)


def _kept(name: str, excluded: set[str]) -> bool:
    parts = name.split("/")
    if len(parts) > 1 and not IGNORED_DIRS.isdisjoint(parts[:-1]):
        return False
    return not (excluded and _excluded(name, excluded))


def list_repo_files(root: Path, exclude: Iterable[str] = ()) -> list[str]:
    """The repository's files, relative and sorted: git's view when it is a git repo."""
    root = Path(root)
    listing = repo_files(root, exclude)
    if not listing.git:
        return listing.paths
    return [p for p in listing.paths if os.path.isfile(os.path.join(root, p))]


def path_matches(name: str, where: str) -> bool:
    """Whether a file is `where`: that file, a file under that folder, or one matching that
    glob (as git's pathspecs: `*` crosses folders, so `*.py` is every Python file)."""
    where = where.strip().removeprefix("./")
    if where in ("", ".", "./"):
        return True
    if any(c in where for c in "*?["):
        return fnmatch.fnmatchcase(name, where)
    folder = where.rstrip("/")
    return name == folder or name.startswith(folder + "/")


def _excluded(name: str, patterns: set[str]) -> bool:
    path = PurePosixPath(name)
    return any(path.match(p) or name.startswith(p.rstrip("/") + "/") for p in patterns)


def top_level_names(name: str, source: bytes | None, limit: int = MAX_SYMBOLS) -> list[str]:
    """A Python file's top-level classes and functions, or a script's exports (`class Cart`,
    `def total`, `function render`), public ones first, at most `limit` and a count."""
    if source is None:
        return []
    if name.endswith(".py"):
        found = [
            ("class " if m.group(0).startswith(b"class") else "def ") + m.group(1).decode()
            for m in _TOP_PY.finditer(source)
        ]
    elif name.endswith(SCRIPT_SUFFIXES):
        found = [f"{k.decode().rstrip('*')} {n.decode()}" for k, n in _TOP_JS.findall(source)]
    else:
        return []
    found.sort(key=lambda named: named.split(" ", 1)[-1].startswith("_"))
    if len(found) > limit:
        found = found[:limit] + [f"+{len(found) - limit} more"]
    return found


def size_text(n: int) -> str:
    """A file's size as a map shows it: `812 B`, `3.4 KB`."""
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
        line = "  " * (len(parts) - 1) + f"{parts[-1]} ({size_text(path.stat().st_size)})"
        if name.endswith(".py") and path.stat().st_size <= MAX_PARSE_BYTES:
            symbols = top_level_names(name, path.read_bytes())
            if symbols:
                line += ": " + ", ".join(symbols)
        lines.append(line)
    if len(files) > max_files:
        lines.append(f"… and {len(files) - max_files} more files")
    return "\n".join(lines) or "(empty repository)"
