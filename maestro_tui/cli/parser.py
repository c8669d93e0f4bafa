"""The command line: every command, its flags and their help, for argparse."""

from __future__ import annotations

import argparse
from pathlib import Path

from maestro_tui import __version__

DESCRIPTION = """maestro-tui: run many AI coding agents in parallel on one git repository.

Exit codes: 0 all merged, 1 a task failed, 2 bad input, 3 merges wait for review,
130 interrupted (resume it with `maestro-tui resume RUN_ID`).
"""


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, help="SQLite file of run history (default: user data dir)")


def _executor_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        help="where attempts run: worktrees here, or a Ray cluster ([executor] in maestro.toml)",
    )


def _output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON event per line (for CI)")
    p.add_argument("--quiet", action="store_true", help="hide agents' output lines")


def _model_args(p: argparse.ArgumentParser) -> None:
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


def _budget_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget-usd", type=float, help="stop starting tasks once this is spent")
    p.add_argument("--budget-tokens", type=int, help="stop starting tasks after this many tokens")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maestro-tui",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"maestro-tui {__version__}")
    parser.add_argument(
        "--db", type=Path, dest="db_first", metavar="FILE", help="SQLite file of run history"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("init", help="write a commented maestro.toml in the repository")
    p.add_argument("--repo", type=Path, default=Path("."))
    p.add_argument("--force", action="store_true", help="overwrite an existing maestro.toml")

    p = sub.add_parser(
        "doctor", help="check everything a run here needs (tests, workers, sandbox) and say"
    )
    p.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")
    p.add_argument("--config", type=Path, help="maestro.toml to use (default: REPO/maestro.toml)")
    _db_arg(p)

    p = sub.add_parser("run", help="run a plan (or a goal) with parallel agents")
    p.add_argument("goal", nargs="?", help="what to achieve (the planner model makes the plan)")
    p.add_argument("--plan", type=Path, help="a plan file (TOML or JSON) instead of a goal")
    p.add_argument("--inbox", type=Path, help="a folder of issue files (.md, GitHub .json)")
    p.add_argument("--workflow", help="expand a workflow (see maestro-tui workflows)")
    p.add_argument(
        "--classify-with-model", action="store_true", help="route inbox items with the model"
    )
    p.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")
    p.add_argument(
        "--base", help="branch or commit the run starts from (default: the current branch)"
    )
    p.add_argument("--config", type=Path, help="maestro.toml to use (default: REPO/maestro.toml)")
    p.add_argument("--headless", action="store_true", help="print events instead of the TUI")
    p.add_argument("--agents", type=int, help="how many agents run at once")
    p.add_argument("--merge", choices=("auto", "review"), help="merge policy")
    p.add_argument("--yes", "-y", action="store_true", help="start without reviewing the plan")
    p.add_argument(
        "--allow-red-base",
        action="store_true",
        help="go on when the base's own tests fail (they are then charged to no task)",
    )
    _executor_arg(p)
    _model_args(p)
    _budget_args(p)
    _db_arg(p)
    _output_args(p)

    p = sub.add_parser("plan", help="ask the planner model for a plan, without running it")
    p.add_argument("goal")
    p.add_argument("--repo", type=Path, default=Path("."))
    p.add_argument("--config", type=Path)
    p.add_argument("-o", "--output", type=Path, help="write the plan here (TOML or .json)")
    _model_args(p)

    p = sub.add_parser("workflows", help="the workflows `run --workflow NAME` can expand here")
    p.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")
    p.add_argument("--config", type=Path, help="maestro.toml to use (default: REPO/maestro.toml)")
    p.add_argument("--json", action="store_true", help="one JSON object per workflow")

    p = sub.add_parser("demo", help="the offline demo: no key, no network, a bundled sample repo")
    p.add_argument("--dir", type=Path, help="where to copy the sample repo (default: a new dir)")
    p.add_argument("--headless", action="store_true")
    p.add_argument("--agents", type=int, default=4)
    p.add_argument("--merge", choices=("auto", "review"), default="auto")
    p.add_argument("--pace", type=float, help="demo model speed: 1 = human-watchable, 0 = instant")
    _executor_arg(p)
    p.add_argument(
        "--on-conflict",
        choices=("review", "agent", "retry"),
        default="review",
        help="a conflicting result waits for you (review), goes back to its agent, or reruns",
    )
    _budget_args(p)
    _db_arg(p)
    _output_args(p)

    p = sub.add_parser("runs", help="past runs")
    p.add_argument("--json", action="store_true")
    _db_arg(p)

    p = sub.add_parser(
        "rerun",
        help="run a recorded run's plan again on its base, with something changed",
        description="A new run of RUN's plan on RUN's base commit. The tasks under study run"
        " again; every other task that merged in RUN is taken over as it merged (its result"
        " put on the new integration branch, nothing paid for it).",
    )
    p.add_argument("run_id", metavar="RUN")
    p.add_argument(
        "--from",
        dest="from_tasks",
        action="append",
        default=[],
        metavar="TASK",
        help="run TASK and what depends on it again, take the rest over (repeatable;"
        " default: every task runs again)",
    )
    p.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="TASK",
        help="take TASK (and what it depends on) over as it merged (repeatable)",
    )
    p.add_argument("--worker", help="the worker for the tasks that run again")
    p.add_argument("--model", help="the model of the worker(s) of the tasks that run again")
    p.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="a maestro.toml setting for the re-run, e.g. merge.policy=review (repeatable)",
    )
    p.add_argument("--headless", action="store_true", help="print events instead of the TUI")
    _db_arg(p)
    _output_args(p)

    p = sub.add_parser(
        "compare", help="runs side by side, per task and in total, and how results differ"
    )
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
    _db_arg(p)

    p = sub.add_parser(
        "stats", help="the scoreboard: per worker × model × role, from the history of runs"
    )
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
    _db_arg(p)

    p = sub.add_parser("merges", help="merges of a run waiting for a human")
    p.add_argument("run_id")
    p.add_argument("--json", action="store_true")
    _db_arg(p)

    for name, text in (
        ("approve", "merge a waiting result"),
        ("reject", "reject a waiting result"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("run_id")
        p.add_argument("task")
        if name == "approve":
            p.add_argument("--take", choices=("ours", "theirs"), help="resolve conflicts by side")
        else:
            p.add_argument("--reason", default="", help="why (kept in the run's history)")
        _db_arg(p)

    for name, text in (
        ("retry", "drop a waiting result and run its task again on the current branch"),
        ("resolve", "hand a waiting conflict to its task's agent, then go on with the run"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("run_id")
        p.add_argument("task")
        p.add_argument("--headless", action="store_true")
        _db_arg(p)
        _output_args(p)

    p = sub.add_parser("say", help="tell a running agent something, without stopping it")
    p.add_argument("run_id")
    p.add_argument("task")
    p.add_argument("message")
    _db_arg(p)

    p = sub.add_parser("resume", help="finish a run that was interrupted")
    p.add_argument("run_id")
    p.add_argument("--agents", type=int)
    _budget_args(p)
    p.add_argument("--headless", action="store_true")
    _db_arg(p)
    _output_args(p)

    p = sub.add_parser(
        "replan",
        help="a new plan of what a run has left (after a task failed for good, a rejection,"
        " or 80 %% of the budget), reviewed, then run",
    )
    p.add_argument("run_id")
    p.add_argument("--yes", action="store_true", help="run the new plan without asking")
    _db_arg(p)
    _output_args(p)

    p = sub.add_parser("replay", help="replay a recorded run in the TUI, on its own clock")
    p.add_argument("run_id")
    _db_arg(p)

    p = sub.add_parser("watch", help="follow a run that another process drives, read-only")
    p.add_argument("run_id")
    p.add_argument("--stay", action="store_true", help="keep the dashboard open after the end")
    _db_arg(p)

    p = sub.add_parser(
        "serve",
        help="the TUI in a browser (textual-serve): maestro-tui serve [-- COMMAND ARGS…]",
        description="Serve maestro-tui (the launcher, or the COMMAND after --) to a browser."
        " The URL to open, with its token, is printed at start.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    p.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one")
    p.add_argument(
        "--token",
        help="the URL's secret (default: a random one; required with a non-loopback --host;"
        " MAESTRO_TUI_SERVE_TOKEN keeps it out of the process list)",
    )
    p.add_argument("app", nargs=argparse.REMAINDER, help="-- and the maestro-tui command to serve")
    _db_arg(p)

    p = sub.add_parser(
        "land", help="merge a run's integration branch into your branch, or push it for a PR"
    )
    p.add_argument("run_id")
    p.add_argument("--into", help="target branch (default: the branch the run started from)")
    p.add_argument("--push", metavar="REMOTE", help="push the integration branch to REMOTE")
    p.add_argument("--branch", help="its name on the remote (default: maestro/RUN)")
    p.add_argument("--pr", action="store_true", help="after --push, open a pull request")
    p.add_argument("--body-only", action="store_true", help="print the pull request's body")
    _db_arg(p)

    p = sub.add_parser("mcp", help="serve maestro's tools to your coding agent (MCP over stdio)")
    p.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")
    _db_arg(p)

    p = sub.add_parser(
        "gc", help="remove worktrees and branches that finished or crashed runs left"
    )
    p.add_argument("--repo", type=Path, default=Path("."))
    p.add_argument("--all", action="store_true", help="also delete unmerged task branches")
    _db_arg(p)
    return parser
