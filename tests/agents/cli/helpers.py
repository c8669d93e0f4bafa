"""Small helpers shared by the real-CLI tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.agents.servers.core import RecordedRequest

BIG_FILE_BYTES = 200 * 1024
GIT_ID = ["-c", "user.name=lab", "-c", "user.email=lab@localhost"]


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *GIT_ID, *args], cwd=cwd, check=True, capture_output=True, text=True
    )
    return done.stdout


def big_text(size: int = BIG_FILE_BYTES) -> str:
    """About `size` bytes of numbered lines, so a truncated or reordered write shows."""
    lines = []
    total = 0
    n = 0
    while total < size:
        n += 1
        line = f"{n:06d} the quick brown fox jumps over the lazy dog\n"
        lines.append(line)
        total += len(line)
    return "".join(lines)


def gaps(requests: list[RecordedRequest]) -> list[float]:
    """Seconds between consecutive requests: how long a CLI waited before retrying."""
    return [b.at - a.at for a, b in zip(requests, requests[1:], strict=False)]
