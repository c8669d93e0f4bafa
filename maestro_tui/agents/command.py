"""The command worker: runs an external coding CLI from an argv template, never through a shell."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import string
import subprocess
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from maestro_tui.agents.base import Reporter, WorkerError, WorkerJob, WorkerResult
from maestro_tui.config import ConfigError, WorkerSpec
from maestro_tui.config.presets import install_hint, scratch_of
from maestro_tui.process import (
    LineSink,
    ProcessResult,
    ProgramNotFound,
    base_env,
    resolve_program,
    run_streaming,
    shorten,
)

PLACEHOLDERS = ("prompt", "task_id", "title", "worktree", "run_id", "attempt", "files")
SUMMARY_CHARS = 1000
ERROR_TAIL_LINES = 8


class WorkerConfigError(WorkerError, ConfigError):
    """A worker that cannot start because of its configuration (caught as either kind)."""


# One argument of a template: literal text and placeholder names, in order.
Part = tuple[str, str | None]


def parse_template(argv: Sequence[str], worker: str) -> list[list[Part]]:
    """Split each argument into literal text and placeholders; unknown ones are refused."""
    where = f"[workers.{worker}] argv"
    if not argv:
        raise WorkerConfigError(f"{where} is empty: give the command to run")
    parsed: list[list[Part]] = []
    for arg in argv:
        try:
            pieces = list(string.Formatter().parse(arg))
        except ValueError as exc:
            raise WorkerConfigError(f"{where}: bad braces in {arg!r} ({exc})") from None
        parts: list[Part] = []
        for literal, name, spec, conversion in pieces:
            if name is not None and (name not in PLACEHOLDERS or spec or conversion):
                raise WorkerConfigError(
                    f"{where}: unknown placeholder {{{name}}} in {arg!r}; known placeholders: "
                    + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                    + " (write {{ and }} for literal braces)"
                )
            parts.append((literal, name))
        parsed.append(parts)
    if any(name for _, name in parsed[0]):
        raise WorkerConfigError(f"{where}: the program, {argv[0]!r}, cannot be a placeholder")
    return parsed


def build_prompt(job: WorkerJob) -> str:
    """The task prompt with the context and the previous attempt's feedback under headings."""
    sections = [job.task.prompt.strip()]
    if job.context.strip():
        sections.append("## Context\n\n" + job.context.strip())
    if job.feedback.strip():
        sections.append("## Feedback on the previous attempt\n\n" + job.feedback.strip())
    return "\n\n".join(sections)


def expand(
    template: list[list[Part]], values: Mapping[str, str], files: Sequence[str]
) -> list[str]:
    """Substitute per argument; an argument that is exactly {files} becomes one per file."""
    argv: list[str] = []
    for parts in template:
        if len(parts) == 1 and parts[0] == ("", "files"):
            argv.extend(files)
            continue
        argv.append("".join(literal + (values[name] if name else "") for literal, name in parts))
    return argv


def summarize(lines: Sequence[str], name: str, limit: int = SUMMARY_CHARS) -> str:
    """The last non-empty output lines, at most `limit` characters, or '<name> finished'."""
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        text = line.rstrip()
        if not text.strip():
            continue
        if size + len(text) + 1 > limit:
            if not kept:
                kept.append("…" + text[-(limit - 1) :])
            break
        kept.append(text)
        size += len(text) + 1
    return "\n".join(reversed(kept)) or f"{name} finished"


def remove_scratch(worktree: Path, globs: Sequence[str]) -> list[str]:
    """Remove what `globs` match in `worktree` (see config.presets.is_scratch), but for what
    the project keeps in git; the worktree-relative paths removed."""
    removed: list[str] = []
    for glob in globs:
        for path in sorted(worktree.glob(glob.strip("/"))):
            rel = path.relative_to(worktree).as_posix()
            tracked = subprocess.run(
                ["git", "ls-files", "--error-unmatch", "--", rel],
                cwd=worktree,
                capture_output=True,
                check=False,
            )
            if tracked.returncode == 0:
                continue  # the project keeps it in git: not ours to remove
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            removed.append(rel)
    return removed


