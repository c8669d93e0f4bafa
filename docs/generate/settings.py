"""The maestro.toml reference, written from the settings table every file is checked against.

Keys, checks and defaults come from `maestro_tui.config.settings` (its `_FIELDS` table and the
`Config` dataclass); what a key means comes from the comments of the template that
`maestro-tui init` writes, so the page says what the file says.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from maestro_tui.config import settings
from maestro_tui.config.checks import Bad
from maestro_tui.config.presets import WorkerSpec
from maestro_tui.domain.stages import RULES
from maestro_tui.sources import workflows

# Values that trip every check into saying what it accepts (the longest answer is kept).
PROBES: tuple[Any, ...] = (object(), "/..", ["/.."], [0])
# Sub-table names as the template writes them (an example) and as this page writes them.
GENERIC = (
    (re.compile(r'^llm\.prices\."[^"]*"$'), 'llm.prices."MODEL"'),
    (re.compile(r"^mcp\.stages\.[\w-]+$"), "mcp.stages.NAME"),
    (re.compile(r"^workers\.[\w-]+$"), "workers.NAME"),
)
# Keys whose meaning the template's comments do not give (or give only as an aside).
MEANINGS = {
    ("workers.NAME", "kind"): '"command" (a program run in the worktree), "llm" (the built-in'
    ' LLM worker), "demo", an entry-point plugin, or "package.module:factory"',
    ("workers.NAME", "argv"): "the command a command worker runs, one item per argument, with"
    " the placeholders {prompt} {task_id} {title} {worktree} {run_id} {attempt} {files}",
    ("workers.NAME", "env"): "extra variables for its process (never a key: name the variable"
    " in pass_env instead)",
    ("workflows.NAME", "description"): "what the workflow does, shown by `maestro-tui workflows`",
}
TYPE_NAMES = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false"}


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    meaning: str


def _generic(table: str) -> str:
    for pattern, name in GENERIC:
        if pattern.match(table):
            return name
    return table


def template_notes() -> dict[tuple[str, str], str]:
    """(table, key) -> the comment the init template gives it; ("intro", table) for a table's
    comment before its first key."""
    text = resources.files("maestro_tui.config").joinpath("template.toml").read_text("utf-8")
    notes: dict[tuple[str, str], str] = {}
    table, shared = "", ""
    prose: list[str] = []
    for line in text.splitlines():
        stripped = line.strip().lstrip("#").strip()
        header = re.fullmatch(r"\[([^\]]+)\]", stripped)
        key = re.match(r"([a-z_]+)\s*=\s*(.*)$", stripped)
        if header:
            table = _generic(header.group(1))
            notes.setdefault(("intro", table), " ".join(prose))
            prose, shared = [], ""
        elif key:
            trailing = key.group(2).partition("  # ")[2].strip() if line.startswith("#") else ""
            meaning = trailing or " ".join(prose) or shared
            if meaning:
                notes.setdefault((table, key.group(1)), meaning)
            shared = " ".join(prose) or shared
            prose = []
        elif stripped:
            prose.append(stripped)
    return notes


def allowed(check: Callable[[Any], Any], annotation: str) -> str:
    """What a check accepts, in its own words, or the annotation's type when it says nothing."""
    said = []
    for probe in PROBES:
        try:
            check(probe)
        except Bad as exc:
            said.append(exc.allowed.removeprefix("must be "))
    if not said:
        bare = annotation.replace(" | None", "")
        if bare.startswith("tuple"):
            return "a list of strings"
        return TYPE_NAMES.get(bare, "a table")
    best = max(said, key=len)
    if annotation.startswith("tuple") and not best.startswith("a list"):
        return f"a list, each {best}"
    return best


