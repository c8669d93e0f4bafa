"""The tools an LLM worker may call, and the ToolBox that runs them confined to its worktree."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from maestro_tui.agents.base import Reporter
from maestro_tui.process import ProgramNotFound, Sandbox, base_env, run_streaming
from maestro_tui.workspace.files import list_repo_files

MAX_READ_CHARS = 100_000
MAX_WRITE_CHARS = 1_000_000
MAX_LISTED = 500
TAIL_LINES = 60
TAIL_CHARS = 6_000


def _function(name: str, description: str, **props: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {k: {"type": "string", "description": v} for k, v in props.items()},
                "required": list(props),
            },
        },
    }


TOOL_SCHEMAS: list[dict[str, Any]] = [
    _function("list_files", "List the repository's files (ignored files left out), with sizes."),
    _function("read_file", "Read a text file.", path="Path relative to the repository root."),
    _function(
        "write_file",
        "Create or replace a whole file with new content.",
        path="Path relative to the repository root.",
        content="The complete new content of the file.",
    ),
    _function(
        "run_command",
        "Run an allow-listed program (no shell: no pipes, redirections or &&) in the repository.",
        command="The command line, e.g. 'python -m pytest -q'.",
    ),
    _function("publish_finding", "Share a fact other tasks should know.", text="The finding."),
    _function(
        "finish",
        "Say you are done. The summary becomes the commit message: what changed and why.",
        summary="First line: what changed (imperative, < 72 chars); then why.",
    ),
]
TOOL_NAMES = tuple(t["function"]["name"] for t in TOOL_SCHEMAS)

TOOL_RULES = """\
Work only through the tools, one step at a time:
- Paths are relative to the repository root; you cannot leave it.
- write_file replaces the whole file: send its complete new content.
- run_command runs one allow-listed program without a shell: {allowed}.
- Do not commit: the run commits your work. Call finish with a summary when done."""


class ToolRefused(Exception):
    """A tool call that is not allowed or cannot run; the message goes back to the model."""


def resolve_inside(root: Path, name: str) -> Path:
    """The real path of `name` under `root`; ToolRefused for anything that would leave it."""
    if not isinstance(name, str) or not name.strip() or "\0" in name:
        raise ToolRefused("give a non-empty relative path")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("~"):
        raise ToolRefused(f"'{name}' is absolute; use a path relative to the repository")
    if ".." in path.parts:
        raise ToolRefused(f"'{name}' leaves the repository ('..')")
    if ".git" in path.parts:
        raise ToolRefused(f"'{name}' is inside .git, which belongs to the run")
    real_root = root.resolve()
    resolved = (real_root / path).resolve()
    if resolved != real_root and real_root not in resolved.parents:
        raise ToolRefused(f"'{name}' resolves outside the repository (a symlink?)")
    return resolved


def _tail(text: str) -> str:
    lines = text.splitlines()[-TAIL_LINES:]
    return "\n".join(lines)[-TAIL_CHARS:]


class ToolBox:
    """Runs a worker's tool calls inside one worktree and reports each as a tool event."""

    def __init__(
        self,
        worktree: Path,
        allowed_commands: Iterable[str],
        timeout_s: float | None,
        reporter: Reporter,
        env: Mapping[str, str] | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.root = Path(worktree)
        self.sandbox = sandbox  # where run_command's programs run confined
        self.allowed = frozenset(allowed_commands)
        self.timeout_s = timeout_s
        self.reporter = reporter
        self.env = dict(env) if env else base_env()

    def rules(self) -> str:
        """The tool rules for the system prompt, naming the allowed programs."""
        allowed = ", ".join(sorted(self.allowed)) or "(none)"
        return TOOL_RULES.format(allowed=allowed)

    async def execute(self, name: str, arguments: Mapping[str, Any] | str) -> str:
        """Run one call; the text returned goes back to the model ('error: …' when refused)."""
        summary = _summary(name, arguments)
        try:
            if isinstance(arguments, str):
                raise ToolRefused(arguments)
            result, ok, problem = await self._dispatch(name, arguments)
        except ToolRefused as exc:
            self.reporter.tool(name, summary, ok=False, error=str(exc))
            return f"error: {exc}"
        self.reporter.tool(name, summary, ok=ok, error=problem)
        return result

    async def _dispatch(self, name: str, args: Mapping[str, Any]) -> tuple[str, bool, str]:
        if name == "list_files":
            files = await asyncio.to_thread(list_repo_files, self.root)
            lines = [f"{f} ({(self.root / f).stat().st_size} B)" for f in files[:MAX_LISTED]]
            if len(files) > MAX_LISTED:
                lines.append(f"… and {len(files) - MAX_LISTED} more files")
            return "\n".join(lines) or "(no files)", True, ""
        if name == "read_file":
            return self._read(_arg(args, "path")), True, ""
        if name == "write_file":
            return self._write(_arg(args, "path"), _arg(args, "content")), True, ""
        if name == "run_command":
            return await self._run(_arg(args, "command"))
        if name == "publish_finding":
            self.reporter.finding(_arg(args, "text"))
            return "ok: published", True, ""
        if name == "finish":
            _arg(args, "summary")
            return "ok: finished", True, ""
        raise ToolRefused(f"unknown tool '{name}'; the tools are {', '.join(TOOL_NAMES)}")

    def _read(self, name: str) -> str:
        path = resolve_inside(self.root, name)
        if not path.is_file():
            raise ToolRefused(f"'{name}' does not exist or is not a file")
        text = path.read_text(encoding="utf-8", errors="replace")
        if len(text) > MAX_READ_CHARS:
            return text[:MAX_READ_CHARS] + f"\n… [truncated: {len(text)} characters in all]"
        return text

    def _write(self, name: str, content: str) -> str:
        path = resolve_inside(self.root, name)
        if len(content) > MAX_WRITE_CHARS:
            raise ToolRefused(
                f"content is {len(content)} characters; the limit is {MAX_WRITE_CHARS}"
            )
        if path.is_dir():
            raise ToolRefused(f"'{name}' is a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        path.write_text(content, encoding="utf-8")
        return f"ok: {'replaced' if existed else 'created'} {name} ({len(content)} characters)"

    async def _run(self, command: str) -> tuple[str, bool, str]:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise ToolRefused(f"cannot parse the command: {exc}") from None
        if not argv:
            raise ToolRefused("empty command")
        program = argv[0]
        if "/" in program or program not in self.allowed:
            allowed = ", ".join(sorted(self.allowed)) or "none"
            raise ToolRefused(f"'{program}' is not an allowed program (allowed: {allowed})")

        def on_line(line: str, _stream: str) -> None:
            self.reporter.output(line, "tool")

        try:
            result = await run_streaming(
                argv,
                cwd=self.root,
                env=self.env,
                timeout_s=self.timeout_s,
                on_line=on_line,
                sandbox=self.sandbox,
            )
        except ProgramNotFound:
            raise ToolRefused(f"'{program}' is not installed") from None
        tail = _tail(result.tail)
        if result.timed_out:
            raise ToolRefused(f"timed out after {self.timeout_s:g}s; output:\n{tail}")
        ok = result.exit_code == 0
        return f"exit code {result.exit_code}\n{tail}", ok, "" if ok else f"exit {result.exit_code}"


def _arg(args: Mapping[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str):
        raise ToolRefused(f"missing or non-string argument '{key}'")
    return value


def _summary(name: str, arguments: Mapping[str, Any] | str) -> str:
    """A short description of a call for the tool event (never the content written)."""
    if isinstance(arguments, str):
        return "(bad arguments)"
    if name == "write_file":
        content = arguments.get("content")
        size = len(content) if isinstance(content, str) else 0
        return f"{arguments.get('path', '')} ({size} chars)"
    for key in ("path", "command", "text", "summary"):
        value = arguments.get(key)
        if isinstance(value, str):
            first = value.strip().splitlines()[0] if value.strip() else ""
            return first[:120]
    return ""
