"""Searching a repository's text: which files hold some words (for ranking), and the lines
that match a regular expression (for a planner's search tool). git grep does the reading in
a git repository; a plain folder, or files git does not track yet, are read here."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

MAX_SCANNED_BYTES = 1_000_000  # a larger file is skipped when read here (git grep reads all)
MAX_SCANNED_FILES = 20_000
SEARCH_TIMEOUT_S = 20.0
BINARY_PROBE = 8192

TermCounts = dict[str, dict[str, int]]  # path -> {term: occurrences}


class TermSearch:
    """Where each term occurs, and how often, in the tracked text files of a git repository:
    one `git grep -F -o` pass over their bytes for every term at once, running while the
    caller does other work. A term is found in lower case, Capitalized (a camelCase hump
    too) or UPPER case; its counts are under its lower case. `exact` terms are found as
    written, and counted so."""

    def __init__(self, root: Path, terms: Sequence[str], exact: Sequence[str] = ()) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        # Spelled out: git grep -i folds case byte by byte, ~1.5x the CPU of these.
        spellings = {v for t in terms for v in (t.lower(), t.capitalize(), t.upper())}
        spellings.update(exact)
        if spellings:
            argv = ["git", "grep", "-I", "-F", "-o", "-z"]
            for spelling in sorted(spellings):
                argv += ["-e", spelling]
            self._proc = subprocess.Popen(
                argv, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
        self._exact = frozenset(exact)

    def result(self) -> TermCounts:
        counts: TermCounts = {}
        if self._proc is None:
            return counts
        try:
            out, _ = self._proc.communicate(timeout=SEARCH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
            return counts
        if self._proc.returncode not in (0, 1):  # 1: nothing matched
            return counts
        for line in out.split(b"\n"):
            name, _, found = line.partition(b"\0")
            if found:
                per_file = counts.setdefault(name.decode("utf-8", "replace"), {})
                term = found.decode("utf-8", "replace")
                term = term if term in self._exact else term.lower()
                per_file[term] = per_file.get(term, 0) + 1
        return counts


def scan_terms(
    root: Path, terms: Sequence[str], files: Iterable[str], exact: Sequence[str] = ()
) -> TermCounts:
    """TermSearch's counts for files read here: a plain folder's, or untracked ones (any
    case for `terms`, as written for `exact`)."""
    counts: TermCounts = {}
    needles = [(t.lower(), t.lower().encode(), True) for t in terms]
    needles += [(t, t.encode(), False) for t in exact]
    if not needles:
        return counts
    for n, name in enumerate(files):
        if n >= MAX_SCANNED_FILES:
            break
        data = read_text_bytes(root, name)
        if data is None:
            continue
        lower = data.lower()
        found = {t: c for t, b, fold in needles if (c := (lower if fold else data).count(b))}
        if found:
            counts[name] = found
    return counts


def read_text_bytes(root: Path, name: str, limit: int = MAX_SCANNED_BYTES) -> bytes | None:
    """A regular file's bytes when it is text (no NUL in its first 8 KB) and not too large."""
    try:
        with open(os.path.join(root, name), "rb") as handle:
            if os.fstat(handle.fileno()).st_size > limit:
                return None
            data = handle.read()
    except OSError:
        return None
    if b"\0" in data[:BINARY_PROBE]:
        return None
    return data


@dataclass(frozen=True)
class GrepResult:
    """Matching lines as `path:line:text`, at most `limit` of them; `more`: some were left out."""

    lines: list[str]
    more: bool
    error: str = ""

    @property
    def files(self) -> int:
        return len({line.split(":", 1)[0] for line in self.lines})


def grep_lines(
    root: Path,
    pattern: str,
    where: str = "",
    ignore_case: bool = False,
    limit: int = 100,
    allowed: Collection[str] | None = None,
) -> GrepResult:
    """Lines matching an extended regular expression (as `git grep -n -E`, else ripgrep, else
    Python's re) under `where` (a folder, file or glob; "" for everywhere); `allowed`: only
    these files count (the repository's listing, without ignored folders)."""
    root = Path(root)
    if (root / ".git").exists():
        argv = ["git", "-c", "core.quotepath=off", "grep", "-n", "-I", "-E", "--untracked"]
        argv += ["-i"] if ignore_case else []
        argv += ["-e", pattern, "--", where or "."]
    elif rg := shutil.which("rg"):
        argv = [rg, "-n", "--no-heading", "--color=never", "-e", pattern]
        argv += ["-i"] if ignore_case else []
        argv += ["--", where or "."]
    else:
        return _python_grep(root, pattern, where, ignore_case, limit, allowed)
    return _run_grep(root, argv, limit, allowed)


def _run_grep(
    root: Path, argv: list[str], limit: int, allowed: Collection[str] | None
) -> GrepResult:
    proc = subprocess.Popen(
        argv, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[str] = []
    more = False
    watchdog = threading.Timer(SEARCH_TIMEOUT_S, proc.kill)
    watchdog.start()
    try:
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("./"):
                line = line[2:]
            if allowed is not None and line.split(":", 1)[0] not in allowed:
                continue
            if len(lines) >= limit:
                more = True
                break
            lines.append(line)
    finally:
        if more:
            proc.kill()
        _, err = proc.communicate()
        watchdog.cancel()
    if proc.returncode == -signal.SIGKILL and not more:
        return GrepResult(
            lines, True, f"the search took over {SEARCH_TIMEOUT_S:g}s and was stopped"
        )
    if not more and proc.returncode not in (0, 1):
        message = err.decode("utf-8", "replace").strip().splitlines()
        return GrepResult([], False, (message[-1] if message else "the search failed")[:300])
    return GrepResult(lines, more)


def _python_grep(
    root: Path,
    pattern: str,
    where: str,
    ignore_case: bool,
    limit: int,
    allowed: Collection[str] | None,
) -> GrepResult:
    try:
        regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        return GrepResult([], False, f"bad regular expression: {exc}")
    from maestro_tui.workspace.files import list_repo_files, path_matches

    names = allowed if allowed is not None else list_repo_files(root)
    lines: list[str] = []
    for name in sorted(names):
        if where and not path_matches(name, where):
            continue
        data = read_text_bytes(root, name)
        if data is None:
            continue
        for number, text in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if regex.search(text):
                if len(lines) >= limit:
                    return GrepResult(lines, True)
                lines.append(f"{name}:{number}:{text}")
    return GrepResult(lines, False)
