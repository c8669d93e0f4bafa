"""`stats`: the scoreboard of the history, per worker × model × role, as a table or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from maestro_tui.domain.scoreboard import HEADERS, SMALL, row_texts
from maestro_tui.session.outcome import EXIT_OK
from maestro_tui.session.scoreboard import Scoreboard, load_scoreboard, parse_since, repo_root


async def stats(db_path: Path, since: str | None, repo: Path | None, as_json: bool) -> int:
    board = await load_scoreboard(db_path, parse_since(since), repo_root(repo))
    if as_json:
        for score in board.scores:
            print(json.dumps(score.to_dict()))
        return EXIT_OK
    for line in render(board):
        print(line)
    return EXIT_OK


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns as wide as their widest cell, numbers to the right."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [
            c.rjust(w) if i == 3 or c[:1].isdigit() or c[:1] in "$≥–" else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return out


def render(board: Scoreboard) -> list[str]:
    where = f"runs of {board.repo}" if board.repo else "runs of every repository"
    when = ""
    if board.since is not None:
        when = f" since {datetime.fromtimestamp(board.since):%Y-%m-%d %H:%M}"
    if not board.scores:
        return [f"no settled task in the {where}{when} yet: nothing to score"]
    lines = [f"scoreboard: {where}{when} (ensemble candidates count for their own model)"]
    lines += table([HEADERS, *(row_texts(s) for s in board.scores)])
    lines.append(
        f"rates: k/n, then [95 % Wilson interval]; under {SMALL} cases no percentage is"
        " given. $/merged: everything the group spent per merged task."
    )
    for repo in board.unread_repos:
        lines.append(f"reverts unknown for {repo}: it is gone or not a git repository")
    return lines
