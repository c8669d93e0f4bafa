"""Finding the program of a command line."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path


class ProgramNotFound(FileNotFoundError):
    """The program of an argv is not installed (or not on PATH)."""


def resolve_program(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    program = argv[0]
    path = (env or {}).get("PATH", os.environ.get("PATH", ""))
    found = shutil.which(program, path=path) if os.sep not in program else program
    if not found or not Path(found).exists():
        raise ProgramNotFound(program)
    return found
