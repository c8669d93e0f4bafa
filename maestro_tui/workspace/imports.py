"""What a source file imports, resolved to the repository's files: Python through ast,
JavaScript and TypeScript (`import … from`, `import()`, `require()`) through a regex."""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Collection, Iterator

from maestro_tui.workspace.files import SCRIPT_SUFFIXES

MIN_NAME = 3  # shorter module names match too much text to find importers by
_JS_IMPORT = re.compile(
    rb"""(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"\n]{1,300})['"]"""
)
_TEST = re.compile(r"(^|/)(tests?|__tests__|spec)/|(^|/)test_[^/]*$|[._-](test|spec)\.[^/]+$")
_PY_IMPORT_LINE = re.compile(
    rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import|import[ \t]+([\w.]+))", re.M
)


def is_python(name: str) -> bool:
    return name.endswith(".py")


def is_script(name: str) -> bool:
    return name.endswith(SCRIPT_SUFFIXES)


def _module_parts(name: str) -> tuple[str, ...]:
    """`pkg/sub/mod.py` -> (pkg, sub, mod); a package's `__init__.py` is the package."""
    parts = tuple(name[:-3].split("/"))
    return parts[:-1] if parts[-1] == "__init__" else parts


class ModuleIndex:
    """Finds the file a Python module name or a relative JS/TS specifier means."""

    SOURCE_ROOTS = ("", "src/", "lib/", "python/")

    def __init__(self, files: Collection[str]) -> None:
        self.files = files if isinstance(files, set | frozenset) else set(files)

    def python(self, dotted: str, importer: str = "") -> str | None:
        """The file of a module ("shop.pricing" -> "shop/pricing.py", or under src/, lib/,
        python/ or a folder of the importer), as Python would find it from such a root."""
        parts = [p for p in dotted.split(".") if p]
        if not parts:
            return None
        module = "/".join(parts)
        folders = importer.split("/")[:-1]
        ancestors = ["/".join(folders[:n]) + "/" for n in range(len(folders), 0, -1)]
        for root in (*self.SOURCE_ROOTS, *ancestors):
            for candidate in (f"{root}{module}.py", f"{root}{module}/__init__.py"):
                if candidate in self.files:
                    return candidate
        return None

    def script(self, spec: str, importer: str) -> str | None:
        """The file a relative specifier ('./cart', '../lib/x.js') of `importer` means."""
        if not spec.startswith("."):
            return None  # a package, or an alias only the bundler knows
        base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
        stem = base[: -len(posixpath.splitext(base)[1])] if base.endswith(SCRIPT_SUFFIXES) else ""
        candidates = [base, *(base + s for s in SCRIPT_SUFFIXES)]
        candidates += [f"{base}/index{s}" for s in SCRIPT_SUFFIXES]
        if stem:  # TypeScript imports './x.js' meaning x.ts
            candidates += [stem + s for s in SCRIPT_SUFFIXES]
        return next((c for c in candidates if c in self.files), None)


def imports_of(name: str, source: bytes, index: ModuleIndex) -> list[str]:
    """The repository files `name` imports (its source given), in order, once each."""
    found: list[str | None] = []
    if is_python(name):
        for meanings in _python_imports(name, source):
            found.append(next(filter(None, (index.python(m, name) for m in meanings)), None))
    elif is_script(name):
        specs = (m.group(1).decode("utf-8", "replace") for m in _JS_IMPORT.finditer(source))
        found = [index.script(s, name) for s in specs]
    return list(dict.fromkeys(f for f in found if f is not None and f != name))


def _python_imports(name: str, source: bytes) -> Iterator[tuple[str, ...]]:
    """What each imported name may be, most specific first: `from a import b` is the module
    a.b, or else the name b of the module a."""
    package = list(_module_parts(name))
    if not name.endswith("__init__.py"):
        package = package[:-1]
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        yield from ((m,) for m in _python_modules_by_line(source))
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name,) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                up = len(package) - (node.level - 1)
                if up < 0:
                    continue
                base = ".".join([*package[:up], *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                if alias.name == "*":
                    yield (base,)
                else:
                    yield (f"{base}.{alias.name}", base) if base else (alias.name,)


def _python_modules_by_line(source: bytes) -> Iterator[str]:
    """Absolute imports read line by line, for a file ast cannot parse."""
    for match in _PY_IMPORT_LINE.finditer(source):
        module = (match.group(1) or match.group(2) or b"").decode("utf-8", "replace")
        if module and not module.startswith("."):
            yield module


def importer_needles(name: str) -> list[str]:
    """Text whose presence in a source file says it likely imports `name`: found by the
    same search that finds the goal's words, so importers cost no second pass. Few, and
    none for a test (nothing imports a test): each one costs that search ~10% more CPU."""
    if _TEST.search(name):
        return []
    if is_python(name):
        parts = _module_parts(name)
        if not parts or len(parts[-1]) < MIN_NAME:
            return []
        # `from a.leaf import x`, `from .leaf import x`; `import leaf`, `from a import leaf`
        return [f"{parts[-1]} import", f"import {parts[-1]}"]
    if is_script(name):
        stem = posixpath.splitext(posixpath.basename(name))[0]
        if stem == "index":
            stem = posixpath.basename(posixpath.dirname(name))
        if len(stem) < MIN_NAME:
            return []
        return [f"/{stem}'", f'/{stem}"', f"/{stem}.js"]
    return []


def needle_applies(needle_of: str, importer: str) -> bool:
    """A needle of a Python module counts in Python files; one of a script, in scripts."""
    return is_python(importer) if is_python(needle_of) else is_script(importer)
