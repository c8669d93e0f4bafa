"""What `maestro-tui init` tells about a project from its files alone: its toolchain, its test
command, and what each task worktree needs before an agent or the tests run in it.

Only the filesystem is read (lockfiles, manifests, a virtualenv's pyvenv.cfg, .gitignore): no
subprocess, no network. The root's most specific toolchain wins; the others become notes.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

PYTEST = "python -m pytest -q"  # settings.DEFAULT_TEST_COMMAND: nothing more specific found


@dataclass(frozen=True)
class ProjectSetup:
    """A project's toolchain and the [tests]/[worktree] lines it needs; notes[0] says what
    was found, the rest why the lines are what they are."""

    toolchain: str
    test_command: str
    copy: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for the terminal: the toolchain and the lines written for it."""
        parts = [f"tests `{self.test_command}`" if self.test_command else "no tests"]
        parts += [f"setup `{command}`" for command in self.setup]
        if self.copy:
            parts.append("copy " + ", ".join(self.copy))
        return f"detected {self.toolchain}: " + ", ".join(parts)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:  # missing, a folder, unreadable: nothing to tell
        return ""


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_text(path))
    except tomllib.TOMLDecodeError:
        return {}


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_text(path) or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _uv(root: Path) -> ProjectSetup | None:
    if not (root / "uv.lock").is_file():
        return None
    setup = "uv sync --frozen"
    notes = ["found uv.lock", "each worktree gets its own .venv, the project installed from it"]
    if "workspace" in _toml(root / "pyproject.toml").get("tool", {}).get("uv", {}):
        setup += " --all-packages"  # uv sync installs only the root package by default
        notes.append("a uv workspace: every member is installed")
    return ProjectSetup("uv", "uv run --frozen pytest -q", setup=(setup,), notes=tuple(notes))


def _poetry(root: Path) -> ProjectSetup | None:
    if not (root / "poetry.lock").is_file():
        return None
    venvs = _toml(root / "poetry.toml").get("virtualenvs", {})
    if venvs.get("create") is False:
        where = "poetry.toml sets virtualenvs.create = false: every worktree installs into"
        where += " the same environment, the last one wins (remove it)"
    elif venvs.get("in-project") is True:
        where = "each worktree gets its own .venv (poetry.toml: virtualenvs.in-project)"
    else:
        where = "poetry keys venvs by project path: each worktree gets its own in poetry's cache,"
        where += " left there after it (virtualenvs.in-project = true keeps it in the worktree)"
    install, notes = "poetry install --no-interaction", ("found poetry.lock", where)
    return ProjectSetup("poetry", "poetry run pytest -q", setup=(install,), notes=notes)


def _venv(root: Path) -> str | None:
    return next((n for n in (".venv", "venv") if (root / n / "pyvenv.cfg").is_file()), None)


def _has_pytest(venv: Path) -> bool:
    return (venv / "bin" / "pytest").exists() or any(venv.glob("lib*/python*/site-packages/pytest"))


def _pip(root: Path) -> ProjectSetup | None:
    venv = _venv(root)
    markers = [n for n in ("pyproject.toml", "setup.py", "setup.cfg") if (root / n).is_file()]
    markers += sorted(p.name for p in root.glob("requirements*.txt"))
    if venv is None and not markers:
        return None
    found = ", ".join(([venv] if venv else []) + markers)
    notes = [f"found {found}", 'no setup: python = "auto" points editable installs at the worktree']
    command = PYTEST
    if venv is not None and _has_pytest(root / venv):
        command = f"{venv}/bin/python -m pytest -q"  # maestro-tui resolves it to your checkout's
        notes.append(f"tests run with the Python of {venv} in your checkout")
    elif venv is not None:
        notes.append(f"{venv} has no pytest: install it there, or change [tests] command")
    else:
        notes.append("tests run with the Python maestro-tui starts in")
    return ProjectSetup("pip/venv", command, notes=tuple(notes))


# Lockfile and its package manager; the order breaks ties when package.json names none.
_NODE_LOCKS = (
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
)
_NPM_PLACEHOLDER = 'echo "Error: no test specified" && exit 1'  # what `npm init` writes


def _yarn_berry(root: Path, package: dict[str, Any]) -> bool:
    """Yarn 2+ (`--immutable`) rather than Yarn 1 (`--frozen-lockfile`)."""
    manager = str(package.get("packageManager", ""))
    if manager.startswith("yarn@"):
        return not manager.removeprefix("yarn@").startswith("1.")
    return (root / ".yarnrc.yml").is_file() or "__metadata:" in _text(root / "yarn.lock")[:2000]


def _install(root: Path, manager: str, package: dict[str, Any]) -> str:
    if manager == "pnpm":
        return "pnpm install --frozen-lockfile --prefer-offline"
    if manager == "yarn":
        berry = _yarn_berry(root, package)
        return "yarn install --immutable" if berry else "yarn install --frozen-lockfile"
    return "npm ci --prefer-offline --no-audit --no-fund"


def _test_script_notes(package: dict[str, Any]) -> list[str]:
    scripts = package.get("scripts")
    script = scripts.get("test") if isinstance(scripts, dict) else None
    if not script:
        return ['package.json has no "test" script: add one, or change [tests] command']
    if script == _NPM_PLACEHOLDER:
        return ["package.json's \"test\" script is npm's placeholder, which always fails"]
    return []


