"""Ready-made workers: the coding CLIs maestro knows how to drive headless, and the built-in ones.

Each command preset runs the CLI non-interactively in the task's worktree, lets it edit files
without asking (the run, not the agent, commits), and passes through only the API-key
variables that CLI reads. Any field can be changed with a [workers.<name>] table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkerSpec:
    """How to start one kind of worker: a preset or a [workers.<name>] table."""

    name: str
    kind: str = "command"  # "command" | "llm" | "demo" | a plugin kind or "module:attr"
    argv: tuple[str, ...] = ()  # template for command workers
    env: Mapping[str, str] = field(default_factory=dict)  # extra variables for the process
    pass_env: tuple[str, ...] = ()  # names passed through from the user's environment
    timeout_s: float | None = None
    model: str = ""  # reported in the Maestro-Model trailer when known
    # What a node must have to run it, under the Ray executor (e.g. {agent_clis = 1}).
    resources: Mapping[str, float] = field(default_factory=dict)


PRESETS: dict[str, WorkerSpec] = {
    # Built-in kinds (registered by the LLM layer): the offline demo model and litellm models.
    "demo": WorkerSpec(name="demo", kind="demo", model="demo"),
    "llm": WorkerSpec(name="llm", kind="llm"),
    # Claude Code: -p/--print is headless; acceptEdits lets it edit files without prompting.
    "claude": WorkerSpec(
        name="claude",
        argv=("claude", "-p", "{prompt}", "--permission-mode", "acceptEdits"),
        pass_env=("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"),
    ),
    # Codex CLI: `exec` is non-interactive; --full-auto = workspace-write sandbox, no prompts.
    "codex": WorkerSpec(
        name="codex",
        argv=("codex", "exec", "--full-auto", "{prompt}"),
        pass_env=("OPENAI_API_KEY", "CODEX_API_KEY"),
    ),
    # Aider: --message does one instruction then exits; the run commits, so no auto-commits.
    "aider": WorkerSpec(
        name="aider",
        argv=(
            "aider",
            "--yes-always",
            "--no-auto-commits",
            "--no-gitignore",
            "--no-check-update",
            "--message",
            "{prompt}",
            "{files}",
        ),
        pass_env=(
            "OPENAI_API_KEY",
            "ANTHROPIC_API_KEY",
            "GEMINI_API_KEY",
            "DEEPSEEK_API_KEY",
            "OPENROUTER_API_KEY",
            "AIDER_MODEL",
        ),
    ),
    # Gemini CLI: -p/--prompt is headless; --approval-mode yolo replaces the older --yolo flag.
    "gemini": WorkerSpec(
        name="gemini",
        argv=("gemini", "-p", "{prompt}", "--approval-mode", "yolo"),
        pass_env=("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT"),
    ),
}

# Program name -> what to tell a user who does not have it installed.
INSTALL_HINTS: dict[str, str] = {
    "claude": "install Claude Code (npm install -g @anthropic-ai/claude-code)",
    "codex": "install the Codex CLI (npm install -g @openai/codex)",
    "aider": "install Aider (python -m pip install aider-install && aider-install)",
    "gemini": "install Gemini CLI (npm install -g @google/gemini-cli)",
}


def install_hint(program: str) -> str:
    """How to install `program`, for the not-installed error; a generic line for unknown ones."""
    name = program.rsplit("/", 1)[-1]
    return INSTALL_HINTS.get(name, f"install '{name}'")
