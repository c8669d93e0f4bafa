"""Searching a repository's text: which files hold some words (for ranking), and the lines
that match a regular expression (for a planner's search tool), through grep or git grep
(Python reads them only when neither can)."""

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
ARG_CHARS = 200_000  # of file names per grep (Linux allows 2 MB of arguments)

TermCounts = dict[str, dict[str, int]]  # path -> {term: occurrences}


class TermSearch:
    """Where each term occurs, and how often, in text files: one pass over their bytes for
    every term at once (`grep -F -o`), running while the caller does other work.

    A term is found in lower case, Capitalized (a camelCase hump too) or UPPER case, and
    counted under its lower case; an `exact` one is found and counted as written. GNU grep
    reads the given files, in a process per core; without it, `git grep` reads the tracked
    files of a git repository (~1.5x the wall time: its one process reads with more system
    calls); without either, scan_terms reads them here.
    """

    def __init__(
        self, root: Path, terms: Sequence[str], exact: Sequence[str], files: Sequence[str]
    ) -> None:
        self._exact = frozenset(exact)
        # Spelled out: grep -i folds case byte by byte, ~1.5x the CPU of these.
        spellings = {v.decode() for t in terms for v in _spellings(t)} | set(exact)
        patterns = [x for spelling in sorted(spellings) for x in ("-e", spelling)]
        self._waiting: list[list[str]] = []
        self._running: list[subprocess.Popen[bytes]] = []
        self.root = root
        self.unread: Sequence[str] = ()  # files left for scan_terms
        if not patterns:
            return
        if gnu_grep():
            base = ["grep", "-I", "-F", "-o", "-H", "--null", "--no-messages", *patterns, "--"]
            self._waiting = [base + chunk for chunk in _chunks(files, os.cpu_count() or 1)]
        elif (root / ".git").exists():
            self._waiting = [["git", "grep", "-I", "-F", "-o", "-z", *patterns]]
        else:
            self.unread = files
        for _ in range(min(len(self._waiting), os.cpu_count() or 1)):
            self._start()

    def _start(self) -> None:
        argv = self._waiting.pop(0)
        self._running.append(
            subprocess.Popen(
                argv,
                cwd=self.root,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "LC_ALL": "C"},  # bytes, not characters: faster, no
            )  # file skipped as 'binary' for not being UTF-8
        )

    def result(self) -> TermCounts:
        counts: TermCounts = {}
        while self._running:
            proc = self._running.pop(0)
            try:
                out, _ = proc.communicate(timeout=SEARCH_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                out = b""
            if self._waiting:
                self._start()
            self._count(out, counts)
        return counts

    def _count(self, out: bytes, counts: TermCounts) -> None:
        for line in out.split(b"\n"):
            name, _, found = line.partition(b"\0")
            if found:
                per_file = counts.setdefault(name.decode("utf-8", "replace"), {})
                term = found.decode("utf-8", "replace")
                term = term if term in self._exact else term.lower()
                per_file[term] = per_file.get(term, 0) + 1


_gnu_grep: bool | None = None


def gnu_grep() -> bool:
    """Whether `grep` is GNU grep (a BSD grep's -Z decompresses; its flags differ)."""
    global _gnu_grep
    if _gnu_grep is None:
        try:
            probe = subprocess.run(["grep", "--version"], capture_output=True, timeout=5)
            _gnu_grep = probe.stdout.startswith(b"grep (GNU grep)")
        except (OSError, subprocess.TimeoutExpired):
            _gnu_grep = False
    return _gnu_grep


def _chunks(files: Sequence[str], parts: int) -> list[list[str]]:
    """The files in `parts` lists of about equal size, each under ARG_CHARS of arguments."""
    total = sum(len(f) + 1 for f in files)
    size = max(1, min(ARG_CHARS, -(-total // max(1, parts))))
    chunks: list[list[str]] = [[]]
    used = 0
    for name in files:
        if used + len(name) + 1 > size and chunks[-1]:
            chunks.append([])
            used = 0
        chunks[-1].append(name)
        used += len(name) + 1
    return [c for c in chunks if c]


def scan_terms(
    root: Path, terms: Sequence[str], files: Iterable[str], exact: Sequence[str] = ()
) -> TermCounts:
    """TermSearch's counts for files read here: a plain folder's without grep, or untracked
    ones (each term in the same three spellings, `exact` ones as written)."""
    counts: TermCounts = {}
    needles = [(t.lower(), _spellings(t)) for t in terms]
    needles += [(t, [t.encode()]) for t in exact]
    if not needles:
        return counts
    for n, name in enumerate(files):
        if n >= MAX_SCANNED_FILES:
            break
        data = read_text_bytes(root, name)
        if data is None:
            continue
        found = {t: c for t, spelt in needles if (c := sum(data.count(b) for b in spelt))}
        if found:
            counts[name] = found
    return counts


def _spellings(term: str) -> list[bytes]:
    return [s.encode() for s in dict.fromkeys((term.lower(), term.capitalize(), term.upper()))]


def read_text_bytes(root: Path, name: str, limit: int = MAX_SCANNED_BYTES) -> bytes | None:
    """A regular file's bytes when it is text (no NUL in its first 8 KB), not too large and
    not a symlink."""
    try:  # not through a symlink: it may point out of the repository
        fd = os.open(os.path.join(root, name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with open(fd, "rb") as handle:
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
