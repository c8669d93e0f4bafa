"""Commands that look at runs, past or going on, without changing them: runs, compare, stats,
replay, watch."""

from __future__ import annotations

import argparse
from pathlib import Path

from maestro_tui.cli.command import Command, db_arg, db_path


def _runs_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")
    db_arg(p)


async def _runs(args: argparse.Namespace) -> int:
    from maestro_tui.headless.history import list_runs

    return await list_runs(db_path(args), args.json)


RUNS = Command("runs", "past runs", _runs_arguments, _runs)


def _compare_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "run_ids",
        nargs="+",
        metavar="RUN",
        help="two runs or more; the others are compared with the first",
    )
    p.add_argument("--json", action="store_true", help="one JSON document, for scripts")
    p.add_argument(
        "--diff-lines",
        type=int,
        default=80,
        metavar="N",
        help="show at most N lines of each task's diff between results (0: none)",
    )
    db_arg(p)


async def _compare(args: argparse.Namespace) -> int:
    from maestro_tui.headless.compare import compare

    db = db_path(args)
    return await compare(db, args.run_ids, as_json=args.json, diff_lines=args.diff_lines)


COMPARE = Command(
    "compare",
    "runs side by side, per task and in total, and how results differ",
    _compare_arguments,
    _compare,
)


def _stats_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--since", metavar="DATE", help="runs started on or after DATE (YYYY-MM-DD, or 30d, 8w)"
    )
    p.add_argument(
        "--repo",
        nargs="?",
        const=Path("."),
        type=Path,
        help="only runs of this repository (the flag alone: the one here)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per row")
    db_arg(p)


async def _stats(args: argparse.Namespace) -> int:
    from maestro_tui.headless.stats import stats

    return await stats(db_path(args), args.since, args.repo, as_json=args.json)


STATS = Command(
    "stats",
    "the scoreboard: per worker × model × role, from the history of runs",
    _stats_arguments,
    _stats,
)


def _replay_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id")
    db_arg(p)


async def _replay(args: argparse.Namespace) -> int:
    from maestro_tui.ui.entry import run_replay

    return await run_replay(db_path(args), args.run_id)


REPLAY = Command(
    "replay", "replay a recorded run in the TUI, on its own clock", _replay_arguments, _replay
)


def _watch_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id")
    p.add_argument("--stay", action="store_true", help="keep the dashboard open after the end")
    db_arg(p)


async def _watch(args: argparse.Namespace) -> int:
    from maestro_tui.ui.entry import run_watch

    return await run_watch(db_path(args), args.run_id, stay=args.stay)


WATCH = Command(
    "watch", "follow a run that another process drives, read-only", _watch_arguments, _watch
)

COMMANDS = (RUNS, COMPARE, STATS, REPLAY, WATCH)
