"""Commands about the repository itself: init, doctor, workflows, mcp, gc."""

from __future__ import annotations

import argparse
from pathlib import Path

from maestro_tui.cli.command import Command, db_arg, db_path, fail
from maestro_tui.session.outcome import EXIT_OK


def _init_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo", type=Path, default=Path("."))
    p.add_argument("--force", action="store_true", help="overwrite an existing maestro.toml")


async def _init(args: argparse.Namespace) -> int:
    from maestro_tui.config import CONFIG_FILE, init_template
    from maestro_tui.config.detect import detect_project
    from maestro_tui.workspace.repo import Workspace

    root = Workspace.open(args.repo).root
    target = root / CONFIG_FILE
    if target.exists() and not args.force:
        return fail(f"{target} already exists: edit it, or pass --force to overwrite it")
    project = detect_project(root)
    target.write_text(init_template(project), encoding="utf-8")
    print(f"wrote {target}")
    print(project.summary())
    return EXIT_OK


INIT = Command("init", "write a commented maestro.toml in the repository", _init_arguments, _init)


def _doctor_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")
    p.add_argument("--config", type=Path, help="maestro.toml to use (default: REPO/maestro.toml)")
    db_arg(p)


async def _doctor(args: argparse.Namespace) -> int:
    from maestro_tui.headless.doctor import doctor

    return await doctor(args.repo, args.config, db_path(args))


DOCTOR = Command(
    "doctor",
    "check everything a run here needs (tests, workers, sandbox) and say",
    _doctor_arguments,
    _doctor,
)


def _workflows_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")
    p.add_argument("--config", type=Path, help="maestro.toml to use (default: REPO/maestro.toml)")
    p.add_argument("--json", action="store_true", help="one JSON object per workflow")


async def _workflows(args: argparse.Namespace) -> int:
    from maestro_tui.headless.workflows import list_workflows

    return list_workflows(args.repo, args.config, args.json)


WORKFLOWS = Command(
    "workflows",
    "the workflows `run --workflow NAME` can expand here",
    _workflows_arguments,
    _workflows,
)


def _mcp_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")
    db_arg(p)


async def _mcp(args: argparse.Namespace) -> int:
    from maestro_tui.mcp_server.server import serve as serve_mcp

    return await serve_mcp(args.repo.expanduser(), db_path(args))


MCP = Command(
    "mcp", "serve maestro's tools to your coding agent (MCP over stdio)", _mcp_arguments, _mcp
)


def _gc_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo", type=Path, default=Path("."))
    p.add_argument("--all", action="store_true", help="also delete unmerged task branches")
    db_arg(p)


async def _gc(args: argparse.Namespace) -> int:
    from maestro_tui.headless.gc import collect_garbage

    return collect_garbage(args.repo, db_path(args), remove_unmerged=args.all)


GC = Command(
    "gc", "remove worktrees and branches that finished or crashed runs left", _gc_arguments, _gc
)

COMMANDS = (INIT, DOCTOR, WORKFLOWS, MCP, GC)
