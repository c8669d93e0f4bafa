"""Commands for what a run made: its merges waiting for a human, and its integration branch."""

from __future__ import annotations

import argparse

from maestro_tui.cli.command import Command, db_arg, db_path, output


def _merges_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id")
    p.add_argument("--json", action="store_true")
    db_arg(p)


async def _merges(args: argparse.Namespace) -> int:
    from maestro_tui.headless.review import list_merges

    return await list_merges(db_path(args), args.run_id, args.json)


MERGES = Command("merges", "merges of a run waiting for a human", _merges_arguments, _merges)


def _approve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id")
    p.add_argument("task")
    p.add_argument("--take", choices=("ours", "theirs"), help="resolve conflicts by side")
    db_arg(p)


async def _approve(args: argparse.Namespace) -> int:
    return await _decide(args, approve=True, take=args.take, reason="")


APPROVE = Command("approve", "merge a waiting result", _approve_arguments, _approve)


def _reject_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id")
    p.add_argument("task")
    p.add_argument("--reason", default="", help="why (kept in the run's history)")
    db_arg(p)


async def _reject(args: argparse.Namespace) -> int:
    return await _decide(args, approve=False, take=None, reason=args.reason)


REJECT = Command("reject", "reject a waiting result", _reject_arguments, _reject)


async def _decide(args: argparse.Namespace, *, approve: bool, take: str | None, reason: str) -> int:
    from maestro_tui.headless.review import decide_merge

    return await decide_merge(
        db_path(args),
        args.run_id,
        args.task,
        approve=approve,
        take=take,
        reason=reason,
        out=output(args),
    )


def _land_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id")
    p.add_argument("--into", help="target branch (default: the branch the run started from)")
    p.add_argument("--push", metavar="REMOTE", help="push the integration branch to REMOTE")
    p.add_argument("--branch", help="its name on the remote (default: maestro/RUN)")
    p.add_argument("--pr", action="store_true", help="after --push, open a pull request")
    p.add_argument("--body-only", action="store_true", help="print the pull request's body")
    db_arg(p)


async def _land(args: argparse.Namespace) -> int:
    from maestro_tui.headless.land import LandRequest, land

    request = LandRequest(args.into, args.push, args.branch, args.pr, args.body_only)
    return await land(db_path(args), args.run_id, request, output(args))


LAND = Command(
    "land",
    "merge a run's integration branch into your branch, or push it for a PR",
    _land_arguments,
    _land,
)

COMMANDS = (MERGES, APPROVE, REJECT, LAND)
