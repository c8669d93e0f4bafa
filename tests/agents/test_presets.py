"""The presets drive each CLI headless in its structured output mode, pass only the variables
it reads (keys, base URLs, model, opt-outs), and have an install hint."""

from __future__ import annotations

import pytest

from maestro_tui.config.checks import ENV_NAME
from maestro_tui.config.presets import INSTALL_HINTS, PRESETS, install_hint

COMMAND_PRESETS = ("claude", "codex", "aider", "gemini")


@pytest.mark.parametrize(
    ("name", "headless", "variables"),
    [
        (
            "claude",
            ("-p", "{prompt}", "--output-format", "stream-json", "--verbose"),
            ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL", "DISABLE_TELEMETRY"),
        ),
        (
            "codex",
            ("exec", "--json", "-s", "workspace-write", "--skip-git-repo-check"),
            ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CODEX_HOME"),
        ),
        ("aider", ("--message", "{prompt}"), ("OPENAI_API_KEY", "OPENAI_API_BASE", "AIDER_MODEL")),
        (
            "gemini",
            ("-p", "{prompt}", "-o", "stream-json", "--yolo"),
            ("GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GEMINI_MODEL"),
        ),
    ],
)
def test_each_cli_preset_runs_headless_in_its_structured_mode(
    name: str, headless: tuple[str, ...], variables: tuple[str, ...]
) -> None:
    spec = PRESETS[name]
    assert (spec.name, spec.kind, spec.argv[0], spec.parser) == (name, "command", name, name)
    argv = list(spec.argv)
    start = argv.index(headless[0])
    assert tuple(argv[start : start + len(headless)]) == headless
    assert set(variables) <= set(spec.pass_env)  # keys, base URLs, the model, opt-outs
    assert all(ENV_NAME.fullmatch(var) for var in spec.pass_env)
    assert "--full-auto" not in argv  # current Codex refuses it


def test_aider_gets_the_task_files_as_separate_arguments() -> None:
    assert PRESETS["aider"].argv[-1] == "{files}"
    # It must not prompt, and must not commit: the run commits with its own trailers.
    assert {"--yes-always", "--no-auto-commits"} <= set(PRESETS["aider"].argv)
    assert {"ANTHROPIC_API_KEY", "GEMINI_API_KEY"} <= set(PRESETS["aider"].pass_env)


def test_gemini_reads_either_google_key() -> None:
    assert {"GEMINI_API_KEY", "GOOGLE_API_KEY"} <= set(PRESETS["gemini"].pass_env)


def test_the_builtin_workers_are_listed_for_the_llm_layer() -> None:
    assert (PRESETS["demo"].kind, PRESETS["demo"].model) == ("demo", "demo")
    assert PRESETS["llm"].kind == "llm"


def test_install_hints_cover_every_cli_and_fall_back() -> None:
    assert set(INSTALL_HINTS) == set(COMMAND_PRESETS)
    assert install_hint("/usr/local/bin/claude") == INSTALL_HINTS["claude"]
    assert install_hint("my-agent") == "install 'my-agent'"
