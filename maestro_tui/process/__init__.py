"""Subprocesses: an explicit environment, and programs run without a shell whose output is
streamed by line, and which leave nothing running behind them (see running.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from maestro_tui.process.lines import DISPLAY_CHARS, shorten
from maestro_tui.process.programs import ProgramNotFound, resolve_program
from maestro_tui.process.running import (
    LineSink,
    ProcessResult,
    StallSink,
    kill_group,
    run_streaming,
)
from maestro_tui.process.sandbox import Sandbox, SandboxUnavailable

__all__ = [
    "DISPLAY_CHARS",
    "SAFE_ENV_KEYS",
    "Sandbox",
    "SandboxUnavailable",
    "LineSink",
    "ProcessResult",
    "ProgramNotFound",
    "StallSink",
    "base_env",
    "kill_group",
    "resolve_program",
    "run_streaming",
    "shorten",
]

# The environment a child gets when the caller passes none: enough to find programs and
# write temp files, nothing secret.
SAFE_ENV_KEYS = ("PATH", "HOME", "LANG", "LC_ALL", "TERM", "TMPDIR", "USER", "SHELL", "TZ")


def base_env(
    extra: Mapping[str, str] | None = None, passthrough: Sequence[str] = ()
) -> dict[str, str]:
    """An explicit environment: safe basics, the named variables, then `extra`."""
    env = {k: os.environ[k] for k in (*SAFE_ENV_KEYS, *passthrough) if k in os.environ}
    env.update(extra or {})
    return env
