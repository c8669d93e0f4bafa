"""A Python project's editable installs, pointed at the tree being tested instead of the checkout.

A user's virtualenv (activated, named by VIRTUAL_ENV, or a `.venv` in the checkout) usually
holds the project itself installed editable (`pip install -e .`, `uv sync`): its `.pth` file or
its import finder points at the user's checkout. Run in a task's worktree, the tests would then
import the checkout's code, never the agent's, and pass whatever the agent did.

`find_python_env` reads the venv's site-packages for such installs; `PythonEnv.env_for` gives
a tree an environment whose PYTHONPATH puts the same import roots *of that tree* first, ahead
of site-packages, where both kinds of editable install are looked up only afterwards
(setuptools' finder is appended to sys.meta_path, after the path finder).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

VENV_NAMES = (".venv", "venv", "env")
_NOT_PACKAGES = {"tests", "test", "docs", "doc", "examples", "scripts", "build", "dist"}


@dataclass(frozen=True)
class PythonEnv:
    """A venv, and the import roots and packages of the checkout its editable installs use."""

    checkout: Path
    venv: Path | None
    roots: tuple[Path, ...]  # import roots inside the checkout: `src`, or the checkout itself
    packages: tuple[str, ...]  # top-level import names found there

    @property
    def python(self) -> str | None:
        """The venv's interpreter, when there is one."""
        if self.venv is None:
            return None
        found = self.venv / "bin" / "python"
        return str(found) if found.exists() else None

    def tree_roots(self, tree: Path) -> list[Path]:
        """The import roots as they are in `tree`, a checkout of the same repository."""
        return [tree / root.relative_to(self.checkout) for root in self.roots]

    def env_for(self, tree: Path, env: Mapping[str, str]) -> dict[str, str]:
        """Additions to `env` for processes in `tree`: PYTHONPATH with the tree's roots first,
        and the venv's bin on PATH (with VIRTUAL_ENV) when it is not there already."""
        added: dict[str, str] = {}
        paths = [str(p) for p in self.tree_roots(tree)]
        if paths:
            before = env.get("PYTHONPATH", "")
            added["PYTHONPATH"] = os.pathsep.join([*paths, *([before] if before else [])])
        if self.venv is not None:
            bin_dir = str(self.venv / "bin")
            path = env.get("PATH", os.defpath)
            if bin_dir not in path.split(os.pathsep):
                added["PATH"] = os.pathsep.join([bin_dir, path])
            added["VIRTUAL_ENV"] = str(self.venv)
        return added

    def describe(self) -> str:
        """One line for a log: which venv, which roots."""
        roots = ", ".join(str(r.relative_to(self.checkout)) or "." for r in self.roots)
        venv = f"venv {self.venv}" if self.venv else "no venv"
        packages = ", ".join(self.packages) or "none found"
        return f"{venv}; editable installs from the checkout: {packages} (import roots: {roots})"


def find_venv(checkout: Path, environ: Mapping[str, str]) -> Path | None:
    """The venv a run starts in: VIRTUAL_ENV, else a venv folder in the checkout."""
    named = environ.get("VIRTUAL_ENV", "")
    candidates = [Path(named)] if named else []
    candidates += [checkout / name for name in VENV_NAMES]
    for venv in candidates:
        if (venv / "pyvenv.cfg").is_file():
            return venv.resolve()
    return None


def find_python_env(checkout: Path, environ: Mapping[str, str]) -> PythonEnv | None:
    """The editable installs of `checkout` in the venv the run starts in; None when the venv
    has none (or there is no venv): nothing to redirect."""
    checkout = checkout.resolve()
    venv = find_venv(checkout, environ)
    if venv is None:
        return None
    roots: list[Path] = []
    packages: list[str] = []
    for site in _site_packages(venv):
        for root, names in _editable_roots(site, checkout):
            if root not in roots:
                roots.append(root)
            packages += [n for n in names if n not in packages]
    if not roots:
        return None
    for root in roots:
        packages += [n for n in _packages_in(root, checkout) if n not in packages]
    return PythonEnv(checkout, venv, tuple(roots), tuple(packages))


def _site_packages(venv: Path) -> list[Path]:
    return sorted(p for p in venv.glob("lib*/python3*/site-packages") if p.is_dir())


def _editable_roots(site: Path, checkout: Path) -> Iterator[tuple[Path, list[str]]]:
    """(import root, packages known to be there) for each editable install into `checkout`."""
    for pth in sorted(site.glob("*.pth")):
        for line in _read_lines(pth):
            if line.startswith(("#", "import ", "import\t")):
                continue
            folder = (site / line).resolve() if not os.path.isabs(line) else Path(line).resolve()
            if folder.is_dir() and folder.is_relative_to(checkout):
                yield folder, []
    for finder in sorted(site.glob("__editable___*_finder.py")):
        for name, target in _finder_mapping(finder).items():
            path = Path(target).resolve()
            if path.is_relative_to(checkout):
                yield path.parent, [name]


def _read_lines(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError):
        return []


def _finder_mapping(finder: Path) -> dict[str, str]:
    """setuptools' editable finder module: its `MAPPING = {name: path}` literal."""
    try:
        tree = ast.parse(finder.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "MAPPING" for t in node.targets
        ):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return {}
            if isinstance(value, dict):
                return {str(k): str(v) for k, v in value.items()}
    return {}


def _packages_in(root: Path, checkout: Path) -> Iterable[str]:
    """Top-level packages in an import root (the checkout itself: only obvious ones)."""
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.name.startswith(".") or entry.name in _NOT_PACKAGES:
            continue
        if (entry / "__init__.py").is_file() and entry.name.isidentifier():
            found.append(entry.name)
        elif root != checkout and entry.suffix == ".py" and entry.stem.isidentifier():
            found.append(entry.stem)
    return found
