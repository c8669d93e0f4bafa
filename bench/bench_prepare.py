"""Preparing worktrees ([worktree]) and the preflight, against the same steps run raw.

1. A real npm project (a dependency from the registry, a lockfile, a `.env`): `git worktree
   add` + copy `.env` + `npm ci --prefer-offline`, through maestro-tui's Workspace and
   Preparer, against a shell script doing the same. Target ≤ 1.2×.
2. A real uv project (`uv sync --frozen` makes each worktree its venv): the same. Target ≤ 1.2×.
3. The preflight on the demo's sample repository (a scratch checkout prepared like a task's,
   the import check, the tests, the removal) against one raw run of its test command in a
   checkout. Target ≤ 1.5×.

Best of ROUNDS for each figure, both sides measured in the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from maestro_tui.config import Config
from maestro_tui.workspace.preflight import preflight
from maestro_tui.workspace.prepare import Preparer
from maestro_tui.workspace.repo import Workspace

ROUNDS = 5
IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
NPM_CI = "npm ci --prefer-offline --no-audit --no-fund"


def sh(cwd: Path, *argv: str) -> None:
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)


def commit_all(repo: Path) -> None:
    sh(repo, "git", "init", "-q", "-b", "main")
    sh(repo, "git", *IDENTITY, "add", "-A")
    sh(repo, "git", *IDENTITY, "commit", "-qm", "initial")


def npm_project(root: Path) -> Path:
    repo = root / "npm-project"
    repo.mkdir()
    package = {"name": "b", "version": "1.0.0", "private": True, "dependencies": {"ms": "2.1.3"}}
    (repo / "package.json").write_text(json.dumps(package))
    (repo / ".env").write_text("GREETING=hello\n")
    (repo / ".gitignore").write_text("node_modules/\n.env\n")
    sh(repo, "npm", "install", "--no-audit", "--no-fund", "--prefer-offline")
    commit_all(repo)
    return repo


def uv_program() -> str:
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if found is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "uv"], check=True)
        found = str(Path(sys.executable).parent / "uv")
    return found


def uv_project(root: Path, uv: str) -> Path:
    repo = root / "uv-project"
    (repo / "src" / "uvp").mkdir(parents=True)
    (repo / "src" / "uvp" / "__init__.py").write_text("")
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "uvp"\nversion = "0.1"\nrequires-python = ">=3.11"\n'
        'dependencies = ["iniconfig"]\n[build-system]\nrequires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n'
    )
    (repo / ".gitignore").write_text(".venv/\n")
    sh(repo, uv, "lock", "-q")
    sh(repo, uv, "sync", "-q", "--frozen")  # fills uv's cache, as a user's machine has it
    commit_all(repo)
    return repo


def raw(repo: Path, wt: Path, setup: str, copy: tuple[str, ...]) -> float:
    copies = "".join(f" && cp -R {c} {wt}/{c}" for c in copy)
    script = f"git worktree add -q --detach {wt} HEAD{copies} && cd {wt} && {setup}"
    started = time.perf_counter()
    subprocess.run(["sh", "-c", script], cwd=repo, check=True, capture_output=True)
    return time.perf_counter() - started


def ours(ws: Workspace, wt: Path, setup: str, copy: tuple[str, ...]) -> float:
    preparer = Preparer(ws.root, copy=copy, setup=(setup,))
    started = time.perf_counter()
    ws.add_scratch_worktree(wt, "HEAD")
    asyncio.run(preparer.prepare(wt, dict(os.environ)))
    elapsed = time.perf_counter() - started
    preparer.release(wt)
    return elapsed


def best_of(repo: Path, work: Path, run: Callable[[Path], float]) -> float:
    times = []
    for i in range(ROUNDS):
        wt = work / f"wt{i}"
        times.append(run(wt))
        sh(repo, "git", "worktree", "remove", "--force", str(wt))
    return min(times)


def compare(name: str, repo: Path, work: Path, setup: str, copy: tuple[str, ...]) -> bool:
    ws = Workspace.open(repo)
    base = best_of(repo, work / "raw", lambda wt: raw(repo, wt, setup, copy))
    mine = best_of(repo, work / "ours", lambda wt: ours(ws, wt, setup, copy))
    ratio = mine / base
    ok = ratio <= 1.2
    print(
        f"prepare, {name}: raw {base * 1000:.0f} ms, maestro-tui {mine * 1000:.0f} ms, "
        f"ratio {ratio:.2f} (target <= 1.2) {'ok' if ok else 'OVER'}"
    )
    return ok


def sample_repo(root: Path) -> Path:
    from importlib import resources

    source = resources.files("maestro_tui.llm.demo").joinpath("sample_repo")
    repo = root / "sample"
    shutil.copytree(str(source), repo)
    commit_all(repo)
    return repo


def bench_preflight(root: Path) -> bool:
    repo = sample_repo(root)
    command = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    ws = Workspace.open(repo)
    ws.set_worktree_root(root / "worktrees")
    config = replace(Config(), test_command=command)
    raw_times, our_times = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        subprocess.run(command.split(), cwd=repo, check=True, capture_output=True)
        raw_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        found = asyncio.run(preflight(ws, config, ws.head_commit(), dict(os.environ)))
        our_times.append(time.perf_counter() - started)
        assert found is not None and not found.red, found and found.result.output_tail
    ratio = min(our_times) / min(raw_times)
    ok = ratio <= 1.5
    print(
        f"preflight, sample repo: raw test run {min(raw_times) * 1000:.0f} ms, preflight "
        f"{min(our_times) * 1000:.0f} ms, ratio {ratio:.2f} (target <= 1.5) "
        f"{'ok' if ok else 'OVER'}"
    )
    return ok


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results = [bench_preflight(root)]
        if shutil.which("npm"):
            npm = npm_project(root)
            results.append(compare("npm project", npm, root / "npm", NPM_CI, (".env",)))
        else:
            print("prepare, npm project: skipped, npm is not installed")
        uv = uv_program()
        project = uv_project(root, uv)
        results.append(compare("uv project", project, root / "uv", f"{uv} sync --frozen", ()))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
