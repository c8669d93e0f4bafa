"""The demo: a small sample repository, the goal the demo run pursues, and its script."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from maestro_tui.workspace import FALLBACK_IDENTITY

SAMPLE_REPO = Path(__file__).parent / "sample_repo"
DEMO_GOAL = (
    "Harden the shop package: type hints, reject impossible discounts, bulk discount tiers "
    "in the cart, a low-stock report, tests for each, and a usage section in the README."
)
_GITIGNORE = "__pycache__/\n*.pyc\n.pytest_cache/\n"


def copy_sample_repo(dest: Path) -> Path:
    """Copy the sample repo to `dest` (new or empty) as a git repo with one commit."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} exists and is not empty")
    shutil.copytree(
        SAMPLE_REPO,
        dest,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"),
    )
    # Written here rather than shipped: package-data globs skip dotfiles.
    (dest / ".gitignore").write_text(_GITIGNORE, encoding="utf-8")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", *FALLBACK_IDENTITY, *args],
            cwd=dest,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "Sample shop package")
    return dest
