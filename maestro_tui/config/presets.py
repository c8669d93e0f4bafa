"""Ready-made workers: the coding CLIs maestro knows how to drive headless, and the built-in ones.

Each command preset runs the CLI non-interactively in the task's worktree with stdin closed,
in its machine-readable output mode, lets it edit files without asking (the run, not the
agent, commits), and passes through only the variables that CLI reads: keys, base URLs (a
gateway, a local model server), the model, telemetry opt-outs and proxies. Any field can be
changed with a [workers.<name>] table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class WorkerSpec:
    """How to start one kind of worker: a preset or a [workers.<name>] table."""

    name: str
    kind: str = "command"  # "command" | "llm" | "demo" | a plugin kind or "module:attr"
    argv: tuple[str, ...] = ()  # template for command workers
    env: Mapping[str, str] = field(default_factory=dict)  # extra variables for the process
    pass_env: tuple[str, ...] = ()  # names passed through from the user's environment
    timeout_s: float | None = None
    model: str = ""  # passed to the CLI (--model) and reported in the Maestro-Model trailer
    # Which coding CLI's output this command prints ("claude", "codex", "gemini", "aider"),
    # read by that CLI's parser; "" for plain text shown as it is.
    parser: str = ""
    # In a sandbox ([sandbox] kind = "bwrap"): what of $HOME the worker sees, read-write (its
    # CLI's logins, settings and sessions); the rest of $HOME is an empty throwaway folder.
    home_allow: tuple[str, ...] = ()
    # What a node must have to run it, under the Ray executor (e.g. {agent_clis = 1}).
    resources: Mapping[str, float] = field(default_factory=dict)
    # What its program writes in the worktree for itself (globs from the worktree's top, see
    # `is_scratch`): never reported as the agent's changes, removed before the commit.
    scratch: tuple[str, ...] = ()


# Variables every CLI preset passes through: a proxy between you and the model's API.
PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy")

PRESETS: dict[str, WorkerSpec] = {
    # Built-in kinds (registered by the LLM layer): the offline demo model and litellm models.
    "demo": WorkerSpec(name="demo", kind="demo", model="demo"),
    "llm": WorkerSpec(name="llm", kind="llm"),
    # Claude Code: -p is headless; stream-json (with each turn's usage from the partial
    # messages) is what its parser reads; acceptEdits lets it edit without prompting.
    "claude": WorkerSpec(
        name="claude",
        parser="claude",
        argv=(
            "claude", "-p", "{prompt}", "--output-format", "stream-json", "--verbose",
            "--include-partial-messages", "--permission-mode", "acceptEdits",
        ),
        env={"DISABLE_AUTOUPDATER": "1"},
        home_allow=(".claude", ".claude.json"),
        pass_env=(
            "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN",
            "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL", "ANTHROPIC_CUSTOM_HEADERS",
            "CLAUDE_CODE_MAX_RETRIES", "API_TIMEOUT_MS", "DISABLE_TELEMETRY",
            "DISABLE_ERROR_REPORTING", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", *PROXY_VARS,
        ),
    ),
    # Codex: `exec` is non-interactive, --json its event stream; workspace-write lets it edit
    # the worktree (and its own TMPDIR) only. Its settings are passed as -c per run.
    "codex": WorkerSpec(
        name="codex",
        parser="codex",
        argv=(
            "codex", "exec", "--json", "-s", "workspace-write", "--skip-git-repo-check",
            "--disable", "plugins", "--disable", "remote_plugin", "{prompt}",
        ),
        pass_env=("OPENAI_API_KEY", "CODEX_API_KEY", "OPENAI_BASE_URL", "CODEX_HOME", *PROXY_VARS),
        home_allow=(".codex",),
    ),
    # Aider: --message does one instruction then exits; the run commits, so no auto-commits.
    "aider": WorkerSpec(
        name="aider",
        parser="aider",
        argv=(
            "aider", "--message", "{prompt}", "--yes-always", "--no-auto-commits",
            "--no-gitignore", "--no-check-update", "--no-show-model-warnings", "--no-pretty",
            "--no-stream", "{files}",
        ),
        pass_env=(
            "OPENAI_API_KEY", "OPENAI_API_BASE", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY",
            "GEMINI_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY", "OLLAMA_API_BASE",
            "AIDER_MODEL", "AIDER_WEAK_MODEL", "AIDER_EDIT_FORMAT", *PROXY_VARS,
        ),
        home_allow=(".aider", ".aider.conf.yml", ".aider.model.settings.yml"),
        # Its repository map's cache, and the histories when not sent to the agent's folder
        # (the preset sends them there); not .aider.conf.yml nor .aiderignore: a project's own.
        scratch=(
            ".aider.tags.cache.v*", ".aider.chat.history.md", ".aider.input.history",
            ".aider.llm.history",
        ),
    ),
    # Gemini CLI: -p is headless, -o stream-json its event stream, --yolo approves its tools.
    "gemini": WorkerSpec(
        name="gemini",
        parser="gemini",
        argv=("gemini", "-p", "{prompt}", "-o", "stream-json", "--yolo"),
        pass_env=(
            "GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GEMINI_MODEL",
            "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "GOOGLE_GENAI_USE_VERTEXAI",
            "GOOGLE_GENAI_USE_GCA", "GOOGLE_APPLICATION_CREDENTIALS", "GEMINI_CLI_HOME",
            *PROXY_VARS,
        ),
        home_allow=(".gemini",),
    ),
}  # fmt: skip

# Everything any preset's program leaves in a worktree: what the file watcher leaves out, not
# knowing which worker is at work there.
EVERY_SCRATCH: tuple[str, ...] = tuple(
    dict.fromkeys(glob for spec in PRESETS.values() for glob in spec.scratch)
)


def is_scratch(path: str, globs: Iterable[str]) -> bool:
    """Is `path` (worktree-relative, '/'-separated) matched by one of `globs`, or inside a
    folder matched? A glob is matched part by part from the worktree's top: the folder
    `.aider.tags.cache.v*` covers `.aider.tags.cache.v4/cache.db`, not `src/.aider.tags…`."""
    parts = path.split("/")
    for glob in globs:
        pattern = glob.strip("/").split("/")
        if len(parts) >= len(pattern) and all(map(fnmatchcase, parts, pattern)):
            return True
    return False


def scratch_of(spec: WorkerSpec) -> tuple[str, ...]:
    """The worker's scratch globs: its own, else those of the preset whose CLI's output it
    reads (a [workers.x] table running Aider with parser = "aider" leaves what Aider leaves)."""
    if spec.scratch:
        return spec.scratch
    preset = PRESETS.get(spec.parser) if spec.parser else None
    return preset.scratch if preset is not None else ()


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
