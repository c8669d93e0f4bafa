"""The engine and its adapters never import Textual; the CLI starts without litellm."""

from __future__ import annotations

import subprocess
import sys

ENGINE_MODULES = [
    "maestro_tui.domain.state",
    "maestro_tui.engine.orchestrator",
    "maestro_tui.engine.scheduler",
    "maestro_tui.engine.merge_queue",
    "maestro_tui.workspace",
    "maestro_tui.store",
    "maestro_tui.agents.command",
    "maestro_tui.headless",
    "maestro_tui.engine.replay",
    "maestro_tui.engine.attempt",
    "maestro_tui.watch",
]


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print(' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_engine_imports_without_textual() -> None:
    loaded = _loaded_after_import(ENGINE_MODULES)
    assert "textual" not in loaded
    assert "litellm" not in loaded  # imported lazily, only when a model is called


def test_cli_help_does_not_import_litellm_or_textual() -> None:
    code = (
        "import sys\nfrom maestro_tui import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('MODS', 'litellm' in sys.modules, 'textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "MODS False False" in out.stdout
