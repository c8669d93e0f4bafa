"""KeysPanel: what `?` shows — the screen's own keys first, grouped; a focused list's last.

Textual's KeyPanel lists the focused widget's bindings first: on the dashboard, the task
list's eleven cursor and scrolling keys came before the keys that run the run. This panel
keeps KeyPanel (docked at the side, redrawn when the bindings change) and orders its table:
the keys the screen's class binds, one row per action and one per `Binding.group` (its keys
described once, as the footer shows them); then each focused widget's, its moves in one row;
then the keys that work everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import KeyPanel, Static

# Cursor and scrolling actions (the same in every list and table): one row for all of them.
MOVES = ("cursor_", "scroll_", "page_")
LONG_GROUP = 4  # a group with more keys than this shows its first and last: "0–9"
ARROWS = frozenset("↑↓←→")


def first_stop(bindings: Iterable[BindingType]) -> list[BindingType]:
    """The same bindings as priority bindings: the app runs them when the key first reaches
    it. A plain binding of a focused widget or of the screen runs only after the key has gone
    from the app to the focused widget and bubbled back up through every container to the
    app: a turn of the event loop per step, a quarter of a second with 200 agents at work.
    For screens and widgets with nothing focusable inside that types (no Input, no editor):
    a priority binding takes its key before anything focused below it sees it."""
    return [replace(b, priority=True) for b in Binding.make_bindings(bindings)]


@dataclass(frozen=True)
class KeyRow:
    keys: str
    description: str
    tooltip: str = ""


def key_rows(
    bindings: Iterable[ActiveBinding], key_display: Callable[[Binding], str]
) -> list[KeyRow]:
    """One row per action (all its keys), one per run of bindings in the same group, and one
    for every cursor or scrolling move."""
    rows: list[KeyRow] = []
    moves: list[str] = []
    by_action: dict[str, list[Binding]] = {}
    for active in bindings:
        if not active.binding.system:
            by_action.setdefault(active.binding.action, []).append(active.binding)
    grouped: list[Binding] = []

    def close_group() -> None:
        if not grouped:
            return
        group = grouped[0].group
        assert group is not None
        keys = [key_display(b) for b in grouped]
        shown = " ".join(keys) if len(keys) <= LONG_GROUP else f"{keys[0]}–{keys[-1]}"
        every_tip = all(b.tooltip for b in grouped)  # a lone tooltip would describe one key
        tips = " / ".join(dict.fromkeys(b.tooltip for b in grouped)) if every_tip else ""
        rows.append(KeyRow(shown, group.description, tips))
        grouped.clear()

    for action, same in by_action.items():
        first = same[0]
        if action.startswith(MOVES):
            moves.extend(key_display(b) for b in same)
            continue
        if first.group is not None and (not grouped or grouped[0].group == first.group):
            grouped.append(first)
            continue
        close_group()
        if first.group is not None:
            grouped.append(first)
            continue
        keys = " ".join(dict.fromkeys(key_display(b) for b in same))
        rows.append(KeyRow(keys, first.description, first.tooltip))
    close_group()
    if moves:  # the arrows as the keys, the other moves after "move" (the key column is narrow)
        distinct = list(dict.fromkeys(moves))
        arrows = [k for k in distinct if k in ARROWS]
        others = " ".join(k for k in distinct if k not in ARROWS)
        rows.append(KeyRow("".join(arrows) or others, f"move · {others}" if arrows else "move"))
    return rows


def _title(node: DOMNode, fallback: str) -> str:
    return node.BINDING_GROUP_TITLE or fallback


def sections(
    active: Sequence[ActiveBinding], screen: DOMNode, key_display: Callable[[Binding], str]
) -> list[tuple[str, list[KeyRow]]]:
    """(title, rows): the keys the screen's own class binds, then each focused widget's, then
    the rest (the app's, and those every screen inherits: focus next, copy)."""
    # Our own classes' keys (a screen may take them from a base of ours), not Textual's.
    declared = [
        binding
        for cls in type(screen).__mro__
        if cls.__module__.startswith("maestro_tui.")
        for binding in cls.__dict__.get("BINDINGS", [])
    ]
    own_actions = {b.action for b in Binding.make_bindings(declared)}
    own = [a for a in active if a.node is screen and a.binding.action in own_actions]
    general = [a for a in active if a.node is screen.app or (a.node is screen and a not in own)]
    widgets: dict[DOMNode, list[ActiveBinding]] = {}
    for a in active:
        if a.node is not screen and a.node is not screen.app:
            widgets.setdefault(a.node, []).append(a)
    out = [(_title(screen, "this screen"), key_rows(own, key_display))]
    for node, bindings in widgets.items():
        out.append((_title(node, type(node).__name__.lower()), key_rows(bindings, key_display)))
    out.append(("everywhere", key_rows(general, key_display)))
    return [(title, rows) for title, rows in out if rows]


class KeysTable(Static):
    """The table of the screen's keys, by section (see the module docstring)."""

    COMPONENT_CLASSES = {"keys-table--key", "keys-table--description", "keys-table--title"}
    DEFAULT_CSS = """
    KeysTable { width: auto; height: auto; }
    KeysTable > .keys-table--key { color: $text-accent; text-style: bold; padding: 0 1; }
    KeysTable > .keys-table--description { color: $foreground; }
    KeysTable > .keys-table--title { color: $text-primary; text-style: underline; }
    """

    def render(self) -> Table:
        key_style = self.get_component_rich_style("keys-table--key")
        text_style = self.get_component_rich_style("keys-table--description")
        title_style = self.get_component_rich_style("keys-table--title")
        table = Table(box=box.SIMPLE, show_header=False, padding=(0, 0), show_edge=False)
        table.add_column("", justify="right")
        table.add_column("")
        active = list(self.screen.active_bindings.values())
        for n, (title, rows) in enumerate(sections(active, self.screen, self.app.get_key_display)):
            if n:
                table.add_row("", "")
            table.add_row("", Text(title, style=title_style))
            for row in rows:
                text = Text(row.description, style=text_style)
                if row.tooltip:
                    text.append(f" {row.tooltip}", style="dim")
                table.add_row(Text(row.keys, style=key_style), text)
        return table

    def plain(self) -> str:
        """The table as text (for tests and screen readers)."""
        lines = []
        active = list(self.screen.active_bindings.values())
        for title, rows in sections(active, self.screen, self.app.get_key_display):
            lines.append(f"[{title}]")
            lines.extend(f"{row.keys}  {row.description}".rstrip() for row in rows)
        return "\n".join(lines)


class KeysPanel(KeyPanel):
    """Textual's KeyPanel, redrawn as bindings change, with KeysTable; drawn over the right
    side of the screen instead of splitting it.

    Splitting the screen narrowed the dashboard: every pane was laid out and drawn again
    (twice: sizes that change ask for another layout), and below 110 columns the dashboard
    switched to its condensed layout. With 200 agents at work that took up to a third of a
    second. On its own layer (a screen that shows it declares `layers: default keys`), the
    dashboard keeps its size: only the panel is drawn, and what it uncovered when it closes.
    """

    DEFAULT_CSS = """
    KeysPanel {
        split: none;
        dock: right;
        layer: keys;
        height: 100%;
        margin-bottom: 1;  /* the footer stays in sight */
        background: $panel;
    }
    """

    def compose(self) -> ComposeResult:
        yield KeysTable(shrink=True, expand=False)


def toggle_keys_panel(screen: Screen[Any]) -> None:
    """Show the keys panel over `screen`, or close it if shown."""
    shown = screen.query(KeysPanel)
    if shown:
        shown.remove()
    else:
        screen.mount(KeysPanel())
