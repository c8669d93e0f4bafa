"""A coding CLI's argv made read-only with a JSON answer: what is added, what is taken out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.agents.command import expand, parse_template
from maestro_tui.agents.read_only import (
    CLAUDE_READ_TOOLS,
    POLICY_FILE,
    SCHEMA_FILE,
    read_only_argv,
    strict_schema,
)
from maestro_tui.config.presets import PRESETS

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "tasks": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "files": {"type": "array"}},
                "required": ["id"],
            },
        }
    },
    "required": ["tasks"],
}


def expanded(argv: list[str], prompt: str = "PLAN IT") -> list[str]:
    """The template as the worker runs it: braces of our own arguments are literal."""
    return expand(parse_template(argv, "planner"), {"prompt": prompt}, [])


def test_claude_runs_in_plan_mode_with_only_its_read_tools(tmp_path: Path) -> None:
    argv = expanded(read_only_argv("claude", PRESETS["claude"].argv, tmp_path, SCHEMA))

    assert argv[:3] == ["claude", "-p", "PLAN IT"]
    assert "acceptEdits" not in argv and argv.count("--permission-mode") == 1
    assert argv[argv.index("--permission-mode") + 1] == "plan"
    assert argv[argv.index("--tools") + 1] == CLAUDE_READ_TOOLS == "Read,Grep,Glob"
    assert "--strict-mcp-config" in argv and "--include-partial-messages" in argv
    assert json.loads(argv[argv.index("--json-schema") + 1]) == SCHEMA
    assert not list(tmp_path.iterdir())  # nothing to write: the schema is an argument


def test_claude_loses_a_users_bypass_mcp_servers_and_tool_list(tmp_path: Path) -> None:
    users = [
        "claude", "-p", "{prompt}", "--dangerously-skip-permissions", "--mcp-config", "a.json",
        "b.json", "--tools=Bash,Write", "--permission-mode=bypassPermissions", "--verbose",
    ]  # fmt: skip
    argv = expanded(read_only_argv("claude", users, tmp_path, SCHEMA))

    assert argv[:3] == ["claude", "-p", "PLAN IT"] and "--verbose" in argv
    for gone in ("--dangerously-skip-permissions", "a.json", "b.json", "--tools=Bash,Write"):
        assert gone not in argv
    assert not [a for a in argv if a.startswith("--permission-mode=")]


def test_codex_gets_its_read_only_sandbox_and_a_strict_schema_file(tmp_path: Path) -> None:
    users = [*PRESETS["codex"].argv]
    users[users.index("{prompt}") : users.index("{prompt}")] = ["--add-dir", "/elsewhere"]
    argv = expanded(read_only_argv("codex", users, tmp_path, SCHEMA))

    assert "workspace-write" not in argv and "/elsewhere" not in argv
    # Flags before the prompt: `exec … resume ID PROMPT` applies exec's flags given first.
    assert argv[-5:] == [
        "-s",
        "read-only",
        "--output-schema",
        str(tmp_path / SCHEMA_FILE),
        "PLAN IT",
    ]
    written = json.loads((tmp_path / SCHEMA_FILE).read_text())
    assert written == strict_schema(SCHEMA)


def test_a_strict_schema_closes_every_object_and_requires_all_it_names() -> None:
    strict = strict_schema(SCHEMA)
    item = strict["properties"]["tasks"]["items"]
    assert strict["additionalProperties"] is False and strict["required"] == ["tasks"]
    assert item["additionalProperties"] is False and item["required"] == ["id", "files"]
    assert SCHEMA["properties"]["tasks"]["items"]["required"] == ["id"]  # left as it was


def test_gemini_plans_under_an_admin_policy_that_allows_only_reading(tmp_path: Path) -> None:
    argv = expanded(read_only_argv("gemini", PRESETS["gemini"].argv, tmp_path, SCHEMA))

    assert "--yolo" not in argv
    assert argv[argv.index("--approval-mode") + 1] == "plan"
    policy = tmp_path / POLICY_FILE
    assert argv[argv.index("--admin-policy") + 1] == str(policy)
    text = policy.read_text()
    assert 'toolName = "*"\ndecision = "deny"' in text
    assert '"read_file"' in text and "write_file" not in text and "exit_plan_mode" not in text


def test_aider_cannot_plan_read_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="aider cannot plan"):
        read_only_argv("aider", PRESETS["aider"].argv, tmp_path, SCHEMA)
