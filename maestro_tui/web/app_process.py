"""One browser tab's maestro-tui process, as textual-serve's AppService runs it, made sure to end.

textual-serve starts each app with `create_subprocess_shell(command)` and, when the tab
closes, asks it to quit and waits for its output to end, with no limit. Here the process is
this same Python running `-m maestro_tui` (no shell in between, so no stray `sh` parent
survives it), it is asked to quit and then terminated and killed if it does not, and on Linux
the kernel sends it SIGTERM if the server dies without cleaning up (even by SIGKILL): the
browser's app then quits as a closed terminal would (a run it drives ends interrupted,
resumable).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from textual_serve.app_service import AppService

QUIT_S = 10.0  # a run's app stops its agents before it exits: give it time
TERM_S = 10.0
_PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Any:
    """prctl from libc on Linux (resolved now: nothing may load between fork and exec)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _parent_death_signal()


def _end_with_parent() -> None:
    """In the child, before exec: SIGTERM when the thread that started it dies.

    That thread is the server's event loop thread, which lives as long as the server.
    """
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


def app_argv(args: Sequence[str]) -> list[str]:
    """The command line of a served app: this Python and this maestro-tui, with `args`."""
    return [sys.executable, "-m", "maestro_tui", *args]


class AppProcess(AppService):
    """textual-serve's per-connection app service, with an exact argv, env and a sure end."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(" ".join(argv), **kwargs)
        self.argv = list(argv)
        self.env = dict(env)

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        environment = {**self._build_environment(width=width, height=height), **self.env}
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            preexec_fn=_end_with_parent if _PRCTL is not None else None,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def close(self, quit_s: float = QUIT_S, term_s: float = TERM_S) -> None:
        """Ask the app to quit; SIGTERM, then SIGKILL, if it has not within the time given.

        `quit_s` 0 goes straight to SIGTERM, which Textual's web driver takes as quit too,
        and which also stops an app that has not started Textual yet (the demo, planning).
        """
        if quit_s > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop(), quit_s)
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), term_s)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        await process.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop(), term_s)  # reads its output to the end
