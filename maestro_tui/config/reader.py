"""The reader of a settings file: it collects every problem, each naming its key and what is
allowed, so the user fixes them all in one go."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from maestro_tui.config.checks import NO_KEYS, Bad, Check


def did_you_mean(name: str, options: Any) -> str:
    """The hint " (did you mean 'X'?)" naming the option closest to `name`; "" when none is."""
    close = difflib.get_close_matches(name, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Reader:
    """Collects every problem of one file, so the user fixes them all in one go."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.problems: list[str] = []

    def bad(self, where: str, message: str = "") -> None:
        self.problems.append(f"{self.label}: " + " ".join(p for p in (where, message.strip()) if p))

    def check(self, where: str, key: str, check: Check, value: Any) -> Any:
        try:
            return check(value)
        except Bad as exc:
            got = f", got {value!r}" if exc.show_value else ""
            self.bad(f"{where} {key}".strip(), exc.allowed + got)
            return None

    def unknown(self, where: str, table: Mapping[str, Any], known: Any) -> None:
        for key in (k for k in table if k not in known):
            if where == "[llm]" and key in ("api_key", "key", "token"):
                self.bad(f"[llm] {key}", f"is not allowed: {NO_KEYS} set api_key_env to its name")
            else:
                self.bad(f"unknown key '{key}' in {where}", did_you_mean(key, known))

    def table(self, where: str, value: Any) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        self.bad(where, f"must be a table, got {value!r}")
        return {}
