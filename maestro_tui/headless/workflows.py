"""`workflows`: the workflows a repository can run, wherever each is defined."""

from __future__ import annotations

import json
from pathlib import Path

from maestro_tui.session.outcome import EXIT_OK


def list_workflows(repo: Path, config_path: Path | None, as_json: bool) -> int:
    """Built-in ones, the repository's workflows/*.toml and maestro.toml's [workflows.NAME]
    (a later one of a name replaces an earlier one, as `run --workflow` picks them)."""
    from maestro_tui.config import load_config
    from maestro_tui.sources import load_workflows
    from maestro_tui.workspace.repo import Workspace

    ws = Workspace.open(repo)
    config = load_config(ws.root, config_path)
    flows = sorted(load_workflows(ws.root, config.workflow_tables).values(), key=lambda w: w.name)
    if as_json:
        for w in flows:
            row = {"name": w.name, "source": w.source, "description": w.description}
            print(json.dumps({**row, "needs_goal": w.uses_goal}))
        return EXIT_OK
    width = max([len(w.name) for w in flows] + [len("NAME")])
    source = max([len(w.source) for w in flows] + [len("FROM")])
    print(f"{'NAME':<{width}}  {'FROM':<{source}}  DESCRIPTION")
    for w in flows:
        goal = " (give a goal)" if w.uses_goal else ""
        print(f"{w.name:<{width}}  {w.source:<{source}}  {w.description or '-'}{goal}")
    print(f"\nrun one: maestro-tui run --workflow NAME [GOAL] (in {ws.root})")
    return EXIT_OK
