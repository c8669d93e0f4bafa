"""Role prompts for LLM workers, and plugin roles from the `maestro_tui.roles` entry points."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points

ENTRY_POINT_GROUP = "maestro_tui.roles"

_COMMON = (
    "You work on one small task of a larger plan, in your own copy of a git repository. "
    "Other agents handle the other tasks: change only what your task needs, keep the "
    "project's style, and leave the code better tested than you found it."
)

ROLE_PROMPTS: dict[str, str] = {
    "coder": (
        "You are a careful software engineer implementing one feature or fix. Read the code you "
        "change, make the smallest complete change, and run the tests before you finish. " + _COMMON
    ),
    "tester": (
        "You are a test engineer. Write focused, deterministic tests for the behaviour named in "
        "the task, covering edge cases and boundaries; do not change the code under test. "
        + _COMMON
    ),
    "doc_writer": (
        "You are a technical writer. Write clear, accurate documentation and docstrings for "
        "the code as it is; check every example against the code. " + _COMMON
    ),
    "refactorer": (
        "You are a refactoring specialist. Improve structure, names and type hints without "
        "changing behaviour; the existing tests must still pass unchanged. " + _COMMON
    ),
    "reviewer": (
        "You are a code reviewer. Read the changes, run the tests, and publish concrete "
        "findings (bugs, risks, missing tests) with publish_finding; change code only to fix a "
        "clear bug. " + _COMMON
    ),
    "critic": (
        "You are a critic comparing approaches. Judge the work against the task's goal and "
        "publish a short verdict with reasons through publish_finding. " + _COMMON
    ),
}


class RoleError(Exception):
    """A role plugin that cannot be loaded; the message names the entry point."""


def load_roles(extra: Callable[[], list[EntryPoint]] | None = None) -> dict[str, str]:
    """ROLE_PROMPTS plus the roles that installed plugins declare.

    A plugin is an entry point in the `maestro_tui.roles` group whose name is the role and
    whose object is the prompt (a string, or a callable returning one).
    """
    roles = dict(ROLE_PROMPTS)
    found = extra() if extra else list(entry_points(group=ENTRY_POINT_GROUP))
    for ep in found:
        where = f"role plugin '{ep.name}' ({ep.value}) in entry-point group {ENTRY_POINT_GROUP}"
        try:
            obj = ep.load()
            prompt = obj() if callable(obj) else obj
        except Exception as exc:
            raise RoleError(f"{where} failed to load: {type(exc).__name__}: {exc}") from exc
        if not isinstance(prompt, str) or not prompt.strip():
            raise RoleError(
                f"{where} must be a non-empty prompt string, got {type(prompt).__name__}"
            )
        roles[ep.name] = prompt
    return roles


def role_summaries(roles: dict[str, str]) -> str:
    """One line per role (its first sentence), for the planner's prompt."""
    lines = []
    for name, prompt in roles.items():
        first = prompt.split(". ")[0].rstrip(".")
        lines.append(f"- {name}: {first}.")
    return "\n".join(lines)


# What a model naturally writes for a built-in role, after role_key: "docs", "Testing"…
ALIASES: dict[str, str] = {
    **dict.fromkeys(("doc", "docs", "documentation", "documenter", "writer"), "doc_writer"),
    **dict.fromkeys(("technical_writer", "tech_writer", "docs_writer"), "doc_writer"),
    **dict.fromkeys(("test", "tests", "testing", "test_writer", "qa"), "tester"),
    **dict.fromkeys(("code", "coding", "developer", "engineer", "implementer"), "coder"),
    **dict.fromkeys(("programmer", "software_engineer", "implementation"), "coder"),
    **dict.fromkeys(("refactor", "refactoring"), "refactorer"),
    **dict.fromkeys(("review", "code_reviewer", "code_review"), "reviewer"),
    **dict.fromkeys(("critique", "judge"), "critic"),
}


def role_key(text: str) -> str:
    """A role as compared: lower case, words joined by "_" ("Doc-Writer", "doc writer")."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def normalize_role(written: str, roles: Iterable[str]) -> str | None:
    """The known role a model meant by `written` ("doc writer", "Doc-Writer", "docs" mean
    doc_writer; "Testers" means tester), or None for a role that is not known."""
    known = {role_key(role): role for role in roles}
    key = role_key(written)
    for guess in (key, key.removesuffix("s"), ALIASES.get(key, "")):
        if guess in known:
            return known[guess]
    return None
