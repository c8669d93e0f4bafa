"""What a command is (its name, help, arguments and handler) and what several commands share:
their common flags, the history file, the printed output, the terminal."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maestro_tui.session.outcome import EXIT_BAD_INPUT

# A command's handler: the parsed command line in, the exit code out (run in the CLI's loop).
Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


@dataclass(frozen=True)
class Command:
    """One `maestro-tui COMMAND`: its arguments and the handler they are parsed for."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    handler: Handler
    description: str | None = None

    def add_to(self, sub: Any) -> None:
        """Its sub-parser, in `sub` (argparse's sub-parsers action), bound to its handler."""
        p = sub.add_parser(self.name, help=self.help, description=self.description)
        self.arguments(p)
        p.set_defaults(handler=self.handler)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"maestro-tui: error: {message}", file=sys.stderr)
    return code


# --- flags several commands share -------------------------------------------------------------


def db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, help="SQLite file of run history (default: user data dir)")


def executor_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        help="where attempts run: worktrees here, or a Ray cluster ([executor] in maestro.toml)",
    )


def output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON event per line (for CI)")
    p.add_argument("--quiet", action="store_true", help="hide agents' output lines")


def model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", help="litellm model for the workers and the planner ([llm] model; no default)"
    )
    p.add_argument("--planner-model", help="model that plans (default: --model)")
    p.add_argument(
        "--planner",
        metavar="WHO",
        help="who plans: claude, codex or gemini (that CLI, read-only, on its own login)"
        " or a litellm model ([llm] planner)",
    )
    p.add_argument(
        "--overlaps",
        choices=("serialize", "parallel"),
        help="tasks that name a common file: one after the other, or at once ([plan] overlaps)",
    )
    p.add_argument("--api-base", help="OpenAI-compatible server, e.g. http://localhost:11434")


def foreground_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--foreground",
        action="store_true",
        help="drive the run in this process (in a terminal, it otherwise runs in the"
        " background and the dashboard attaches to it; closing the terminal then stops it)",
    )


def budget_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget-usd", type=float, help="stop starting tasks once this is spent")
    p.add_argument("--budget-tokens", type=int, help="stop starting tasks after this many tokens")


# --- what those flags mean --------------------------------------------------------------------


def db_path(args: argparse.Namespace) -> Path:
    """The history file: --db, else $MAESTRO_TUI_DB, else the user data dir's."""
    from maestro_tui.store.db import default_db_path

    return (args.db or default_db_path()).expanduser()


def output(args: argparse.Namespace) -> Any:
    """How a headless command prints: lines for a person, or JSON with --json."""
    from maestro_tui.headless.printer import Output

    return Output(
        as_json=getattr(args, "json", False), show_output=not getattr(args, "quiet", False)
    )


def detached(args: argparse.Namespace) -> bool:
    """In the TUI, the run's engine in a process of its own unless --foreground."""
    return not getattr(args, "foreground", False)


def wants_tui(args: argparse.Namespace) -> bool:
    """The TUI, not printed lines: no --headless (a command without it prints) and a terminal."""
    return not getattr(args, "headless", True) and on_a_terminal()


def on_a_terminal() -> bool:
    """A terminal to draw the TUI on: a real one, or a browser's through `maestro-tui serve`
    (textual-serve runs each app over pipes, and names its web driver)."""
    if os.environ.get("TEXTUAL_DRIVER", "").endswith(":WebDriver"):
        return True
    return sys.stdout.isatty() and sys.stdin.isatty()


def red_base_question(tui: bool) -> Callable[[Any], bool] | None:
    """In a terminal, a base whose own tests fail is asked about; else refused unless allowed."""
    return _ask_red_base if tui and sys.stdin.isatty() else None


def _ask_red_base(found: Any) -> bool:
    try:
        answer = input("The base's tests fail before any change. Run anyway? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")
