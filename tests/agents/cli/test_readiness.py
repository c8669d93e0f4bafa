"""Worker readiness of the installed coding CLIs, each checked inside a loopback-only network
namespace beside its model server: its `--version` runs there, its endpoint is probed there."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_tui.agents.readiness import check_worker
from maestro_tui.config.presets import PRESETS
from tests.agents.cli_harness import AGENTS, Lab, base_env

pytestmark = pytest.mark.cli

MakeLab = Callable[..., Lab]
VERSION = re.compile(r", version \d+\.\d+\.\d+$")
# The variables a user of each CLI sets to point it at the lab's server.
BASE_URL = {
    "claude": ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", ""),
    "codex": ("OPENAI_API_KEY", "OPENAI_BASE_URL", "/v1"),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", ""),
    "aider": ("OPENAI_API_KEY", "OPENAI_API_BASE", "/v1"),
}


@pytest.mark.parametrize("name", list(BASE_URL))
def test_an_installed_cli_with_a_key_and_a_live_endpoint_is_ready(
    name: str, make_lab: MakeLab, tmp_path: Path
) -> None:
    lab = make_lab(name)
    key, base_url, suffix = BASE_URL[name]
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    url = lab.server.url + suffix
    env = base_env(home, tmp, {key: lab.cli.key, base_url: url})
    with lab.netns.entered():  # this thread, and so the programs it starts, see only loopback
        findings = check_worker(PRESETS[name], env)
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{free.getsockname()[1]}"
        dead = check_worker(PRESETS[name], {**env, base_url: closed})
    program, login, endpoint = findings
    assert (program.ok, program.what) == (True, f"{name}: program found")
    assert program.detail.startswith(str(AGENTS / "bin" / name) + ", ")
    assert VERSION.search(program.detail), program.detail
    assert (login.ok, login.what, login.detail) == (
        True,
        f"{name}: a key or login is present",
        f"{key} set",
    )
    assert (endpoint.ok, endpoint.what) == (True, f"{name}: model endpoint reachable")
    assert re.fullmatch(re.escape(url) + r" answered HTTP \d{3}", endpoint.detail)
    assert (dead[-1].ok, dead[-1].what, dead[-1].detail) == (
        False,
        f"{name}: model endpoint unreachable",
        f"{closed}: connection refused; check {base_url}",
    )
