"""maestro-tui: run many AI coding agents in parallel on one git repository.

Exit codes: 0 all merged, 1 a task failed, 2 bad input, 3 merges wait for review,
130 interrupted (resume it with `maestro-tui resume RUN_ID`).
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """The `maestro-tui` entry point; the commands are imported on the call, not on import."""
    from maestro_tui.cli.dispatch import main as run

    return run(argv)
