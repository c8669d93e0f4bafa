"""The CLI reference, written from the argparse parser the program itself parses with."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Where a function returning the full parser may live; the first one found is used.
PARSER_HOMES = ("maestro_tui.cli.parser", "maestro_tui.cli")
USAGE_WIDTH = 90


def full_parser() -> argparse.ArgumentParser:
    """The parser `maestro-tui` itself uses, with every command."""
    for home in PARSER_HOMES:
        try:
            module = importlib.import_module(home)
        except ImportError:
            continue
        build = getattr(module, "build_parser", None)
        if callable(build):
            parser = build()
            assert isinstance(parser, argparse.ArgumentParser)
            return parser
    raise RuntimeError(f"no build_parser() in {', '.join(PARSER_HOMES)}: update PARSER_HOMES")


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[Any] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """Every command as (its words, its parser, its one-line help), nested ones included."""
    found = _subcommands(parser)
    if found is None:
        return
    expand = argparse.HelpFormatter(parser.prog)._expand_help
    helps = {c.dest: expand(c) if c.help else "" for c in found._choices_actions}
    for name, sub in found.choices.items():
        yield (*prefix, name), sub, helps.get(name, "")
        yield from commands(sub, (*prefix, name))


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=USAGE_WIDTH)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(action: argparse.Action) -> str:
    """The default, unless it is nothing or the help already says it."""
    value = action.default
    if value in (None, False, [], argparse.SUPPRESS) or action.nargs == 0:
        return ""
    if action.help and "default" in action.help:
        return ""
    if isinstance(value, Path):
        value = str(value)
    return f"default: `{value}`"


def _option_rows(parser: argparse.ArgumentParser) -> list[str]:
    expand = argparse.HelpFormatter(parser.prog)._expand_help
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        if action.option_strings:
            metavar = "" if action.nargs == 0 else " " + str(action.metavar or action.dest.upper())
            name = ", ".join(f"`{flag}{metavar}`" for flag in action.option_strings)
        else:
            name = f"`{action.metavar or action.dest.upper()}`"
        notes = [expand(action) if action.help else ""]
        if action.choices and not isinstance(action.choices, dict):
            notes.append("one of " + ", ".join(f"`{c}`" for c in action.choices))
        notes.append(_default(action))
        rows.append(f"| {name} | {_cell('; '.join(n for n in notes if n))} |")
    return rows


def _section(words: tuple[str, ...], parser: argparse.ArgumentParser, summary: str) -> str:
    lines = [f"## `maestro-tui {' '.join(words)}`" if words else "## `maestro-tui`", ""]
    if summary:
        lines += [summary[:1].upper() + summary[1:] + ".", ""]
    if parser.description and parser.description.strip() != summary.strip():
        lines += [parser.description.strip(), ""]
    lines += ["```text", _usage(parser), "```", ""]
    rows = _option_rows(parser)
    if rows:
        lines += ["| argument | what it does |", "|---|---|", *rows, ""]
    return "\n".join(lines)


def cli_reference() -> str:
    """Markdown: every command with its usage, its description and each option's help."""
    parser = full_parser()
    names = [" ".join(words) for words, _sub, _help in commands(parser)]
    parts = [
        "Commands: " + ", ".join(f"[`{n}`](#maestro-tui-{n.replace(' ', '-')})" for n in names),
        "",
        _section(
            (), parser, "the launcher, and the history of past runs, when no command is given"
        ),
    ]
    parts += [_section(words, sub, summary) for words, sub, summary in commands(parser)]
    return "\n".join(parts)