class CommandWorker:
    """Runs `spec.argv` in the task's worktree with an explicit environment; streams its output.

    Its output is shown line by line (long lines shortened for the log, never for a parser); a
    command silent for `stall_s` is stopped (TaskStalled); whatever it leaves running when it
    exits is stopped and named in the log; what its program writes for itself in the worktree
    (its scratch) is removed once it ends.
    """

    def __init__(self, spec: WorkerSpec, *, stall_s: float | None = None) -> None:
        self.spec = spec
        self.name = spec.name
        self.template = parse_template(spec.argv, spec.name)
        self.stall_s = stall_s
        self.scratch = scratch_of(spec)

    def argv_for(
        self, job: WorkerJob, prompt: str | None = None, files: list[str] | None = None
    ) -> list[str]:
        """The argv this job runs: each placeholder replaced inside its own argument."""
        files = list(job.task.files) if files is None else files
        values = {
            "prompt": build_prompt(job) if prompt is None else prompt,
            "task_id": job.task.id,
            "title": job.task.title,
            "worktree": str(job.worktree),
            "run_id": job.run_id,
            "attempt": str(job.attempt),
            "files": " ".join(files),
        }
        return expand(self.template, values, files)

    def env_for(self, job: WorkerJob) -> dict[str, str]:
        """Safe basics, the spec's pass-through names and extra variables, then the job's."""
        env = base_env(self.spec.env, self.spec.pass_env)
        env.update(job.env)
        return env

    def preflight(self) -> None:
        """Before a run starts: the program must be installed, so the run fails fast and clean."""
        program = self.spec.argv[0]
        try:
            resolve_program([program], base_env(self.spec.env, self.spec.pass_env))
        except ProgramNotFound:
            raise WorkerError(self._not_installed(program)) from None

    def _not_installed(self, program: str) -> str:
        return (
            f"'{program}' is not installed or not on PATH: {install_hint(program)}"
            f" or change [workers.{self.name}] argv in maestro.toml"
        )

    async def spawn(
        self,
        argv: list[str],
        job: WorkerJob,
        report: Reporter,
        on_line: LineSink,
        env: dict[str, str] | None = None,
    ) -> ProcessResult:
        """Run `argv` once in the job's worktree; WorkerError when it cannot start, times out
        or stalls. What it left running is stopped and named in the log; its scratch removed."""
        # The worker's own limit is more specific than the run-wide task timeout.
        timeout = self.spec.timeout_s if self.spec.timeout_s is not None else job.timeout_s
        try:
            result = await run_streaming(
                argv,
                cwd=job.worktree,
                env=self.env_for(job) if env is None else env,
                timeout_s=timeout,
                on_line=on_line,
                stall_s=self.stall_s,
                on_stall=report.stalled,
                sandbox=job.sandbox and job.sandbox.allowing(self.spec.home_allow),
            )
        except ProgramNotFound as exc:
            raise WorkerError(self._not_installed(exc.args[0])) from None
        except OSError as exc:
            raise WorkerError(f"{self.name}: could not start {argv[0]!r}: {exc}") from exc
        finally:
            if self.scratch:  # never committed, whatever happened
                await asyncio.to_thread(remove_scratch, Path(job.worktree), self.scratch)
        if result.stopped:
            report.output(
                f"stopped {len(result.stopped)} process(es) {self.name} left running: "
                + "; ".join(result.stopped),
                "stderr",
            )
        if result.stalled:
            raise WorkerError(f"{self.name} stalled: no output for {self.stall_s:g} s; stopped")
        if result.timed_out:
            raise WorkerError(f"{self.name} timed out after {timeout:g} s")
        return result

    async def run(self, job: WorkerJob, report: Reporter) -> WorkerResult:
        """Run the command once; raise WorkerError on timeout, failure or a missing program."""
        stdout: deque[str] = deque(maxlen=200)
        anywhere: deque[str] = deque(maxlen=200)

        def on_line(line: str, stream: str) -> None:
            line = shorten(line)
            anywhere.append(line)
            if stream == "stdout":
                stdout.append(line)
            report.output(line, stream)

        argv = self.argv_for(job)
        result = await self.spawn(argv, job, report, on_line)
        if result.exit_code != 0:
            tail = "\n".join(result.tail.splitlines()[-ERROR_TAIL_LINES:])
            raise WorkerError(
                f"{self.name} exited with code {result.exit_code}"
                + (f"; last output:\n{tail}" if tail.strip() else "")
            )
        # CLIs print their final answer on stdout; fall back to stderr for those that don't.
        summary = summarize(stdout if any(x.strip() for x in stdout) else anywhere, self.name)
        return WorkerResult(summary=summary, agent=f"command:{self.name}", model=self.spec.model)
