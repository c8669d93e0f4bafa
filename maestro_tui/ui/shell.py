"""A shell in a task's worktree, with the TUI suspended the way git suspends for $EDITOR.

The run goes on meanwhile (the shell is awaited, not waited for), but no frame is drawn until
the shell exits; Ctrl-C, Ctrl-\\ and Ctrl-Z typed in the shell are the shell's, not ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

from textual.app import App

from maestro_tui.engine.executors import TaskCheckout

_KEYBOARD_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP)


@contextlib.contextmanager
def _keyboard_signals_for_the_child() -> Iterator[None]:
    """The terminal sends Ctrl-C and friends to its whole foreground group, us included: let
    them pass us by. A Python handler, not SIG_IGN, so the shell starts with the defaults."""
    before = {sig: signal.getsignal(sig) for sig in _KEYBOARD_SIGNALS}
    try:
        for sig in _KEYBOARD_SIGNALS:
            signal.signal(sig, lambda *_: None)
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


async def run_shell(app: App[Any], checkout: TaskCheckout) -> int:
    """Run $SHELL in the checkout until the person leaves it; returns its exit status."""
    shell = os.environ.get("SHELL") or "/bin/sh"
    env = {
        **os.environ,
        "MAESTRO_TASK": checkout.task,
        "MAESTRO_WORKTREE": str(checkout.path),
    }
    with app.batch_update(), app.suspend():
        sys.stdout.write("\n" + checkout.banner() + "\n")
        sys.stdout.flush()
        with _keyboard_signals_for_the_child():
            proc = await asyncio.create_subprocess_exec(shell, cwd=str(checkout.path), env=env)
            return await proc.wait()
