"""maestro.toml: run settings, checked with messages that name the key and what is allowed."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from maestro_tui.config import subtables
from maestro_tui.config.checks import (
    Check,
    boolean,
    choice,
    command_line,
    command_lines,
    env_name,
    integer,
    number,
    optional,
    ports,
    ray_address,
    repo_path,
    repo_paths,
    resource_amounts,
    string,
    strings,
    subset,
    url,
)
from maestro_tui.config.detect import ProjectSetup
from maestro_tui.config.presets import PRESETS, WorkerSpec
from maestro_tui.config.reader import Reader, did_you_mean

CONFIG_FILE = "maestro.toml"
NOTICE_KINDS = ("merge_waiting", "task_failed", "stalled", "budget", "run_finished")
DEFAULT_TEST_COMMAND = "python -m pytest -q"
# [llm] planner values that name a coding CLI (its preset in [workers]) rather than a model.
CODING_CLI_PLANNERS = ("claude", "codex", "gemini")
# Hidden from sandboxed agents besides the checkout and worktrees: the user's session sockets
# (D-Bus, an SSH agent, a keyring) and container engines' sockets, a way out of any sandbox.
SANDBOX_HIDE = ("/run/user", "/run/docker.sock", "/var/run/docker.sock", "/run/podman")


class ConfigError(ValueError):
    """A configuration that cannot be used; `problems` holds one message per bad key."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Config:
    """Everything a run is configured with; `path` is None when only defaults are used."""

    path: Path | None = None
    max_agents: int = 4
    test_command: str = ""  # "" = no validation step
    test_timeout_s: float = 600
    test_report: str | None = None  # repo-relative JUnit XML file the test command writes
    allow_red_base: bool = False  # a base whose tests fail: go on (headless) without asking
    # [worktree]: what every task worktree and every tree the gate tests gets before use
    worktree_copy: tuple[str, ...] = ()  # git-ignored files copied from the user's checkout
    worktree_setup: tuple[str, ...] = ()  # commands run there (no shell) before agent or tests
    worktree_setup_timeout_s: float = 600
    worktree_python: str = "auto"  # auto: tests import the tree's code, not an editable install
    task_timeout_s: float = 1800
    retries: int = 1  # further attempts after the first
    retry_backoff_s: float = 2.0  # base of the exponential backoff, capped at 60 s
    fix_attempts: int = 1  # red tests go back to the same agent this many times, then it fails
    stall_s: float = 300.0  # an agent silent this long is stopped (TaskStalled), then retried
    limit_wait_s: float = 30.0  # first wait after a rate or usage limit; doubles, up to 10 min
    worktree_root: str | None = None  # None: a per-repository folder in the user cache dir
    critic_rounds: int = 0  # 0: no critic; else how many times a reviewer may send work back
    critic_model: str = ""  # "" = the worker model
    merge_policy: str = "auto"  # auto | review
    max_diff_lines: int = 500  # auto-merge only at or below this (insertions + deletions)
    max_diff_files: int = 25
    on_red: str = "fix"  # a result red as merged: back to its agent (fix) or held (review)
    on_conflict: str = "review"  # a result that conflicts: held (review), to its agent, retried
    speculate: int = 4  # merged trees the gate tests at once; 1 = serial, 0 = no gate
    max_batch: int = 4  # results at most in one merged tree the gate tests
    retest_red: bool = False  # the gate runs a red tree once more to spot flaky tests
    exclude: tuple[str, ...] = ()  # globs never committed by agents
    standards_file: str | None = None  # repo-relative; its text goes into every task's context
    # "" = see task_worker: the demo worker only when named (`maestro-tui demo` names it)
    default_worker: str = ""
    workers: Mapping[str, WorkerSpec] = field(default_factory=lambda: dict(PRESETS))
    model: str = ""  # "" = none named: a goal is planned only by [llm] planner or planner_model
    planner_model: str = ""  # "" = same as model
    # Who plans: "" = planner_model (or model); "claude" | "codex" | "gemini" = that coding
    # CLI, read-only, with its own login or key; anything else: a litellm model string.
    planner: str = ""
    plan_overlaps: str = "serialize"  # tasks naming a common file: ordered, or run in parallel
    api_base: str | None = None
    api_key_env: str | None = None  # the NAME of the variable holding the key
    prices: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # usd per 1M in/out
    budget_usd: float | None = None
    budget_tokens: int | None = None
    task_budget_usd: float | None = None  # one task over this is stopped and fails
    task_budget_tokens: int | None = None
    max_turns: int = 30
    allowed_commands: tuple[str, ...] = ("python", "pytest", "ruff", "git")
    on_budget_exceeded: str = "finish"  # finish | cancel
    workflow_tables: Mapping[str, Any] = field(default_factory=dict)  # raw [workflows.NAME]
    notify_about: tuple[str, ...] = NOTICE_KINDS  # what the human is told about
    notify_bell: bool = True  # the terminal bell
    notify_osc: bool = True  # a desktop notification through the terminal (OSC 9 / 777)
    notify_desktop: bool = True  # notify-send, when installed
    notify_command: tuple[str, ...] = ()  # a hook, run without a shell, JSON on stdin
    # [mcp]: `maestro-tui mcp`, maestro's tools for an agent that stays in charge
    mcp_budget_usd: float | None = None  # what one MCP session may spend; None: no limit
    mcp_model: str = ""  # the model consults ask; "" = [llm] model
    mcp_ensemble_models: tuple[str, ...] = ()  # an ensemble's models; () = mcp_model n times
    mcp_ensemble_n: int = 3
    mcp_context_tokens: int = 8000  # the token budget of packed context
    mcp_confident: float = 0.45  # at or above this confidence, ensembles are skipped
    mcp_stage_budgets: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # overrides
    # [sandbox]: what agents' processes may see, write and reach (see process/sandbox.py)
    sandbox_kind: str = "none"  # none | bwrap
    sandbox_program: str = "bwrap"
    sandbox_network: bool = True
    sandbox_home_allow: tuple[str, ...] = ()  # $HOME-relative, read-write, for every worker
    sandbox_read_only: tuple[str, ...] = ()  # shown read-only even where hidden (a venv)
    sandbox_hide: tuple[str, ...] = SANDBOX_HIDE
    sandbox_loopback_ports: tuple[int, ...] = ()  # with network = false: a local model server
    # [executor]: where attempts run, here or on a Ray cluster (pip install maestro-tui[ray])
    executor_kind: str = "local"  # local | ray
    executor_address: str = "auto"  # auto | local | ray://HOST:PORT | HOST:PORT
    executor_num_cpus: float = 1.0  # CPUs one attempt holds on its node
    executor_resources: Mapping[str, float] = field(default_factory=dict)  # every attempt's
    executor_max_retries: int = 3  # Ray runs a step again this often when its node is lost

    @property
    def task_worker(self) -> str:
        """The worker of tasks that name none: [run] default_worker; when that is empty, the
        LLM worker on [llm] model, or, with no model, the coding CLI named to plan."""
        if self.default_worker:
            return self.default_worker
        if not self.model and self.planner in CODING_CLI_PLANNERS:
            return self.planner
        return "llm"

    @property
    def effective_planner_model(self) -> str:
        """The litellm model that plans: [llm] planner when it names a model rather than a
        worker (a coding CLI), else planner_model, else the worker model."""
        if self.planner and self.planner not in self.workers:
            return self.planner
        return self.planner_model or self.model


