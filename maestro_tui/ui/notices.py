"""maestro-tui's own warnings as notifications on screen.

The engine says what the user should know but need not act on now through `logging` (the
file watcher falling back to polling, a theme file that does not load). In a headless run
Python prints those on stderr; inside the TUI Textual has taken stderr over, so without
this they would never be seen.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel

LOGGER = "maestro_tui"
NOTICE_TIMEOUT_S = 12.0  # longer than Textual's default: these often say what to run


class NoticeHandler(logging.Handler):
    """Shows each warning or error logged under `maestro_tui` as a notification."""

    def __init__(self, app: App[Any]) -> None:
        super().__init__(logging.WARNING)
        self.app = app
        self._loop_thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not take the dashboard down
            self.handleError(record)
            return
        severity: SeverityLevel = "error" if record.levelno >= logging.ERROR else "warning"
        if threading.get_ident() == self._loop_thread:
            self._show(message, severity)
            return
        try:
            self.app.call_from_thread(self._show, message, severity)
        except RuntimeError:  # the app is not running (any more): nowhere to show it
            pass

    def _show(self, message: str, severity: SeverityLevel) -> None:
        self.app.notify(message, severity=severity, timeout=NOTICE_TIMEOUT_S)


def show_warnings(app: App[Any]) -> NoticeHandler:
    """Install the handler (call on the app's thread); returns it, to remove on unmount."""
    handler = NoticeHandler(app)
    logging.getLogger(LOGGER).addHandler(handler)
    return handler


def stop_showing(handler: NoticeHandler) -> None:
    logging.getLogger(LOGGER).removeHandler(handler)
