"""The ways a notification reaches a person. Each `send` may fail; the notifier deals with it.

- the terminal: a bell, and a desktop notification through the terminal itself (OSC 9, which
  iTerm2, kitty, WezTerm and Windows Terminal show; OSC 777, which foot and rxvt show), passed
  through tmux inside tmux;
- `notify-send`, when it is installed;
- a hook: the user's own program, run without a shell, with the notification as JSON on stdin
  (a few lines of script post it to Slack, Discord or ntfy).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from maestro_tui.domain.attention import Notice

HOOK_TIMEOUT_S = 10.0
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class Channel(Protocol):
    name: str

    async def send(self, notice: Notice) -> None:
        """Deliver one notice; raise (any Exception) with a message saying what went wrong."""
        ...


def _clean(text: str, limit: int = 240) -> str:
    """Text safe inside an escape sequence: no control characters, bounded."""
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def osc_flavour(env: Mapping[str, str]) -> str:
    """Which desktop-notification sequence the terminal understands: "777" for foot and rxvt,
    "9" for the rest (iTerm2, kitty, WezTerm, Windows Terminal, …)."""
    term = env.get("TERM", "")
    return "777" if term.startswith(("foot", "rxvt")) else "9"


def osc_notification(notice: Notice, flavour: str) -> str:
    title, body = _clean(f"maestro-tui: {notice.title}"), _clean(notice.body)
    if flavour == "777":
        return f"\x1b]777;notify;{title.replace(';', ',')};{body}\x07"
    return f"\x1b]9;{title}{': ' + body if body else ''}\x07"


def tmux_passthrough(sequence: str) -> str:
    """Wrap an escape sequence so tmux hands it to the outer terminal (needs tmux's
    `allow-passthrough on`); every ESC inside is doubled, as tmux requires."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


class TerminalChannel:
    """The bell and an OSC desktop notification, written to the terminal the run shows on.

    The writer is attached late: the TUI gives its driver's writer once the app runs (so the
    bytes go out between frames, never inside one); the headless front end the controlling tty.
    """

    name = "terminal"

    def __init__(
        self,
        *,
        bell: bool,
        osc: bool,
        env: Mapping[str, str] | None = None,
        write: Callable[[str], None] | None = None,
    ) -> None:
        env = os.environ if env is None else env
        self.bell = bell
        self.osc = osc
        self.flavour = osc_flavour(env)
        self.in_tmux = bool(env.get("TMUX"))
        self.write = write

    def sequence(self, notice: Notice) -> str:
        out = "\x07" if self.bell else ""
        if self.osc:
            osc = osc_notification(notice, self.flavour)
            out += tmux_passthrough(osc) if self.in_tmux else osc
        return out

    async def send(self, notice: Notice) -> None:
        if self.write is not None and (text := self.sequence(notice)):
            self.write(text)


def tty_writer(path: str = "/dev/tty") -> Callable[[str], None] | None:
    """A writer to this process's controlling terminal (not stdout, which may be JSON going
    to a file), or None when there is none. Notifications are rare: it opens it per write."""

    def write(text: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
        try:
            os.write(fd, text.encode("utf-8", "replace"))
        finally:
            os.close(fd)

    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NOCTTY))
    except OSError:
        return None
    return write


async def _run(argv: Sequence[str], stdin: bytes, timeout_s: float) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(stdin), timeout_s)
    except BaseException as exc:  # timed out, or the notifier gave up on it: never leave it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await asyncio.shield(proc.wait())
        if isinstance(exc, TimeoutError):
            raise RuntimeError(
                f"{argv[0]} took more than {timeout_s:g} s and was stopped"
            ) from None
        raise
    if proc.returncode:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
        detail = f": {tail[0]}" if tail else ""
        raise RuntimeError(f"{argv[0]} exited with code {proc.returncode}{detail}")


class DesktopChannel:
    """`notify-send`, for a desktop session whose terminal shows no OSC notifications."""

    name = "notify-send"

    def __init__(self, program: str | None = None) -> None:
        self.program = program or shutil.which("notify-send")

    async def send(self, notice: Notice) -> None:
        if self.program:
            argv = [self.program, "--app-name=maestro-tui", notice.title, notice.body]
            await _run(argv, b"", HOOK_TIMEOUT_S)


def notice_json(notice: Notice) -> dict[str, Any]:
    return {
        "kind": notice.kind.value,
        "title": notice.title,
        "body": notice.body,
        "run_id": notice.run_id,
        "task": notice.task,
    }


class HookChannel:
    """The user's program (`[notify] command`), with the notification as JSON on stdin."""

    name = "hook"

    def __init__(self, argv: Sequence[str], timeout_s: float = HOOK_TIMEOUT_S) -> None:
        self.argv = list(argv)
        self.timeout_s = timeout_s

    async def send(self, notice: Notice) -> None:
        payload = json.dumps(notice_json(notice), ensure_ascii=False).encode("utf-8") + b"\n"
        try:
            await _run(self.argv, payload, self.timeout_s)
        except FileNotFoundError:
            raise RuntimeError(f"{self.argv[0]!r} is not installed or not on PATH") from None
