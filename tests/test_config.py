"""maestro.toml: defaults, a full file, every kind of bad value and the template round trip."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.config import (
    Config,
    ConfigError,
    WorkerSpec,
    init_template,
    load_config,
    parse_config,
    with_overrides,
)
from maestro_tui.config.detect import ProjectSetup, detect_project
from maestro_tui.config.presets import PRESETS
from tests.test_detect import LAYOUTS, build

FULL = """
[run]
max_agents = 8
task_timeout_s = 900
retries = 3
retry_backoff_s = 1.5
exclude = [".env", "*.pem"]
standards_file = "CONTRIBUTING.md"
default_worker = "claude"

[tests]
command = "python -m pytest -q -x"
timeout_s = 120

[merge]
policy = "review"
max_diff_lines = 200
max_diff_files = 10

[llm]
model = "openai/gpt-4o-mini"
planner_model = "anthropic/claude-sonnet-4"
api_base = "http://localhost:8000/v1"
api_key_env = "OPENAI_API_KEY"
max_turns = 12
allowed_commands = ["python", "make"]

[llm.prices."openai/gpt-4o-mini"]
input_per_mtok = 0.15
output_per_mtok = 0.6

[budget]
usd = 2.5
tokens = 1000000
on_exceeded = "cancel"

[workers.claude]
timeout_s = 600
model = "claude-sonnet-4"

