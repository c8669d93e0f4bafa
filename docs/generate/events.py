"""The events reference, read from the event classes in `maestro_tui.domain.events`.

Each class's docstring, fields, defaults and field comments come from its source, so a new
event or field shows up here without anyone writing it down.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass

from maestro_tui.domain import events

# Subjects in the order a run meets them; a module not named here comes after them.
ORDER = ("run", "tasks", "agents", "merges", "usage", "human", "lineage")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    default: str
    comment: str


@dataclass(frozen=True)
class EventDoc:
    name: str
    doc: str
    fields: tuple[Field, ...]


def _comment(lines: list[str], node: ast.stmt) -> str:
    """The comment on a field's line, or the comment lines right above it."""
    line = lines[node.lineno - 1]
    code, _, trailing = line.partition("  # ")
    if trailing and "#" not in code:
        return trailing.strip()
    above: list[str] = []
    for prior in reversed(lines[: node.lineno - 1]):
        if not prior.strip().startswith("#"):
            break
        above.insert(0, prior.strip().lstrip("#").strip())
    return " ".join(above)


def _events_of(module_name: str) -> Iterator[EventDoc]:
    module = importlib.import_module(module_name)
    source = inspect.getsource(module)
    lines = source.splitlines()
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef) or node.name not in events.EVENT_TYPES:
            continue
        fields = []
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                default = ast.unparse(item.value) if item.value is not None else ""
                annotation = ast.unparse(item.annotation)
                fields.append(Field(item.target.id, annotation, default, _comment(lines, item)))
        doc = " ".join((ast.get_docstring(node) or "").split())
        yield EventDoc(node.name, doc, tuple(fields))


def subjects() -> Iterator[tuple[str, str, list[EventDoc]]]:
    """(module, its docstring's first line, its events) for each module of events."""
    names = [info.name for info in pkgutil.iter_modules(events.__path__)]
    rank = {name: i for i, name in enumerate(ORDER)}
    for short in sorted(names, key=lambda n: (rank.get(n, len(ORDER)), n)):
        name = f"{events.__name__}.{short}"
        found = list(_events_of(name))
        if found:
            doc = (importlib.import_module(name).__doc__ or "").strip().splitlines()[0]
            yield short, doc, found


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def events_reference() -> str:
    """Markdown: every event type by subject, with its fields, their types and defaults."""
    lines: list[str] = []
    for _module, doc, found in subjects():
        lines += [f"## {doc.rstrip('.')}", ""]
        for event in found:
            lines += [f"### `{event.name}`", ""]
            if event.doc:
                lines += [event.doc, ""]
            if not event.fields:
                lines += ["No fields beyond the stamped ones.", ""]
                continue
            lines += ["| field | type | default | note |", "|---|---|---|---|"]
            for f in event.fields:
                default = f"`{f.default}`" if f.default else "required"
                lines.append(f"| `{f.name}` | `{_cell(f.type)}` | {default} | {_cell(f.comment)} |")
            lines.append("")
    return "\n".join(lines)
