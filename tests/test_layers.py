"""The layer contract, read from every module's imports, and what each layer may load at all.

Every import counts, including the lazy ones inside functions and those under TYPE_CHECKING:
a lazy import is still a dependency, only a cheaper one.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import maestro_tui

PACKAGE = Path(maestro_tui.__file__).parent

# Top to bottom. A room may import only from rooms of lower layers; rooms sharing a layer are
# independent of each other. A room is a sub-package or a top-level module of maestro_tui.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("cli",),
    ("ui", "headless", "web", "mcp_server"),
    ("session",),
    ("engine", "sources"),
    ("llm",),
    ("agents",),
    ("workspace", "store", "watch", "notify"),
    ("process",),
    ("config",),
    ("domain",),
    ("",),  # the package itself: its version
)
LAYER_OF = {room: depth for depth, rooms in enumerate(LAYERS) for room in rooms}

# The engine's own parts, top to bottom, by the same rule: a part is a sub-package of the engine
# or one of its top-level modules. A module outside a sub-package imports it through its face,
# its `__init__`, never a module inside it.
ENGINE_PARTS: tuple[tuple[str, ...], ...] = (
    ("orchestrator",),
    ("attempt",),
    ("fixloop",),
    ("merge", "executors", "history"),
    ("scheduler", "budget", "steering", "reporter", "context", "selection", "runlock"),
    ("bus",),
)
PART_LAYER = {part: depth for depth, parts in enumerate(ENGINE_PARTS) for part in parts}
FACES = ("engine.merge", "engine.executors", "engine.history", "sources")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def package_modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "sample_repo" in path.parts:  # the demo's sample project, not our code
            continue
        found[module_name(path)] = path
    return found


def imports_of(module: str, path: Path, known: set[str]) -> Iterator[str]:
    """The maestro_tui modules `module` imports, resolved to modules that exist."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from pkg import name` imports pkg.name when that is a module, else pkg
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target == "maestro_tui" or target.startswith("maestro_tui."):
                while target not in known and "." in target:
                    target = target.rpartition(".")[0]
                yield target


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    known = set(modules)
    return {m: set(imports_of(m, p, known)) - {m} for m, p in modules.items()}


def test_every_room_has_a_layer() -> None:
    rooms = {room(m) for m in package_modules()}
    assert rooms <= set(LAYER_OF), f"put these in LAYERS: {sorted(rooms - set(LAYER_OF))}"


def test_no_upward_or_sideways_import() -> None:
    bad = []
    for module, targets in sorted(import_graph().items()):
        here = room(module)
        for target in sorted(targets):
            there = room(target)
            if there != here and LAYER_OF[there] <= LAYER_OF[here]:
                bad.append(f"{module} -> {target}")
    assert not bad, "imports that go up or sideways:\n" + "\n".join(bad)


