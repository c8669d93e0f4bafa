"""Importing the models layer is cheap: no litellm (seconds) and no Textual until a call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MODULES = [
    "maestro_tui.llm.client",
    "maestro_tui.llm.demo.model",
    "maestro_tui.llm.tools",
    "maestro_tui.llm.worker",
    "maestro_tui.llm.planner",
    "maestro_tui.llm.roles",
    "maestro_tui.llm.forecast",
    "maestro_tui.llm.demo",
    "maestro_tui.llm.demo.script",
]


def test_llm_modules_import_without_litellm_or_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in MODULES)
        + "print(sorted(m for m in ('litellm', 'textual', 'openai') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_importing_litellm_loads_no_dotenv_file(tmp_path: Path) -> None:
    # In its default mode litellm loads the first `.env` upwards from its own install into
    # os.environ on import: keys nobody gave maestro-tui, unknown to the event scrubber.
    code = (
        "import os, dotenv\n"
        "calls = []\n"
        "dotenv.load_dotenv = lambda *a, **k: calls.append(a) or True\n"
        "from maestro_tui.llm.client import import_litellm\n"
        "import_litellm()\n"
        "print(len(calls), os.environ['LITELLM_MODE'])\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "LITELLM_MODE"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
        cwd=tmp_path,
    )  # fmt: skip
    assert result.stdout.split() == ["0", "PRODUCTION"]


def test_a_demo_call_loads_no_tokenizer_and_settles_the_heap() -> None:
    # Token counts come from the streamed usage; litellm's tokenizer (tiktoken's cl100k,
    # ~39 MB) is loaded only if something reads it.
    code = (
        "import asyncio, os, sys\n"
        "os.environ['MAESTRO_DEMO_PACE'] = '0'\n"
        "from maestro_tui.llm.client import LLMClient\n"
        "asyncio.run(LLMClient('demo/coder').complete([{'role': 'user', 'content': 'hi'}]))\n"
        "loaded = 'litellm.litellm_core_utils.default_encoding' in sys.modules\n"
        "import gc\n"
        "frozen = gc.get_freeze_count() > 100_000\n"
        "import litellm.main\n"
        "from litellm.litellm_core_utils.default_encoding import encoding\n"
        "real = encoding.encode('hello world')\n"
        "print(loaded, litellm.main.encoding.encode('hello world') == real, frozen)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    # ...and what litellm loaded is out of the garbage collector's reach (no full
    # collection walks it again: those were 280 ms pauses of the event loop).
    assert result.stdout.split() == ["False", "True", "True"], result.stderr[-2000:]