def _node(root: Path) -> ProjectSetup | None:
    locks = [(name, pm) for name, pm in _NODE_LOCKS if (root / name).is_file()]
    if not locks:
        return None
    package = _json(root / "package.json")
    wanted = str(package.get("packageManager", "")).partition("@")[0]
    lock, manager = next(((n, m) for n, m in locks if m == wanted), locks[0])
    install = _install(root, manager, package)
    notes = [f"found {lock}", f"`{install}` fills node_modules in each worktree"]
    notes += [f"also found {name}, not used" for name, _ in locks if name != lock]
    notes += _test_script_notes(package)
    return ProjectSetup(manager, f"{manager} test", setup=(install,), notes=tuple(notes))


def _node_unlocked(root: Path) -> ProjectSetup | None:
    if not (root / "package.json").is_file():
        return None
    notes = ["found package.json without a lockfile"]
    notes.append("each worktree resolves its dependencies afresh: commit a lockfile")
    notes += _test_script_notes(_json(root / "package.json"))
    install = "npm install --no-package-lock --no-audit --no-fund"
    return ProjectSetup("npm", "npm test", setup=(install,), notes=tuple(notes))


def _cargo(root: Path) -> ProjectSetup | None:
    if not (root / "Cargo.toml").is_file():
        return None
    workspace = "workspace" in _toml(root / "Cargo.toml")
    found = "found Cargo.toml" + (" with a [workspace]" if workspace else "")
    why = "no setup: each worktree builds into its own target/ (a CARGO_TARGET_DIR shared by"
    why += " worktrees would reuse built dependencies, but builds one at a time)"
    command = "cargo test --workspace" if workspace else "cargo test"
    return ProjectSetup("cargo", command, notes=(found, why))


def _go(root: Path) -> ProjectSetup | None:
    if not (root / "go.mod").is_file():
        return None
    notes = ("found go.mod", "no setup: modules come from Go's shared module cache")
    return ProjectSetup("go", "go test ./...", notes=notes)


# A rule whose targets include `test` (`test:`, `lint test::`), not an assignment (`test := 1`).
_TEST_TARGET = re.compile(r"^(?:[^\s:=#]+[ \t]+)*test(?:[ \t]+[^\s:=#]+)*[ \t]*::?(?!:?=)", re.M)


def _make(root: Path) -> ProjectSetup | None:
    for name in ("GNUmakefile", "makefile", "Makefile"):  # GNU make's search order
        if _TEST_TARGET.search(_text(root / name)):
            return ProjectSetup("make", "make test", notes=(f"found a test target in {name}",))
    return None


_ENV_TEMPLATES = {"example", "sample", "template", "dist", "defaults"}  # committed: in the tree
_ENV_FOR_DEV = {"local", "development", "dev", "test", "testing"}


def _ignored(root: Path, name: str) -> bool:
    """Whether the root's .gitignore or .git/info/exclude names `name` (a rough reading)."""
    lines = (_text(root / ".gitignore") + "\n" + _text(root / ".git/info/exclude")).splitlines()
    patterns = [ln.strip().strip("/") for ln in lines if ln.strip() and ln[0] not in "#!"]
    return any(fnmatch.fnmatch(name, p.removeprefix("**/")) for p in patterns)


def _env_files(root: Path) -> tuple[tuple[str, ...], list[str]]:
    """The .env files a dev or test run reads, to copy; production ones stay out."""
    copy: list[str] = []
    notes: list[str] = []
    for path in sorted(root.glob(".env*")):
        parts = path.name.split(".")[2:]  # ".env.test.local" -> ["test", "local"]
        if not path.is_file() or path.name.split(".")[1] != "env" or _ENV_TEMPLATES & set(parts):
            continue  # .envrc, a venv named .env, a committed template
        if set(parts) <= _ENV_FOR_DEV:
            copy.append(path.name)
        else:
            notes.append(f"{path.name} not copied: agents get no other environment's secrets")
    if copy:
        notes.insert(0, f"found {', '.join(copy)}: copied into each worktree")
    exposed = [name for name in copy if not _ignored(root, name)]
    if exposed:
        notes.append(f"{', '.join(exposed)} not in .gitignore: add there or to [run] exclude")
    return tuple(copy), notes


# Most specific first: a lockfile says how to install, a manifest only what the project is.
_DETECTORS = (_uv, _poetry, _node, _cargo, _go, _pip, _node_unlocked, _make)
_FAMILY = {"uv": "python", "poetry": "python", "pip/venv": "python"}
_FAMILY |= {manager: "node" for _lock, manager in _NODE_LOCKS}


def _candidates(root: Path) -> list[ProjectSetup]:
    """Every toolchain the root shows, the most specific of each family only."""
    found: list[ProjectSetup] = []
    families: set[str] = set()
    for detect in _DETECTORS:
        setup = detect(root)
        family = _FAMILY.get(setup.toolchain, setup.toolchain) if setup else ""
        if setup is not None and family not in families:
            families.add(family)
            found.append(setup)
    return found


def detect_project(root: Path) -> ProjectSetup:
    """The toolchain of the project at `root`, its test command, and its worktrees' needs."""
    fallback = ProjectSetup("python", PYTEST, notes=("no toolchain recognised",))
    chosen, *others = _candidates(root) or [fallback]
    also = [f"also {o.notes[0]}: {o.toolchain}, `{o.test_command}`, not set up" for o in others]
    copy, env_notes = _env_files(root)
    return replace(chosen, copy=copy, notes=(*chosen.notes, *also, *env_notes))