def toml_value(value: Any) -> str:
    """A default as it would be written in maestro.toml; None is a key left out."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, tuple | list):
        return "`[" + ", ".join(_toml_item(v) for v in value) + "]`"
    if isinstance(value, Mapping):
        return "`{" + ", ".join(f"{k} = {_toml_item(v)}" for k, v in value.items()) + "}`"
    return f"`{_toml_item(value)}`"


def _toml_item(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def main_tables(notes: Mapping[tuple[str, str], str]) -> Iterator[tuple[str, list[Row]]]:
    """(heading, rows) of each table of `_FIELDS`, in the order of the file and its messages."""
    defaults = _field_defaults(settings.Config)
    tables: dict[str, list[Row]] = {}
    for section, key, name, check in settings._FIELDS:
        annotation, default = defaults[name]
        meaning = notes.get((section, key), "")
        row = Row(key, allowed(check, annotation), toml_value(default), meaning)
        tables.setdefault(f"`[{section}]`", []).append(row)
    yield from tables.items()


def sub_tables(notes: Mapping[tuple[str, str], str]) -> Iterator[tuple[str, list[Row]]]:
    """The tables a name opens: prices per model, a stage's budget, workers, workflows."""
    prices, stages = 'llm.prices."MODEL"', "mcp.stages.NAME"
    price = notes[("intro", prices)]
    yield (
        f"`[{prices}]`",
        [Row(k, "a number at least 0", "required", price) for k in settings._PRICE_KEYS],
    )
    budgets = []
    for kind in ("consults", "ensembles"):
        own = ", ".join(f"{stage} {getattr(rule, kind)}" for stage, rule in RULES.items())
        budgets.append(Row(kind, "an integer of at least 0", own, notes[("intro", stages)]))
    yield f"`[{stages}]`", budgets
    spec = _field_defaults(WorkerSpec)
    rows = []
    for key, check in settings._WORKER_KEYS.items():
        annotation, default = spec[key]
        meaning = MEANINGS.get(("workers.NAME", key)) or notes[("workers.NAME", key)]
        rows.append(Row(key, allowed(check, annotation), toml_value(default), meaning))
    yield "`[workers.NAME]`", rows
    yield "`[workflows.NAME]`", list(workflow_rows())
    yield "`[[workflows.NAME.stages]]` and `[[workflows.NAME.then]]`", list(step_rows())


def _field_defaults(cls: type) -> dict[str, tuple[str, Any]]:
    """A dataclass's field -> (its annotation, its default, or MISSING)."""
    found = {}
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        found[f.name] = (str(f.type), default)
    return found


def workflow_rows() -> Iterator[Row]:
    """[workflows.NAME] keys, described as the workflows module's docstring lists them."""
    doc = workflows.__doc__ or ""
    described: dict[str, tuple[str, str]] = {}
    for found in re.finditer(r"^\s{4}(\w+)\s*=\s*(.+?)(?:\s{2,}#\s*(.*))?$", doc, re.M):
        described.setdefault(found.group(1), (found.group(2), found.group(3) or ""))
    for key, comment in re.findall(r"\[\[(\w+)\]\]\s+#\s*(.*)", doc):
        described[key] = (f"[[workflows.NAME.{key}]]", comment)
    defaults = {**_field_defaults(workflows.Step), **_field_defaults(workflows.Workflow)}
    for key in workflows._TOP_KEYS:
        example, comment = described.get(key, ("", ""))
        stated = re.search(r"default:? ([^)]+)", comment)
        default = defaults.get(key, ("", dataclasses.MISSING))[1]
        if stated:
            text = stated.group(1).strip()
            shown = f"`{text}`" if text[:1] in '"{0123456789' else text
        else:
            shown = "unset" if default is dataclasses.MISSING else toml_value(default)
        meaning = MEANINGS.get(("workflows.NAME", key)) or comment
        yield Row(key, _example_type(example), shown, meaning)


def step_rows() -> Iterator[Row]:
    """The keys of a workflow's [[stages]] and [[then]] tasks."""
    defaults = _field_defaults(workflows.Step)
    for key in workflows._STEP_KEYS:
        annotation, default = defaults[key]
        shown = "unset" if default is dataclasses.MISSING else toml_value(default)
        meaning = (
            "the task's id, unique in the workflow"
            if key == "id"
            else (f"as `{key}` of the workflow, for this one task")
        )
        required = " (required)" if key in ("id", "prompt") else ""
        yield Row(key, allowed(lambda v: v, annotation), shown, meaning + required)


def _example_type(example: str) -> str:
    if example.startswith("[["):
        return f"a list of tables, each `{example}`"
    value = tomllib.loads(f"v = {example}")["v"]
    names = {str: "a string", int: "an integer", float: "a number", list: "a list of strings"}
    return names[type(value)]


def _cell(text: str) -> str:
    """Text for a table cell: one line, `|` escaped, `<` outside code spans escaped."""
    pieces = " ".join(text.split()).replace("|", "\\|").split("`")
    return "`".join(p if i % 2 else p.replace("<", "&lt;") for i, p in enumerate(pieces))


def settings_reference() -> str:
    """Markdown: every table of maestro.toml with each key's type, default and meaning."""
    notes = template_notes()
    lines: list[str] = []
    for heading, rows in (*main_tables(notes), *sub_tables(notes)):
        lines += [
            "",
            f"## {heading}",
            "",
            "| key | type | default | meaning |",
            "|---|---|---|---|",
        ]
        lines += [f"| `{r.key}` | {_cell(r.type)} | {_cell(r.default)} | {_cell(r.meaning)} |"
                  for r in rows]  # fmt: skip
    return "\n".join(lines).strip() + "\n"
