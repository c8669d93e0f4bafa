"""How to drive one coding CLI beyond its argv template: its model and session flags, the
files and variables it needs, and the parser of its output. One subclass per CLI lives with
that CLI's parser (claude.py, codex.py, gemini.py, aider.py)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from maestro_tui.agents.base import Reporter, WorkerJob
from maestro_tui.agents.stream import CliStream, Pricer


class Dialect:
    """The defaults suit a CLI that prints plain text and has no sessions."""

    name = "text"
    cli = "the agent"
    model_flags: tuple[str, ...] = ("--model",)  # any of these in the argv sets the model
    resumes = False  # it has session ids that a later run can go on with
    model_variable = ""  # the environment variable its users set the model with, if any
    # Tokens it sends every turn besides the task (its system prompt, its tools): for the
    # cost estimate. Measured with the lab's servers (Claude Code 2.1.332: ~22k).
    prompt_tokens = 0

    def files(self, job: WorkerJob) -> list[str]:
        """The task's files as its {files} placeholder gives them to the CLI."""
        return list(job.task.files)

    def with_model(self, argv: list[str], prompt_at: int, model: str) -> list[str]:
        """Add the model flag unless the argv already sets one."""
        if not model or any(a in self.model_flags for a in argv):
            return argv
        return [*argv, self.model_flags[0], model]

    def with_session(self, argv: list[str], prompt_at: int, session: str) -> list[str]:
        """Go on with `session` (only called when `resumes`)."""
        return argv

    def extra_args(self, argv: list[str], prompt_at: int, job: WorkerJob, env: Mapping[str, str],
                   agent_dir: Path) -> list[str]:  # fmt: skip
        """Flags every run needs (telemetry off, files kept out of the worktree…)."""
        return argv

    def prepare(self, job: WorkerJob, env: Mapping[str, str], agent_dir: Path) -> dict[str, str]:
        """Write what the CLI needs in `agent_dir`; return variables to add to its environment."""
        return {}

    def configured_model(self, env: Mapping[str, str]) -> str:
        """The model the CLI will use when none is passed, when it can be known up front."""
        return ""

    def stream(self, report: Reporter, price: Pricer, model: str, resumed: bool,
               agent_dir: Path) -> CliStream:  # fmt: skip
        return CliStream(report, price, model)


def insert_before(argv: list[str], index: int, *args: str) -> list[str]:
    """`args` inserted before position `index` (the prompt), or appended when it is -1."""
    if index < 0:
        return [*argv, *args]
    return [*argv[:index], *args, *argv[index:]]