MAX_AGENTS = 256  # agents at once: bench/bench_scale.py runs 200 on 2 cores

# (section, key, Config field, check). The order is the order of the template and messages.
_FIELDS: tuple[tuple[str, str, str, Check], ...] = (
    ("run", "max_agents", "max_agents", integer(1, MAX_AGENTS)),
    ("run", "task_timeout_s", "task_timeout_s", number(0, above=True)),
    ("run", "retries", "retries", integer(0, 20)),
    ("run", "retry_backoff_s", "retry_backoff_s", number(0, hi=60)),
    ("run", "exclude", "exclude", strings),
    ("run", "standards_file", "standards_file", optional(repo_path)),
    ("run", "default_worker", "default_worker", string()),
    ("run", "fix_attempts", "fix_attempts", integer(0, 10)),
    ("run", "stall_s", "stall_s", number(0, above=True)),
    ("run", "limit_wait_s", "limit_wait_s", number(0, above=True, hi=600)),
    ("run", "worktree_root", "worktree_root", optional(string(non_empty=True))),
    ("tests", "command", "test_command", command_line),
    ("tests", "timeout_s", "test_timeout_s", number(0, above=True)),
    ("tests", "report", "test_report", optional(repo_path)),
    ("tests", "allow_red_base", "allow_red_base", boolean),
    ("worktree", "copy", "worktree_copy", repo_paths),
    ("worktree", "setup", "worktree_setup", command_lines),
    ("worktree", "setup_timeout_s", "worktree_setup_timeout_s", number(0, above=True)),
    ("worktree", "python", "worktree_python", choice("auto", "off")),
    ("merge", "policy", "merge_policy", choice("auto", "review")),
    ("merge", "max_diff_lines", "max_diff_lines", integer(0)),
    ("merge", "max_diff_files", "max_diff_files", integer(0)),
    ("merge", "on_red", "on_red", choice("fix", "review")),
    ("merge", "on_conflict", "on_conflict", choice("review", "agent", "retry")),
    ("merge", "speculate", "speculate", integer(0, 32)),
    ("merge", "max_batch", "max_batch", integer(1, 64)),
    ("merge", "retest_red", "retest_red", boolean),
    ("llm", "model", "model", string()),
    ("llm", "planner_model", "planner_model", string()),
    ("llm", "planner", "planner", string()),
    ("plan", "overlaps", "plan_overlaps", choice("serialize", "parallel")),
    ("llm", "api_base", "api_base", optional(url)),
    ("llm", "api_key_env", "api_key_env", optional(env_name)),
    ("llm", "max_turns", "max_turns", integer(1, 1000)),
    ("llm", "allowed_commands", "allowed_commands", strings),
    ("critic", "rounds", "critic_rounds", integer(0, 5)),
    ("critic", "model", "critic_model", string()),
    ("budget", "usd", "budget_usd", optional(number(0, above=True))),
    ("budget", "tokens", "budget_tokens", optional(integer(1))),
    ("budget", "task_usd", "task_budget_usd", optional(number(0, above=True))),
    ("budget", "task_tokens", "task_budget_tokens", optional(integer(1))),
    ("budget", "on_exceeded", "on_budget_exceeded", choice("finish", "cancel")),
    ("notify", "about", "notify_about", subset(*NOTICE_KINDS)),
    ("notify", "bell", "notify_bell", boolean),
    ("notify", "osc", "notify_osc", boolean),
    ("notify", "desktop", "notify_desktop", boolean),
    ("notify", "command", "notify_command", strings),
    ("mcp", "budget_usd", "mcp_budget_usd", optional(number(0, above=True))),
    ("mcp", "model", "mcp_model", string()),
    ("mcp", "ensemble_models", "mcp_ensemble_models", strings),
    ("mcp", "ensemble_n", "mcp_ensemble_n", integer(1, 8)),
    ("mcp", "context_tokens", "mcp_context_tokens", integer(500, 200_000)),
    ("mcp", "confident", "mcp_confident", number(0, hi=1)),
    ("sandbox", "kind", "sandbox_kind", choice("none", "bwrap")),
    ("sandbox", "program", "sandbox_program", string(non_empty=True)),
    ("sandbox", "network", "sandbox_network", boolean),
    ("sandbox", "home_allow", "sandbox_home_allow", strings),
    ("sandbox", "read_only", "sandbox_read_only", strings),
    ("sandbox", "hide", "sandbox_hide", strings),
    ("sandbox", "loopback_ports", "sandbox_loopback_ports", ports),
    ("executor", "kind", "executor_kind", choice("local", "ray")),
    ("executor", "address", "executor_address", ray_address),
    ("executor", "num_cpus", "executor_num_cpus", number(0)),
    ("executor", "resources", "executor_resources", resource_amounts),
    ("executor", "max_retries", "executor_max_retries", integer(0, 20)),
)
_BY_FIELD = {name: check for _section, _key, name, check in _FIELDS}
# Sub-tables parsed apart from _FIELDS; [workflows.NAME] are read by sources.workflows.
_TABLES = {"llm": {"prices"}, "mcp": {"stages"}, "workers": set(), "workflows": set()}
_SECTIONS = list(dict.fromkeys([s for s, *_ in _FIELDS] + list(_TABLES)))  # file order
# The sub-tables' keys, by the names docs/generate and config/snapshot read them under.
_WORKER_KEYS = subtables.WORKER_KEYS
_PRICE_KEYS = subtables.PRICE_KEYS


