"""A command line run: parsed, checked, handed to its command's handler, its errors said."""

from __future__ import annotations

import asyncio

from maestro_tui.cli.command import fail
from maestro_tui.cli.parser import build_parser
from maestro_tui.session.outcome import EXIT_INTERRUPTED, EXIT_TASK_FAILED


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        args.command = "launcher"
    if getattr(args, "db", None) is None:
        args.db = args.db_first  # `maestro-tui --db FILE COMMAND` as well as `COMMAND --db FILE`
    if getattr(args, "agents", None) is not None:
        from maestro_tui.config.settings import MAX_AGENTS

        if not 1 <= args.agents <= MAX_AGENTS:
            return fail(f"--agents must be from 1 to {MAX_AGENTS}, got {args.agents}")
    try:
        code: int = asyncio.run(args.handler(args))  # each handler returns the exit code
        return code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        # Imported only now: `--help` and the TUI's first frame do not wait for them.
        from maestro_tui.llm.planner import PlannerError
        from maestro_tui.session.inputs import bad_input_errors

        if isinstance(exc, bad_input_errors()):
            return fail(str(exc))
        if isinstance(exc, PlannerError):
            return fail(str(exc), EXIT_TASK_FAILED)
        raise
