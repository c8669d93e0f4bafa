"""The validators maestro.toml values and flags go through; each says what it would accept."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any


class Bad(Exception):
    """A value a validator refused; `allowed` says what would be accepted."""

    def __init__(self, allowed: str, show_value: bool = True) -> None:
        super().__init__(allowed)
        self.allowed = allowed
        self.show_value = show_value  # False for values that may be secrets


Check = Callable[[Any], Any]
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
WORKER_NAME = re.compile(r"[A-Za-z0-9_-]+")
NO_KEYS = "never write a key into maestro.toml; export it in an environment variable and"
KEY_PREFIXES = ("sk-", "sk_", "AIza", "ghp_", "gho_", "github_pat_", "xoxb-", "xoxp-", "glpat-")


def looks_like_secret(value: str) -> bool:
    """True for strings shaped like an API key or token rather than a variable name."""
    if value.startswith(KEY_PREFIXES):
        return True
    long_mixed = len(value) >= 24 and any(c.isdigit() for c in value)
    return long_mixed and not re.fullmatch(r"[A-Z0-9_]+", value)


def rule(ok: Callable[[Any], bool], allowed: str, convert: Check = lambda v: v) -> Check:
    def check(value: Any) -> Any:
        if not ok(value):
            raise Bad(f"must be {allowed}")
        return convert(value)

    return check


def is_number(value: Any, kinds: Any = (int, float)) -> bool:
    return isinstance(value, kinds) and not isinstance(value, bool)


def integer(lo: int, hi: int | None = None) -> Check:
    allowed = f"an integer from {lo} to {hi}" if hi is not None else f"an integer of at least {lo}"
    return rule(lambda v: is_number(v, int) and lo <= v <= (hi or v), allowed, int)


def number(lo: float, *, above: bool = False, hi: float | None = None) -> Check:
    allowed = f"a number {'greater than' if above else 'at least'} {lo:g}"
    allowed += f" and at most {hi:g}" if hi is not None else ""

    def ok(v: Any) -> bool:
        return is_number(v) and (v > lo if above else v >= lo) and (hi is None or v <= hi)

    return rule(ok, allowed, float)


boolean = rule(lambda v: isinstance(v, bool), "true or false")


def choice(*options: str) -> Check:
    return rule(lambda v: v in options, "one of " + ", ".join(repr(o) for o in options))


def subset(*options: str) -> Check:
    """A list whose every item is one of `options` (no repeats needed, order kept)."""
    allowed = "a list of " + ", ".join(repr(o) for o in options)

    def check(value: Any) -> tuple[str, ...]:
        items = strings(value) if value != [] else ()
        if any(v not in options for v in items):
            raise Bad(f"must be {allowed}")
        return tuple(dict.fromkeys(items))

    return check


def string(non_empty: bool = False) -> Check:
    allowed = "a non-empty string" if non_empty else "a string"
    return rule(lambda v: isinstance(v, str) and (bool(v.strip()) or not non_empty), allowed)


def strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise Bad("must be a list of non-empty strings")
    return tuple(value)


def ports(value: Any) -> tuple[int, ...]:
    """A list of TCP port numbers."""
    ok = isinstance(value, list | tuple) and all(is_number(v, int) and 0 < v < 65536 for v in value)
    if not ok:
        raise Bad("must be a list of port numbers (1-65535)")
    return tuple(value)


def env_names(value: Any) -> tuple[str, ...]:
    return tuple(env_name(name, "list the variable's name here") for name in strings(value))


def optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def command_line(value: Any) -> str:
    text: str = string()(value)
    try:
        shlex.split(text)
    except ValueError as exc:
        raise Bad(f"must be a command line with balanced quotes ({exc})") from None
    return text


def repo_path(value: Any) -> str:
    text: str = string(non_empty=True)(value)
    path = PurePosixPath(text)
    if path.is_absolute() or text.startswith("~") or ".." in path.parts:
        raise Bad("must be a path inside the repository, relative to its root")
    return text


def repo_paths(value: Any) -> tuple[str, ...]:
    """Paths (or globs) inside the repository, relative to its root."""
    return tuple(repo_path(v) for v in strings(value))


def command_lines(value: Any) -> tuple[str, ...]:
    """Command lines, each run without a shell."""
    return tuple(command_line(v) for v in strings(value))


def url(value: Any) -> str:
    text: str = string()(value)
    if not re.match(r"https?://[^\s/]+", text):
        raise Bad("must be an http:// or https:// URL")
    return text


def env_name(value: Any, fix: str = 'set api_key_env to its name, e.g. "OPENAI_API_KEY"') -> str:
    if isinstance(value, str) and looks_like_secret(value):
        raise Bad(
            f"looks like a key, not the name of an environment variable: {NO_KEYS} {fix}",
            show_value=False,
        )
    if not isinstance(value, str) or not ENV_NAME.fullmatch(value):
        raise Bad("must be the name of an environment variable (letters, digits, '_')")
    return value


def resource_amounts(value: Any) -> dict[str, float]:
    """A table of cluster resource names and amounts, e.g. { agent_clis = 1 }."""
    ok = isinstance(value, Mapping) and all(
        isinstance(k, str) and k.strip() and is_number(v) and v >= 0 for k, v in value.items()
    )
    if not ok:
        raise Bad(
            "must be a table of resource names and amounts of at least 0, e.g. {agent_clis = 1}"
        )
    return {k: float(v) for k, v in value.items()}


def ray_address(value: Any) -> str:
    """Where the Ray cluster is: "auto", "local", "ray://host:port" or "host:port"."""
    text: str = string(non_empty=True)(value)
    if text in ("auto", "local") or re.fullmatch(r"(ray://)?[^\s/:]+:\d{1,5}", text):
        return text
    raise Bad('must be "auto", "local", "ray://HOST:PORT" (Ray Client) or "HOST:PORT" (its GCS)')
