"""Small helpers shared by the real-CLI tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.agents.cli_harness import AGENTS
from tests.agents.netns import NetNamespace
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


def programs_in_netns(netns: NetNamespace, folder: Path, *names: str) -> str:
    """A PATH on which each of `names` is the installed CLI run inside `netns`: a worker in
    this process starts it by name, as a preset does, and it reaches only loopback."""
    folder.mkdir(parents=True, exist_ok=True)
    nsenter = shutil.which("nsenter")
    assert nsenter, "nsenter (util-linux) is needed"
    for name in names:
        wrapper = folder / name
        real = AGENTS / "bin" / name
        wrapper.write_text(f'#!/bin/sh\nexec {nsenter} --net={netns.path} -- {real} "$@"\n')
        wrapper.chmod(0o755)
    return os.pathsep.join([str(folder), os.environ.get("PATH", os.defpath)])
