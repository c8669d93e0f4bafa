"""Repo-relative paths: globs with `**`, units of work (files or directories), names for ids."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

Unit = tuple[str, tuple[str, ...]]  # (a file or directory, the files it covers)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a repo-relative glob: ** spans directories, * and ? stay within one."""
    if pattern.endswith("/"):
        pattern += "**"
    if "/" not in pattern:
        pattern = "**/" + pattern
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def module_name(path: str) -> str:
    """The dotted module of a path: `src/pkg/mod.py` -> `pkg.mod`, `pkg/__init__.py` -> `pkg`."""
    parts = list(PurePosixPath(path).with_suffix("").parts) if path != "." else []
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "."


def path_slug(label: str) -> str:
    """A branch-safe id part for a path: `src/pkg/mod.py` -> `src-pkg-mod`."""
    text = str(PurePosixPath(label).with_suffix("")) if label != "." else "root"
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "root"


def matching(names: Iterable[str], include: Sequence[str], exclude: Sequence[str]) -> list[str]:
    """The names that match any `include` glob and no `exclude` glob, in order."""
    keep = [glob_regex(p) for p in include]
    skip = [glob_regex(p) for p in exclude]
    return [n for n in names if any(r.match(n) for r in keep) and not any(r.match(n) for r in skip)]


def batched_units(names: Sequence[str], per: str, batch: int) -> list[list[Unit]]:
    """One unit per file, or per directory (`per="directory"`), in groups of `batch`."""
    units: list[Unit]
    if per == "directory":
        by_dir: dict[str, list[str]] = {}
        for name in names:
            by_dir.setdefault(str(PurePosixPath(name).parent), []).append(name)
        units = [(d, tuple(files)) for d, files in sorted(by_dir.items())]
    else:
        units = [(n, (n,)) for n in names]
    return [units[i : i + batch] for i in range(0, len(units), batch)]


def unit_fields(group: Sequence[Unit]) -> dict[str, str]:
    """Template fields of a group of units: file, files, module, slug, stem, dir."""

    def join(values: Iterable[str]) -> str:
        return ", ".join(values)

    labels = [label for label, _ in group]
    return {
        "file": join(labels),
        "files": join(f for _, files in group for f in files),
        "module": join(module_name(label) for label in labels),
        "slug": join(module_name(label).replace(".", "_") for label in labels),
        "stem": join(PurePosixPath(label).stem if label != "." else "root" for label in labels),
        "dir": join(str(PurePosixPath(files[0]).parent) for _, files in group),
    }


def unique_id(task_id: str, seen: set[str]) -> str:
    """`task_id`, or `task_id-2`, `-3` … the first not in `seen` (which it joins)."""
    candidate, n = task_id, 2
    while candidate in seen:
        candidate, n = f"{task_id}-{n}", n + 1
    seen.add(candidate)
    return candidate