def part(module: str) -> str | None:
    """The engine part a module belongs to, None outside the engine or for its face."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "engine" else None


def test_every_engine_part_has_a_layer() -> None:
    parts = {p for p in map(part, package_modules()) if p is not None}
    assert parts <= set(PART_LAYER), f"put these in ENGINE_PARTS: {sorted(parts - set(PART_LAYER))}"


def test_engine_parts_import_only_downward() -> None:
    bad = []
    for module, targets in sorted(import_graph().items()):
        here = part(module)
        for target in sorted(targets):
            there = part(target)
            if here and there and here != there and PART_LAYER[there] <= PART_LAYER[here]:
                bad.append(f"{module} -> {target}")
    assert not bad, "engine imports that go up or sideways:\n" + "\n".join(bad)


def test_packages_are_entered_through_their_face() -> None:
    bad = []
    for module, targets in sorted(import_graph().items()):
        for face in FACES:
            inside = f"maestro_tui.{face}."
            if module.startswith(inside) or module == f"maestro_tui.{face}":
                continue
            bad += [f"{module} -> {t}" for t in sorted(targets) if t.startswith(inside)]
    assert not bad, "import these through the package's __init__:\n" + "\n".join(bad)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_no_import_cycle_between_modules() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checks_themselves_catch_what_they_should() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert room("maestro_tui.engine.scheduler") == "engine" and room("maestro_tui") == ""
    known = {"maestro_tui.engine", "maestro_tui.engine.bus", "maestro_tui.domain.events"}
    source = PACKAGE / "engine" / "scheduler.py"
    found = set(imports_of("maestro_tui.engine.scheduler", source, known | {"x"}))
    assert {"maestro_tui.engine.bus", "maestro_tui.domain.events"} <= found


# --- what each layer loads at run time -------------------------------------------------------

HEADLESS_MODULES = [
    "maestro_tui.domain.state",
    "maestro_tui.engine.orchestrator",
    "maestro_tui.engine.scheduler",
    "maestro_tui.engine.merge.queue",
    "maestro_tui.engine.history.replayer",
    "maestro_tui.engine.attempt",
    "maestro_tui.workspace",
    "maestro_tui.store",
    "maestro_tui.agents.command",
    "maestro_tui.engine.history.follower",
    "maestro_tui.watch",
    "maestro_tui.session.lifecycle",
    "maestro_tui.session.plans",
    "maestro_tui.headless.run",
    "maestro_tui.headless.review",
]


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print(' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_engine_session_and_headless_load_without_textual_or_litellm() -> None:
    loaded = _loaded_after_import(HEADLESS_MODULES)
    assert "textual" not in loaded
    assert "litellm" not in loaded  # imported lazily, only when a model is called


def test_cli_help_does_not_import_litellm_or_textual() -> None:
    code = (
        "import sys\nfrom maestro_tui import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('MODS', *(m in sys.modules for m in ('litellm', 'textual', 'mcp')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "MODS False False False" in out.stdout


def test_the_mcp_server_loads_without_textual_or_litellm() -> None:
    loaded = _loaded_after_import(["maestro_tui.mcp_server.server"])
    assert "mcp" in loaded
    assert "textual" not in loaded
    assert "litellm" not in loaded  # until the first model call


# --- how long a function may be ---------------------------------------------------------------

MAX_FUNCTION_LINES = 60
# The demo model's script (its worker turn plays the scripted steps in order): exempt.
LONG_FUNCTIONS_ALLOWED = {"maestro_tui.llm.demo.model"}


def long_functions(path: Path, limit: int = MAX_FUNCTION_LINES) -> Iterator[tuple[str, int, int]]:
    """(qualified name, first line, length) of each function in `path` over `limit` lines,
    counted from its `def` to its last line."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}."
                length = (child.end_lineno or child.lineno) - child.lineno + 1
                if not isinstance(child, ast.ClassDef) and length > limit:
                    yield name[:-1], child.lineno, length
            yield from walk(child, name)

    yield from walk(ast.parse(path.read_text(encoding="utf-8")), "")


def test_no_function_is_over_60_lines() -> None:
    too_long = [
        f"{path.relative_to(PACKAGE.parent)}:{line} {name} ({length} lines)"
        for module, path in sorted(package_modules().items())
        if module not in LONG_FUNCTIONS_ALLOWED
        for name, line, length in long_functions(path)
    ]
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(too_long)


def test_long_functions_are_found_nested_and_named(tmp_path: Path) -> None:
    body = "".join(f"x{n} = {n}\n" for n in range(60))  # with its `def`: 61 lines
    indented = {
        depth: "".join(" " * depth + line for line in body.splitlines(True)) for depth in (4, 8)
    }
    source = (
        "class A:\n    def short(self):\n        pass\n\n"
        f"    def long(self):\n{indented[8]}\n"
        f"def outer():\n    def inner():\n{indented[8]}{indented[4]}"
    )
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    found = {name: length for name, _line, length in long_functions(path)}
    assert found == {"A.long": 61, "outer": 122, "outer.inner": 61}
