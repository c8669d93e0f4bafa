"""mkdocs hooks: the generated parts of the reference pages, and the screenshots.

A page asks for a generated part with a marker line, `<!-- generated: NAME -->`; the build
replaces it with what the code says today, so no generated text is committed and none can
drift. The screenshots stay in the top-level screenshots/ folder (the README shows them) and
are added to the site as if they were in docs/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generate.cli import cli_reference
from generate.events import events_reference
from generate.settings import settings_reference

GENERATORS: dict[str, Callable[[], str]] = {
    "cli": cli_reference,
    "maestro.toml": settings_reference,
    "events": events_reference,
}
MARKER = re.compile(r"^<!-- generated: ([\w.-]+) -->$", re.MULTILINE)
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


def expand(markdown: str) -> str:
    """`markdown` with each marker replaced by its generated text; an unknown one is an error."""

    def generated(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown marker <!-- generated: {name} -->: {sorted(GENERATORS)}")
        return GENERATORS[name]()

    return MARKER.sub(generated, markdown)


def on_page_markdown(markdown: str, **_: Any) -> str:
    return expand(markdown)


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for picture in sorted(SCREENSHOTS.glob("*")):
        if picture.suffix in (".svg", ".png"):
            uri = f"screenshots/{picture.name}"
            files.append(File.generated(config, uri, abs_src_path=str(picture)))
    return files