def parse_config(
    data: Mapping[str, Any], label: str = CONFIG_FILE, path: Path | None = None
) -> Config:
    """Build a Config from a parsed maestro.toml document; raises ConfigError listing problems."""
    reader = Reader(label)
    values: dict[str, Any] = {}
    for section in data:
        if section not in _SECTIONS:
            reader.bad(f"unknown section [{section}]", did_you_mean(section, _SECTIONS))
    tables = {s: reader.table(f"[{s}]", data.get(s, {})) for s in _SECTIONS}
    for section, table in tables.items():
        if section in ("workers", "workflows"):
            continue
        known = {k for s, k, *_ in _FIELDS if s == section} | _TABLES.get(section, set())
        reader.unknown(f"[{section}]", table, known)
        for s, key, name, check in _FIELDS:
            if s == section and key in table:
                values[name] = reader.check(f"[{section}]", key, check, table[key])
    prices = reader.table("[llm.prices]", tables["llm"].get("prices", {}))
    values["prices"] = subtables.read_prices(reader, prices)
    stages = reader.table("[mcp.stages]", tables["mcp"].get("stages", {}))
    values["mcp_stage_budgets"] = subtables.read_stage_budgets(reader, stages)
    values["workers"] = subtables.read_workers(reader, tables["workers"])
    values["workflow_tables"] = dict(tables["workflows"])
    if reader.problems:
        raise ConfigError(reader.problems)
    config = Config(path=path, **values)
    _cross_check(config, label)
    return config