[workers.echo]
argv = ["echo", "{prompt}"]
env = { QUIET = "1" }
pass_env = ["MY_TOKEN"]
"""


def write(root: Path, text: str) -> Path:
    path = root / "maestro.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(root: Path, text: str) -> str:
    write(root, text)
    with pytest.raises(ConfigError) as caught:
        load_config(root)
    return str(caught.value)


def test_no_file_gives_the_defaults_and_the_presets(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config == Config(path=None)
    assert config.path is None
    assert (config.max_agents, config.test_command, config.merge_policy) == (4, "", "auto")
    # Nothing names a model: the offline demo is never taken for one (it knows only its repo).
    assert (config.default_worker, config.model, config.effective_planner_model) == ("", "", "")
    assert config.task_worker == "llm"
    assert set(config.workers) >= {"demo", "llm", "claude", "codex", "aider", "gemini"}


def test_the_tasks_worker_follows_what_is_named() -> None:
    assert Config(model="gpt-4o", planner="claude").task_worker == "llm"
    assert Config(planner="claude").task_worker == "claude"  # no model: the CLI that plans
    assert Config(planner="ollama/qwen").task_worker == "llm"  # a model planner: no CLI
    assert Config(default_worker="demo", planner="codex").task_worker == "demo"


def test_a_full_file_sets_every_key(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    config = load_config(tmp_path)
    assert config.path == path
    assert (config.max_agents, config.task_timeout_s, config.retries) == (8, 900.0, 3)
    assert config.retry_backoff_s == 1.5
    assert config.exclude == (".env", "*.pem")
    assert config.standards_file == "CONTRIBUTING.md"
    assert config.default_worker == "claude"
    assert (config.test_command, config.test_timeout_s) == ("python -m pytest -q -x", 120.0)
    assert (config.merge_policy, config.max_diff_lines, config.max_diff_files) == (
        "review",
        200,
        10,
    )
    assert config.model == "openai/gpt-4o-mini"
    assert config.effective_planner_model == "anthropic/claude-sonnet-4"
    assert config.api_base == "http://localhost:8000/v1"
    assert config.api_key_env == "OPENAI_API_KEY"
    assert config.max_turns == 12
    assert config.allowed_commands == ("python", "make")
    assert config.prices == {"openai/gpt-4o-mini": (0.15, 0.6)}
    assert (config.budget_usd, config.budget_tokens) == (2.5, 1_000_000)
    assert config.on_budget_exceeded == "cancel"


def test_a_workers_table_changes_only_the_preset_fields_it_names(tmp_path: Path) -> None:
    write(tmp_path, FULL)
    workers = load_config(tmp_path).workers
    assert workers["claude"].argv == PRESETS["claude"].argv
    assert workers["claude"].pass_env == PRESETS["claude"].pass_env
    assert (workers["claude"].timeout_s, workers["claude"].model) == (600.0, "claude-sonnet-4")
    assert workers["echo"] == WorkerSpec(
        name="echo", argv=("echo", "{prompt}"), env={"QUIET": "1"}, pass_env=("MY_TOKEN",)
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[run]\nmax_agents = "lots"',
            "maestro.toml: [run] max_agents must be an integer from 1 to 256, got 'lots'",
        ),
        ("[run]\nmax_agents = 257", "[run] max_agents must be an integer from 1 to 256, got 257"),
        ("[run]\nretries = true", "[run] retries must be an integer from 0 to 20, got True"),
        ("[run]\ntask_timeout_s = 0", "[run] task_timeout_s must be a number greater than 0"),
        (
            "[run]\nretry_backoff_s = 90",
            "retry_backoff_s must be a number at least 0 and at most 60",
        ),
        ('[run]\nexclude = ".env"', "[run] exclude must be a list of non-empty strings"),
        (
            '[run]\nstandards_file = "../x.md"',
            "[run] standards_file must be a path inside the repository",
        ),
        ("[run]\ndefault_worker = 3", "[run] default_worker must be a string, got 3"),
        (
            '[run]\ndefault_worker = "claud"',
            "[run] default_worker 'claud' is not a known worker (did you mean 'claude'?)",
        ),
        ('[tests]\ncommand = "pytest -k \'open"', "[tests] command must be a command line"),
        ("[tests]\ntimeout_s = -1", "[tests] timeout_s must be a number greater than 0, got -1"),
        (
            '[merge]\npolicy = "yolo"',
            "[merge] policy must be one of 'auto', 'review', got 'yolo'",
        ),
        ("[merge]\nmax_diff_lines = -5", "[merge] max_diff_lines must be an integer of at least 0"),
        ("[llm]\nmodel = 5", "[llm] model must be a string, got 5"),
        ('[llm]\napi_base = "localhost:8000"', "[llm] api_base must be an http:// or https:// URL"),
        ('[llm]\napi_key_env = "MY KEY"', "[llm] api_key_env must be the name of an environment"),
        ("[llm]\nmax_turns = 0", "[llm] max_turns must be an integer from 1 to 1000, got 0"),
        ("[llm]\nallowed_commands = [1]", "[llm] allowed_commands must be a list of non-empty"),
        (
            '[llm.prices."m"]\ninput_per_mtok = 1',
            '[llm.prices."m"] needs output_per_mtok (USD per million tokens)',
        ),
        (
            '[llm.prices."m"]\ninput_per_mtok = -1\noutput_per_mtok = 1',
            '[llm.prices."m"] input_per_mtok must be a number at least 0, got -1',
        ),
        ("[budget]\nusd = 0", "[budget] usd must be a number greater than 0, got 0"),
        ("[budget]\ntokens = 1.5", "[budget] tokens must be an integer of at least 1, got 1.5"),
        (
            '[budget]\non_exceeded = "panic"',
            "[budget] on_exceeded must be one of 'finish', 'cancel', got 'panic'",
        ),
        ("run = 3", "maestro.toml: [run] must be a table, got 3"),
        ('[workers.x]\nargv = "x {prompt}"', "[workers.x] argv must be a list of non-empty"),
        ('[workers.x]\nmodel = "m"', "[workers.x] needs argv, the command to run"),
        ('[workers.x]\nargv = ["x"]\npass_env = ["A-B"]', "[workers.x] pass_env must be the name"),
        ('[workers.x]\nargv = ["x"]\ntimeout_s = "1h"', "[workers.x] timeout_s must be a number"),
        ('[workers.x]\nargv = ["x"]\nenv = { N = 1 }', "[workers.x] env.N must be a string, got 1"),
        ('[workers."a b"]\nargv = ["x"]', "[workers.a b] name may hold only letters, digits"),
        ('[executor]\nkind = "k8s"', "[executor] kind must be one of 'local', 'ray', got 'k8s'"),
        ('[executor]\naddress = "http://head"', '[executor] address must be "auto", "local"'),
        ("[executor]\nnum_cpus = -1", "[executor] num_cpus must be a number at least 0"),
        ('[executor]\nresources = { gpu = "one" }', "[executor] resources must be a table"),
        ('[workers.x]\nargv = ["x"]\nresources = [1]', "[workers.x] resources must be a table"),
    ],
)
def test_each_bad_value_names_the_key_and_what_is_allowed(
    tmp_path: Path, text: str, message: str
) -> None:
    assert message in problems(tmp_path, text)


def test_unknown_keys_and_sections_suggest_the_close_name(tmp_path: Path) -> None:
    found = problems(tmp_path, "[run]\nmax_agent = 3\n[merj]\npolicy = 'auto'\n")
    assert "maestro.toml: unknown key 'max_agent' in [run] (did you mean 'max_agents'?)" in found
    assert "maestro.toml: unknown section [merj] (did you mean 'merge'?)" in found
    found = problems(tmp_path, "[workers.x]\nargv = ['x']\narg = 1\n")
    assert "unknown key 'arg' in [workers.x] (did you mean 'argv'?)" in found
    assert "unknown key 'zzz' in [run]" in problems(tmp_path, "[run]\nzzz = 1")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        write(tmp_path, '[run]\nmax_agents = 0\nretries = -1\n[merge]\npolicy = "x"\n')
        load_config(tmp_path)
    assert len(caught.value.problems) == 3


def test_invalid_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "[run]\nmax_agents = 4\nretries = = 2\n")
    assert found.startswith("maestro.toml: not valid TOML")
    assert "line 3" in found


def test_an_explicit_path_is_read_and_a_missing_one_is_an_error(tmp_path: Path) -> None:
    other = tmp_path / "ci.toml"
    other.write_text("[run]\nmax_agents = 2\n", encoding="utf-8")
    assert load_config(tmp_path, other).max_agents == 2
    with pytest.raises(ConfigError, match="nope.toml: no such config file"):
        load_config(tmp_path, tmp_path / "nope.toml")
    other.write_text("[run]\nmax_agents = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ci.toml: \\[run\\] max_agents"):
        load_config(tmp_path, other)


def test_an_api_key_in_the_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    key = "sk-proj-abcdefghijklmnopqrstuvwx0123456789"
    found = problems(tmp_path, f'[llm]\napi_key = "{key}"\n')
    assert "[llm] api_key is not allowed" in found and "api_key_env" in found
    assert key not in found
    found = problems(tmp_path, f'[llm]\napi_key_env = "{key}"\n')
    assert "[llm] api_key_env looks like a key" in found and key not in found
    found = problems(tmp_path, '[llm]\napi_key_env = "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv"\n')
    assert "looks like a key" in found
    found = problems(tmp_path, f'[workers.x]\nargv = ["x"]\nenv = {{ TOKEN = "{key}" }}\n')
    assert "[workers.x] env.TOKEN looks like a key" in found and "pass_env" in found
    assert key not in found


def test_the_template_loads_to_the_defaults(tmp_path: Path) -> None:
    write(tmp_path, init_template(ProjectSetup("python", test_command="")))
    loaded = load_config(tmp_path)
    assert loaded == Config(path=tmp_path / "maestro.toml")


@pytest.mark.parametrize("toolchain", sorted(LAYOUTS))
def test_the_template_of_every_detected_toolchain_loads(tmp_path: Path, toolchain: str) -> None:
    files = {**LAYOUTS[toolchain], ".env": "X=1\n", ".env.production": "SECRET=1\n"}
    project = detect_project(build(tmp_path, files))
    assert project.toolchain == toolchain
    text = init_template(project)
    write(tmp_path, text)
    loaded = load_config(tmp_path)
    assert loaded.test_command == project.test_command
    assert (loaded.worktree_copy, loaded.worktree_setup) == (project.copy, project.setup)
    assert loaded.worktree_copy == (".env",)
    reset: dict[str, Any] = {
        "path": None,
        "test_command": "",
        "worktree_copy": (),
        "worktree_setup": (),
    }
    assert dataclasses.replace(loaded, **reset) == Config()  # the rest stays at its default
    # Why, on top, as comments; the commented examples stay below the detected lines.
    head = text.split("\n[run]\n", 1)[0]
    assert f"# Detected by `maestro-tui init`: {toolchain}\n" in head
    assert all(f"#   {note}\n" in head for note in project.notes)
    assert '# copy = [".env", ".env.local"]' in text and "# setup = [" in text


def test_the_template_without_a_project_has_no_detected_block() -> None:
    text = init_template()
    assert "Detected" not in text
    assert "\ncopy = []\n" in text and "\nsetup = []\n" in text


def test_detected_values_are_quoted_as_toml_strings() -> None:
    odd = ProjectSetup("make", 'make test ARGS="-k \\"x\\""', copy=('.env "1"',), setup=("a\tb",))
    config = parse_config(tomllib.loads(init_template(odd)))
    assert config.test_command == odd.test_command
    assert (config.worktree_copy, config.worktree_setup) == (odd.copy, odd.setup)


def test_the_init_template_sets_a_test_command_and_covers_every_key() -> None:
    text = init_template()
    config = parse_config(tomllib.loads(text))
    assert config.test_command == "python -m pytest -q"
    assert with_overrides(config, test_command="") == Config(path=None)
    keys = [
        "max_agents", "task_timeout_s", "retries", "retry_backoff_s", "exclude",
        "standards_file", "default_worker", "command", "timeout_s", "policy", "max_diff_lines",
        "max_diff_files", "model", "planner_model", "api_base", "api_key_env", "max_turns",
        "allowed_commands", "input_per_mtok", "output_per_mtok", "usd", "tokens", "on_exceeded",
        "kind", "argv", "env", "pass_env", "budget_usd", "ensemble_models", "ensemble_n",
        "context_tokens", "confident", "consults", "ensembles",
    ]  # fmt: skip
    for key in keys:
        assert f"{key} = " in text, key
    sections = ("[run]", "[tests]", "[merge]", "[llm]", "[llm.prices.", "[budget]", "[mcp]")
    for section in (*sections, "[mcp.stages.", "[workers"):
        assert section in text


def test_overrides_win_and_are_validated_like_the_file() -> None:
    config = with_overrides(Config(), max_agents=12, merge_policy="review", budget_usd=None)
    assert (config.max_agents, config.merge_policy) == (12, "review")
    with pytest.raises(ConfigError) as caught:
        with_overrides(config, max_agents=0, retries="x")
    assert caught.value.problems == [
        "command line: max_agents must be an integer from 1 to 256, got 0",
        "command line: retries must be an integer from 0 to 20, got 'x'",
    ]
    with pytest.raises(ConfigError, match="unknown setting 'max_agent' .did you mean 'max_agents'"):
        with_overrides(config, max_agent=3)
    with pytest.raises(ConfigError, match="default_worker 'nobody' is not a known worker"):
        with_overrides(config, default_worker="nobody")
    assert with_overrides(config, default_worker="codex").default_worker == "codex"


def test_the_mcp_section_and_its_stage_budgets(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[mcp]
budget_usd = 0.5
model = "openai/gpt-4o-mini"
ensemble_models = ["openai/gpt-4o-mini", "gemini/gemini-2.5-flash"]
context_tokens = 4000
confident = 0.6

[mcp.stages.debug]
consults = 3
""",
    )
    config = load_config(tmp_path)
    assert (config.mcp_budget_usd, config.mcp_model, config.mcp_context_tokens) == (
        0.5,
        "openai/gpt-4o-mini",
        4000,
    )
    assert config.mcp_ensemble_models == ("openai/gpt-4o-mini", "gemini/gemini-2.5-flash")
    assert config.mcp_stage_budgets == {"debug": (3, 0)}  # ensembles: the rule's own 0
    found = problems(
        tmp_path,
        """
[mcp]
budget_usd = 0
ensemble_n = 99

[mcp.stages.analyse]
consults = 1

[mcp.stages.improve]
consults = -1
ensemble = 2
""",
    )
    assert "[mcp] budget_usd must be a number greater than 0, got 0" in found
    assert "[mcp] ensemble_n must be an integer from 1 to 8, got 99" in found
    assert "[mcp.stages.analyse] is not a stage" in found and "did you mean 'analyze'" in found
    assert "[mcp.stages.improve] consults must be an integer from 0 to 50, got -1" in found
    assert "unknown key 'ensemble' in [mcp.stages.improve] (did you mean 'ensembles'?)" in found


