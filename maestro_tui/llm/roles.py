"""Role prompts for LLM workers, and plugin roles from the `maestro_tui.roles` entry points."""

from __future__ import annotations

from collections.abc import Callable
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