def _cross_check(config: Config, label: str) -> None:
    if config.default_worker and config.default_worker not in config.workers:
        raise ConfigError(
            f"{label}: [run] default_worker '{config.default_worker}' is not a known worker"
            f"{did_you_mean(config.default_worker, config.workers)}; known workers: "
            + ", ".join(sorted(config.workers))
        )


def load_config(repo_root: Path, path: Path | None = None) -> Config:
    """Read `path`, or repo_root/maestro.toml when it exists, or use the defaults."""
    if path is None:
        candidate = repo_root / CONFIG_FILE
        if not candidate.is_file():
            return Config(path=None)
        path, label = candidate, CONFIG_FILE
    else:
        label = str(path)
        if not path.is_file():
            raise ConfigError(f"{label}: no such config file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:  # its message gives the line and column
        raise ConfigError(f"{label}: not valid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot read it: {exc}") from exc
    return parse_config(data, label=label, path=path)


def with_overrides(config: Config, **changes: Any) -> Config:
    """Return `config` with `changes` (Config field names) applied and validated like the file."""
    reader = Reader("command line")
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name in _BY_FIELD:
            values[name] = reader.check("", name, _BY_FIELD[name], value)
        elif name in ("path", "workers", "prices", "mcp_stage_budgets", "executor_resources"):
            values[name] = value
        else:
            reader.bad(f"unknown setting '{name}'", did_you_mean(name, _BY_FIELD))
    if reader.problems:
        raise ConfigError(reader.problems)
    updated = dataclasses.replace(config, **values)
    _cross_check(updated, "command line")
    return updated


def init_template(project: ProjectSetup | None = None) -> str:
    """A fully commented maestro.toml: every key at its default, with why it is there; with a
    detected `project`, its test command and [worktree] copy and setup, and why, on top."""
    text = resources.files("maestro_tui.config").joinpath("template.toml").read_text("utf-8")
    if project is None:
        return text.replace('"@TEST_COMMAND@"', json.dumps(DEFAULT_TEST_COMMAND))
    text = text.replace('"@TEST_COMMAND@"', json.dumps(project.test_command))
    for key, values in (("copy", project.copy), ("setup", project.setup)):
        # The [worktree] line at its default; the commented example below it stays.
        text = text.replace(f"\n{key} = []\n", f"\n{key} = {json.dumps(list(values))}\n", 1)
    notes = "".join(f"\n#   {note}" for note in project.notes)
    intro, rest = text.split("\n\n", 1)
    return f"{intro}\n\n# Detected by `maestro-tui init`: {project.toolchain}{notes}\n\n{rest}"
