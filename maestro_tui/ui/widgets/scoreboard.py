"""Scoreboard: the launcher's tab of `maestro-tui stats`, per worker × model × role.

It reads nothing until first shown (`load`): opening the launcher does not pay for it. The
figures are the CLI's (session/scoreboard.py), rates as k/n with a Wilson interval.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from maestro_tui.domain.scoreboard import JOINED_HEADERS, SMALL, row_texts
from maestro_tui.session.scoreboard import Scoreboard as Board
from maestro_tui.session.scoreboard import load_scoreboard, repo_root
from maestro_tui.workspace.repo import WorkspaceError


class Scoreboard(Vertical):
    """Which worker and model did which role how well, over the history of runs."""

    DEFAULT_CSS = """
    Scoreboard { height: 1fr; }
    Scoreboard > #score-about { color: $foreground-muted; padding: 0 1; height: auto; }
    Scoreboard > DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("a", "toggle_scope", "all repos / this one"),
        Binding("r", "reload", "reload"),
    ]

    def __init__(self, db_path: Path, repo: Path | None, *, id: str | None = None) -> None:
        """`repo`: a folder of the repository shown first (the launcher's); None, or not
        in a git repository: every repository."""
        super().__init__(id=id)
        self.db_path = db_path
        self.folder = repo
        self.repo: str | None = None  # its top folder, as runs record it, once known
        self.only_repo = repo is not None
        self.board: Board | None = None

    def compose(self) -> ComposeResult:
        yield Static("not read yet", id="score-about")
        table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns(*JOINED_HEADERS)
        yield table

    @property
    def table(self) -> DataTable[str]:
        return self.query_one(DataTable)

    @work(exclusive=True, group="scoreboard", exit_on_error=False)
    async def load(self) -> None:
        """Read the scoreboard (outcomes computed for runs that have none yet) and show it."""
        self.query_one("#score-about", Static).update("reading the history …")
        if self.folder is not None and self.repo is None:
            try:
                self.repo = await asyncio.to_thread(repo_root, self.folder)
            except WorkspaceError:
                self.folder, self.only_repo = None, False  # not in a repository: all of them
        try:
            board = await load_scoreboard(self.db_path, None, self.repo if self.only_repo else None)
        except Exception as exc:  # noqa: BLE001 - the tab says why it is empty
            self.query_one("#score-about", Static).update(f"cannot read the history: {exc}")
            return
        self.show(board)

    def show(self, board: Board) -> None:
        self.board = board
        table = self.table
        table.clear()
        for score in board.scores:
            table.add_row(*row_texts(score, joined=True))
        where = f"runs in {board.repo}" if board.repo else "runs in every repository"
        about = f"{where} · rates: k/n [95 % interval], no % under {SMALL} cases"
        if self.repo is not None:
            about += f" · a: {'all repositories' if board.repo else 'this repository'}"
        if board.unread_repos:
            about += f" · reverts unknown (?): {', '.join(board.unread_repos)} is gone"
        if not board.scores:
            about = f"no settled task in the {where} yet · a: switch repositories"
        self.query_one("#score-about", Static).update(about)

    def action_toggle_scope(self) -> None:
        if self.repo is None:
            return
        self.only_repo = not self.only_repo
        self.load()

    def action_reload(self) -> None:
        self.load()
