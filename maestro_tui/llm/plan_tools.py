"""The planner's read-only tools: list files, read a file or some of its lines, search the
code. Confined to the repository's own files (no `..`, no absolute path, no symlink out, no
file git ignores such as `.env`, no binary); every result is bounded; each read is told to
the planning progress exactly (the path and the lines it returned, the search and its
count), for the plan review's "what the planner read"."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from maestro_tui.domain.planning import PlanningProgress
from maestro_tui.llm.tools import ToolRefused, resolve_inside
from maestro_tui.workspace.files import list_repo_files, path_matches, size_text
from maestro_tui.workspace.search import BINARY_PROBE, grep_lines

MAX_LISTED = 200
MAX_READ_LINES = 400
MAX_READ_BYTES = 5_000_000
MAX_LINE_CHARS = 400
MAX_MATCHES = 80
MAX_MATCH_CHARS = 240
DEFAULT_RESULT_CHARS = 20_000


def _schema(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


_WHERE = (
    "A folder ('src/shop'), a file, or a glob ('*.py', 'tests/*cart*'; * crosses folders); "
    "empty for the whole repository."
)
READ_TOOLS: list[dict[str, Any]] = [
    _schema(
        "list_files",
        "List the repository's files under a folder or matching a glob, with their sizes.",
        {"path": {"type": "string", "description": _WHERE}},
        [],
    ),
    _schema(
        "read_file",
        f"Read a text file, with line numbers: the whole file (up to {MAX_READ_LINES} "
        "lines at a time) or the lines from start_line to end_line.",
        {
            "path": {"type": "string", "description": "Path relative to the repository root."},
            "start_line": {"type": "integer", "description": "First line to read (from 1)."},
            "end_line": {"type": "integer", "description": "Last line to read (inclusive)."},
        },
        ["path"],
    ),
    _schema(
        "search_code",
        "Search the repository's text files for lines matching a regular expression "
        "(POSIX extended, as `git grep -E`: use [0-9] for digits, \\( for a parenthesis); "
        "answers path:line:text.",
        {
            "pattern": {"type": "string", "description": "e.g. 'def apply_discount|Cart\\('"},
            "path": {"type": "string", "description": _WHERE},
            "ignore_case": {"type": "boolean", "description": "Match any case."},
        },
        ["pattern"],
    ),
]
READ_TOOL_NAMES = tuple(t["function"]["name"] for t in READ_TOOLS)


class PlanReader:
    """Runs the planner's read-only tool calls in one repository and reports each read."""

    def __init__(
        self,
        root: Path,
        exclude: Iterable[str] = (),
        progress: PlanningProgress | None = None,
        max_result_chars: int = DEFAULT_RESULT_CHARS,
    ) -> None:
        self.root = Path(root)
        self.exclude = tuple(exclude)
        self.progress = progress
        self.max_result_chars = max_result_chars
        self._files: list[str] | None = None
        self._known: frozenset[str] = frozenset()

    async def execute(self, name: str, arguments: Mapping[str, Any] | str) -> str:
        """One call's text for the model: the result, or 'error: …' saying what to do."""
        try:
            if isinstance(arguments, str):
                raise ToolRefused(arguments)
            if name not in READ_TOOL_NAMES:
                raise ToolRefused(f"unknown tool '{name}'; use {', '.join(READ_TOOL_NAMES)}")
            await self._listing()
            if name == "list_files":
                return self._list(_text(arguments, "path", ""))
            if name == "read_file":
                return await asyncio.to_thread(self._read, arguments)
            return await self._search(arguments)
        except ToolRefused as exc:
            return f"error: {exc}"

    def _told(self, what: str) -> None:
        if self.progress is not None:
            self.progress.read(what)

    async def _listing(self) -> list[str]:
        if self._files is None:
            self._files = await asyncio.to_thread(list_repo_files, self.root, self.exclude)
            self._known = frozenset(self._files)
        return self._files

    def _where(self, where: str) -> str:
        """A folder, file or glob, checked to stay inside; as the listing spells paths."""
        where = where.strip()
        if where in ("", ".", "./"):
            return ""
        if where.startswith(":"):
            raise ToolRefused(f"'{where}': give a folder, a file or a glob")
        path = PurePosixPath(where)
        if any(c in where for c in "*?["):  # a glob matches the listing: only its form to check
            if path.is_absolute() or where.startswith("~") or ".." in path.parts:
                raise ToolRefused(f"'{where}' leaves the repository; globs are relative to it")
            return where.removeprefix("./")
        resolve_inside(self.root, where)  # no `..`, no absolute path, no symlink out
        return str(path)

    # --- list_files ------------------------------------------------------------------------

    def _list(self, raw: str) -> str:
        where = self._where(raw)
        files = [f for f in self._files or () if path_matches(f, where)]
        shown = where or "."
        if not files:
            raise ToolRefused(f"no files match '{shown}' (list_files with no path lists all)")
        lines = [f"{len(files)} files in {shown}:"]
        if len(files) <= MAX_LISTED:
            lines += [f"{f} ({self._size(f)})" for f in files]
        else:
            lines += self._folders(files, where)
        self._told(f"ls {shown} ({len(files)} files)")
        return self._bounded("\n".join(lines))

    def _folders(self, files: list[str], where: str) -> list[str]:
        """Too many to list: the folders one level down, counted, and the files at this level."""
        prefix = where.rstrip("/") + "/" if where and not any(c in where for c in "*?[") else ""
        counts: dict[str, int] = {}
        for name in files:
            rest = name[len(prefix) :]
            head, slash, _ = rest.partition("/")
            key = prefix + head + ("/" if slash else "")
            counts[key] = counts.get(key, 0) + 1
        lines = [f"{k} ({v} files)" if k.endswith("/") else k for k, v in sorted(counts.items())]
        if len(lines) > MAX_LISTED:
            lines = lines[:MAX_LISTED] + [f"… and {len(lines) - MAX_LISTED} more"]
        return lines + ["(too many to list one by one: list a folder or a narrower glob)"]

    def _size(self, name: str) -> str:
        try:
            return size_text(os.stat(os.path.join(self.root, name)).st_size)
        except OSError:
            return "?"

    # --- read_file -------------------------------------------------------------------------

    def _read(self, arguments: Mapping[str, Any]) -> str:
        raw = _text(arguments, "path")
        path = resolve_inside(self.root, raw)
        name = str(PurePosixPath(raw.strip()))
        if path.is_dir():
            raise ToolRefused(f"'{name}' is a folder: list_files shows what is in it")
        if name not in self._known:
            if path.exists():
                raise ToolRefused(f"'{name}' is not one of the repository's files (git ignores it)")
            raise ToolRefused(f"'{name}' does not exist")
        if path.stat().st_size > MAX_READ_BYTES:
            raise ToolRefused(f"'{name}' is over {MAX_READ_BYTES // 1_000_000} MB")
        data = path.read_bytes()
        if b"\0" in data[:BINARY_PROBE]:
            raise ToolRefused(f"'{name}' is a binary file")
        lines = data.decode("utf-8", "replace").splitlines()
        if not lines:
            self._told(f"{name} (empty)")
            return f"{name} is empty."
        start = _line(arguments, "start_line", 1)
        if start > len(lines):
            raise ToolRefused(f"'{name}' has {len(lines)} lines; start_line is {start}")
        end = min(len(lines), _line(arguments, "end_line", len(lines)), start + MAX_READ_LINES - 1)
        if end < start:
            raise ToolRefused(f"end_line {end} is before start_line {start}")
        width = len(str(end))
        body: list[str] = []
        used = 0
        for number in range(start, end + 1):
            text = lines[number - 1]
            if len(text) > MAX_LINE_CHARS:
                text = text[:MAX_LINE_CHARS] + " …"
            line = f"{number:>{width}}  {text}"
            if used + len(line) > self.max_result_chars and body:
                end = number - 1
                break
            body.append(line)
            used += len(line) + 1
        head = f"{name}, lines {start}-{end} of {len(lines)}:"
        tail = []
        if end < len(lines):
            tail = [f"… {len(lines) - end} more lines: read_file with start_line={end + 1}"]
        self._told(f"{name}:{start}-{end}")
        return "\n".join([head, *body, *tail])

    # --- search_code -----------------------------------------------------------------------

    async def _search(self, arguments: Mapping[str, Any]) -> str:
        pattern = _text(arguments, "pattern")
        if not pattern.strip():
            raise ToolRefused("give a non-empty pattern")
        where = self._where(_text(arguments, "path", ""))
        ignore_case = arguments.get("ignore_case") in (True, "true", "True", 1)
        found = await asyncio.to_thread(
            grep_lines, self.root, pattern, where, ignore_case, MAX_MATCHES, self._known
        )
        if found.error:
            raise ToolRefused(f"the search failed: {found.error}")
        shown = where or "."
        flags = "-i " if ignore_case else ""
        count = f"{len(found.lines)}{'+' if found.more else ''}"
        self._told(f"grep {flags}-E '{pattern}' {shown} ({count} in {found.files} files)")
        if not found.lines:
            return f"no lines match '{pattern}' in {shown}"
        body = [
            line if len(line) <= MAX_MATCH_CHARS else line[:MAX_MATCH_CHARS] + " …"
            for line in found.lines
        ]
        head = f"{count} matching lines in {found.files} files:"
        more = ["… more matches left out: narrow the pattern or the path"] if found.more else []
        return self._bounded("\n".join([head, *body, *more]))

    def _bounded(self, text: str) -> str:
        if len(text) <= self.max_result_chars:
            return text
        cut = text[: self.max_result_chars].rsplit("\n", 1)[0]
        return cut + "\n… (cut: ask for less)"


def _text(arguments: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = arguments.get(key, default)
    if value is None:
        raise ToolRefused(f"missing argument '{key}'")
    if not isinstance(value, str):
        raise ToolRefused(f"'{key}' must be a string")
    return value


def _line(arguments: Mapping[str, Any], key: str, default: int) -> int:
    value = arguments.get(key)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ToolRefused(f"'{key}' must be a line number") from None
    if number < 1:
        raise ToolRefused(f"'{key}' must be 1 or more")
    return number
