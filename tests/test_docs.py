"""The documentation site: it builds strictly, and what it says about the code is the code's.

The reference pages are generated at build time by docs/hooks.py; these tests call its
generators directly, so a command, a setting or an event that the reference misses fails here.
The tables written by hand that describe the code (the layers, exit codes, plan keys, runtime
packages) are checked against the code too.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from maestro_tui.config import settings
from maestro_tui.domain.events import EVENT_TYPES
from maestro_tui.domain.plan import TASK_KEYS
from maestro_tui.session import outcome
from maestro_tui.sources import workflows
from tests.test_layers import ENGINE_PARTS, LAYERS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def docs() -> SimpleNamespace:
    """docs/hooks.py and the generators, loaded as mkdocs loads them (docs/ on the path)."""
    spec = importlib.util.spec_from_file_location("maestro_docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(DOCS))
    try:
        spec.loader.exec_module(hooks)
        generators = {n: importlib.import_module(f"generate.{n}") for n in ("cli", "settings")}
    finally:
        sys.path.remove(str(DOCS))
    return SimpleNamespace(hooks=hooks, **generators)


def section(markdown: str, heading: str) -> str:
    """The text under `## heading` (or `### heading`), up to the next heading of that level."""
    found = re.search(rf"^(#+) {re.escape(heading)}\n(.*?)(?=^\1 |\Z)", markdown, re.M | re.S)
    assert found, f"no heading '{heading}'"
    return found.group(2)


def table_rows(text: str) -> list[list[str]]:
    """The cells of the first Markdown table in `text`, header and rule left out."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    rows = [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
    return rows[2:]


# --- the site --------------------------------------------------------------------------------


def test_the_site_builds_strict_with_every_generated_part(tmp_path: Path) -> None:
    missing = [m for m in ("mkdocs", "material") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: pip install -e '.[dev]' (make docs)")
    site = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    pages = {p.relative_to(site).as_posix(): p.read_text("utf-8") for p in site.rglob("*.html")}
    assert "maestro-tui run" in pages["reference/cli.html"]
    assert "max_agents" in pages["reference/maestro-toml.html"]
    assert "MergeTested" in pages["reference/events.html"]
    assert not [name for name, html in pages.items() if "<!-- generated:" in html]
    assert (site / "screenshots" / "dashboard.svg").is_file()
    assert not list(site.rglob("*.py")), "the hooks and generators are not part of the site"


def test_an_unknown_marker_fails_the_build(docs: SimpleNamespace) -> None:
    with pytest.raises(ValueError, match="unknown marker"):
        docs.hooks.expand("<!-- generated: nothing-of-that-name -->\n")


# --- generated references --------------------------------------------------------------------


def test_every_command_and_option_is_in_the_cli_reference(docs: SimpleNamespace) -> None:
    parser: argparse.ArgumentParser = docs.cli.full_parser()
    reference = str(docs.hooks.GENERATORS["cli"]())
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert found, "the parser has no commands"
    for name, sub in found[0].choices.items():
        text = section(reference, f"`maestro-tui {name}`")
        assert "usage: maestro-tui " + name in text
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in ("-h", "--help") or f"`{flag}" in text, f"{name} {flag}"


def test_every_setting_is_in_the_maestro_toml_reference(docs: SimpleNamespace) -> None:
    reference = str(docs.hooks.GENERATORS["maestro.toml"]())
    tables: dict[str, list[str]] = {}
    for table, key, _field, _check in settings._FIELDS:
        tables.setdefault(f"`[{table}]`", []).append(key)
    tables['`[llm.prices."MODEL"]`'] = list(settings._PRICE_KEYS)
    tables["`[mcp.stages.NAME]`"] = ["consults", "ensembles"]
    tables["`[workers.NAME]`"] = list(settings._WORKER_KEYS)
    tables["`[workflows.NAME]`"] = list(workflows._TOP_KEYS)
    tables["`[[workflows.NAME.stages]]` and `[[workflows.NAME.then]]`"] = list(workflows._STEP_KEYS)
    for heading, keys in tables.items():
        rows = table_rows(section(reference, heading))
        assert [row[0] for row in rows] == [f"`{key}`" for key in keys], heading
        blank = [row[0] for row in rows if not all(row)]
        assert not blank, f"{heading}: no type, default or meaning for {blank}"


def test_every_event_is_in_the_events_reference(docs: SimpleNamespace) -> None:
    reference = str(docs.hooks.GENERATORS["events"]())
    missing = [name for name in EVENT_TYPES if f"### `{name}`" not in reference]
    assert not missing


# --- tables written by hand, checked against the code ----------------------------------------


def rooms(cell: str) -> tuple[str, ...]:
    """Room names of a table cell: `cli/` -> cli, `watch.py` -> watch, `__init__.py` -> ''."""
    names = re.findall(r"`([^`]+)`", cell)
    return tuple(
        "" if n == "__init__.py" else n.removesuffix("/").removesuffix(".py") for n in names
    )


def test_the_layer_table_is_the_layer_contract() -> None:
    text = (DOCS / "architecture.md").read_text("utf-8")
    layers = tuple(rooms(row[1]) for row in table_rows(section(text, "Layers")))
    assert layers == LAYERS, "docs/architecture.md's layer table differs from tests/test_layers.py"
    parts = tuple(rooms(row[1]) for row in table_rows(section(text, "Engine parts")))
    assert parts == ENGINE_PARTS, "its engine parts differ from tests/test_layers.py"


def test_the_exit_codes_page_lists_every_exit_code() -> None:
    text = (DOCS / "reference" / "exit-codes.md").read_text("utf-8")
    listed = {int(row[0]) for row in table_rows(text)}
    codes = {v for k, v in vars(outcome).items() if k.startswith("EXIT_") and isinstance(v, int)}
    assert listed == codes


def test_the_plan_format_lists_every_task_key() -> None:
    text = (DOCS / "reference" / "plan-format.md").read_text("utf-8")
    keys = {row[0].strip("`") for row in table_rows(section(text, "Task keys"))}
    assert keys == TASK_KEYS


def test_the_dependencies_page_says_why_of_every_runtime_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    names = {re.split(r"[\[<>=!~ ]", spec)[0] for spec in project["dependencies"]}
    text = (DOCS / "dependencies.md").read_text("utf-8")
    listed = {row[0].strip("`") for row in table_rows(section(text, "Runtime"))}
    assert listed == names


# --- the README, the front page --------------------------------------------------------------


def test_the_readme_is_a_front_page_whose_links_resolve() -> None:
    text = (ROOT / "README.md").read_text("utf-8")
    assert len(text.splitlines()) < 250, "keep the README a front page; the manual is docs/"
    assert "make demo" in text and "make test" in text
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:|#", t)]
    assert any(t.startswith("docs/") for t in local)
    assert not [t for t in local if not (ROOT / t).exists()]