def test_the_executor_section_and_a_workers_resources_are_read(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[executor]\nkind = "ray"\naddress = "ray://head:10001"\nnum_cpus = 2\n'
        "resources = { agent_clis = 1 }\nmax_retries = 1\n"
        "[workers.claude]\nresources = { agent_clis = 1, gpu = 0.5 }\n",
    )
    config = load_config(tmp_path)
    assert (config.executor_kind, config.executor_address) == ("ray", "ray://head:10001")
    assert (config.executor_num_cpus, config.executor_max_retries) == (2.0, 1)
    assert config.executor_resources == {"agent_clis": 1.0}
    assert config.workers["claude"].resources == {"agent_clis": 1.0, "gpu": 0.5}
    assert load_config(tmp_path / "nowhere").executor_kind == "local"  # the default


def test_the_sandbox_section_and_a_workers_home_allow(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[sandbox]
kind = "bwrap"
network = false
home_allow = [".npmrc"]
read_only = ["~/.pyenv"]
loopback_ports = [11434]

[workers.claude]
home_allow = [".claude"]
""",
    )
    config = load_config(tmp_path)
    assert (config.sandbox_kind, config.sandbox_network) == ("bwrap", False)
    assert config.sandbox_home_allow == (".npmrc",)
    assert config.sandbox_read_only == ("~/.pyenv",)
    assert config.sandbox_loopback_ports == (11434,)
    assert "/run/user" in config.sandbox_hide  # the default kept
    assert config.workers["claude"].home_allow == (".claude",)
    assert config.workers["codex"].home_allow == (".codex",)  # a preset's own
    assert Config().sandbox_kind == "none"
    write(tmp_path, '[sandbox]\nkind = "docker"\nnetwork = "off"\nloopback_ports = [0]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.problems == [
        "maestro.toml: [sandbox] kind must be one of 'none', 'bwrap', got 'docker'",
        "maestro.toml: [sandbox] network must be true or false, got 'off'",
        "maestro.toml: [sandbox] loopback_ports must be a list of port numbers (1-65535), got [0]",
    ]


def test_a_planner_that_is_not_a_worker_is_the_litellm_planner_model() -> None:
    from maestro_tui.config import Config

    replace = dataclasses.replace
    assert replace(Config(), planner="openai/gpt-4o").effective_planner_model == "openai/gpt-4o"
    claude = replace(Config(), planner="claude", model="m", planner_model="p")
    assert claude.effective_planner_model == "p"
    assert replace(Config(), model="m").effective_planner_model == "m"
