"""The presets drive each CLI headless, pass only its key variables, and have an install hint."""

from __future__ import annotations

import pytest

from maestro_tui.config.presets import INSTALL_HINTS, PRESETS, install_hint

COMMAND_PRESETS = ("claude", "codex", "aider", "gemini")


@pytest.mark.parametrize(
    ("name", "headless", "key"),
    [
        ("claude", ("-p", "{prompt}", "--permission-mode", "acceptEdits"), "ANTHROPIC_API_KEY"),
        ("codex", ("exec", "--full-auto", "{prompt}"), "OPENAI_API_KEY"),
        ("aider", ("--message", "{prompt}"), "OPENAI_API_KEY"),
        ("gemini", ("-p", "{prompt}", "--approval-mode", "yolo"), "GEMINI_API_KEY"),
    ],
)
def test_each_cli_preset_runs_headless_with_its_key(
    name: str, headless: tuple[str, ...], key: str
) -> None:
    spec = PRESETS[name]
    assert (spec.name, spec.kind, spec.argv[0]) == (name, "command", name)
    argv = list(spec.argv)
    start = argv.index(headless[0])
    assert tuple(argv[start : start + len(headless)]) == headless
    assert key in spec.pass_env
    assert all(var.isupper() for var in spec.pass_env)


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
