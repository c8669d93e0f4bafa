"""A coding CLI run read-only, its last answer JSON of a given schema: how a CLI plans.

The flags were measured with the installed versions (Claude Code 2.1.332, Codex 0.171.0,
Gemini CLI 0.61.0), each against a scripted model that tried to write, edit, run commands
that write, and leave its read-only mode:

- Claude Code: `--permission-mode plan` alone is not enough: a Bash command or a write the
  user's own settings allow (`permissions.allow`, e.g. `Bash(sed:*)`) still runs in plan mode
  (`sed -i` edited a file). So only its read tools exist in the session (`--tools
  Read,Grep,Glob`: a Write or Bash call is "No such tool available", whatever the settings),
  no MCP server of the user's config is started (`--strict-mcp-config`), in plan mode. The
  answer comes through `--json-schema`: its StructuredOutput tool, whose JSON is the result's
  text.
- Codex: `-s read-only`, its own sandbox (a patch is "rejected by read-only sandbox", a
  command gets EROFS); `exec` never asks for approval, so an escalated command is refused even
  with `approval_policy = "on-request"` in the user's config. `--output-schema FILE` makes the
  last message that JSON. Both still apply to `exec … resume ID PROMPT` given before `resume`.
- Gemini CLI: `--approval-mode plan` alone is not read-only headless: its `exit_plan_mode`
  tool is approved at once and switches to YOLO, after which it writes files and runs
  commands. So a policy at the admin tier (`--admin-policy FILE`, above any user policy that
  allows more) denies every tool but its read tools; the schema goes in the prompt, and the
  answer is validated by the caller.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

PLANNING_CLIS = ("claude", "codex", "gemini")  # the dialects that can plan read-only
SCHEMA_FILE = "answer-schema.json"
POLICY_FILE = "read-only-policy.toml"
CLAUDE_READ_TOOLS = "Read,Grep,Glob"
GEMINI_READ_TOOLS = (
    "read_file", "read_many_files", "list_directory", "glob", "grep_search",
    "search_file_content",  # grep_search's name in earlier versions
)  # fmt: skip
GEMINI_POLICY = f"""\
# maestro-tui: the planner reads, never writes (admin tier: above the user's own policies).
[[rule]]
toolName = "*"
decision = "deny"
priority = 998

[[rule]]
toolName = {json.dumps(list(GEMINI_READ_TOOLS))}
decision = "allow"
priority = 999
"""


def enforces_schema(cli: str) -> bool:
    """Does the CLI itself hold the model to the schema (else it goes in the prompt)?"""
    return cli in ("claude", "codex")


def read_only_argv(
    cli: str, argv: Sequence[str], folder: Path, schema: Mapping[str, Any]
) -> list[str]:
    """The worker's argv template (`{prompt}` and the rest kept), made read-only with a JSON
    answer of `schema`; the files those flags name are written in `folder`.

    What in the user's argv would give it back its write access is taken out: a permission
    mode or sandbox of its own, a bypass flag, its own MCP servers or tool list."""
    if cli == "claude":
        kept = _without(
            argv,
            valued={"--permission-mode", "--tools", "--json-schema"},
            bare={"--dangerously-skip-permissions", "--allow-dangerously-skip-permissions"},
            variadic={"--mcp-config"},
        )
        answer = json.dumps(schema, separators=(",", ":"))
        added = ["--permission-mode", "plan", "--tools", CLAUDE_READ_TOOLS, "--strict-mcp-config"]
        return [*kept, *added, "--json-schema", _literal(answer)]
    folder.mkdir(parents=True, exist_ok=True)
    if cli == "codex":
        kept = _without(
            argv,
            valued={"-s", "--sandbox", "--output-schema", "--add-dir"},
            bare={
                "--full-auto", "--yolo", "--approve-for-me",
                "--dangerously-bypass-approvals-and-sandbox",
            },
        )  # fmt: skip
        path = folder / SCHEMA_FILE
        path.write_text(json.dumps(strict_schema(schema), indent=1), encoding="utf-8")
        # Before the prompt: `exec … resume ID PROMPT` takes exec's flags before `resume`.
        return _before_prompt(kept, "-s", "read-only", "--output-schema", _literal(str(path)))
    if cli == "gemini":
        kept = _without(argv, valued={"--approval-mode"}, bare={"-y", "--yolo"})
        path = folder / POLICY_FILE
        path.write_text(GEMINI_POLICY, encoding="utf-8")
        return [*kept, "--approval-mode", "plan", "--admin-policy", _literal(str(path))]
    raise ValueError(f"{cli} cannot plan read-only: only {', '.join(PLANNING_CLIS)} can")


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """`schema` as OpenAI's strict structured outputs want it (Codex sends it so): every
    object closed (`additionalProperties: false`) with all its properties required."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if isinstance(value, Mapping):
            value = strict_schema(value) if key != "properties" else {
                name: strict_schema(sub) for name, sub in value.items()
            }  # fmt: skip
        out[key] = value
    if out.get("type") == "object":
        out["additionalProperties"] = False
        out["required"] = list(out.get("properties", {}))
    return out


def _without(
    argv: Sequence[str],
    *,
    valued: Collection[str] = (),
    bare: Collection[str] = (),
    variadic: Collection[str] = (),
) -> list[str]:
    """`argv` without the flags named: `valued` ones with their value (`--f v` or `--f=v`),
    `bare` ones alone, `variadic` ones with every value up to the next flag or placeholder."""
    kept: list[str] = []
    skip = 0
    dropping = False
    for arg in argv:
        if skip:
            skip -= 1
            continue
        if dropping and not arg.startswith("-") and "{" not in arg:
            continue
        dropping = False
        name = arg.split("=", 1)[0]
        if name in bare or (name in valued and "=" in arg):
            continue
        if name in valued:
            skip = 1
            continue
        if name in variadic:
            dropping = "=" not in arg
            continue
        kept.append(arg)
    return kept


def _before_prompt(argv: list[str], *args: str) -> list[str]:
    """`args` inserted before the argument that holds the prompt (else at the end)."""
    at = next((i for i, a in enumerate(argv) if "{prompt}" in a), len(argv))
    return [*argv[:at], *args, *argv[at:]]


def _literal(text: str) -> str:
    """`text` as an argv template argument: its braces are not placeholders."""
    return text.replace("{", "{{").replace("}", "}}")
