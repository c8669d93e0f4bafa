"""Worker readiness: programs found or not, keys and logins, and real loopback endpoints that
answer, refuse, or accept and say nothing. No coding CLI runs here (see cli/test_readiness)."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from maestro_tui.agents.readiness import (
    Endpoint,
    Finding,
    check_worker,
    model_endpoint,
    probe_endpoint,
    unreachable_endpoints,
    why_unreachable,
)
from maestro_tui.config.presets import PRESETS, WorkerSpec


class Answering(BaseHTTPRequestHandler):
    heads: list[str] = []

    def do_HEAD(self) -> None:  # noqa: N802 (http.server API)
        self.heads.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """The URL of a loopback HTTP server that answers every HEAD with a 404."""
    Answering.heads = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A user with an empty HOME and a PATH holding none of the coding CLIs."""
    home, bin_dir = tmp_path / "home", tmp_path / "bin"
    home.mkdir()
    bin_dir.mkdir()
    for tool in ("sh",):
        (bin_dir / tool).symlink_to(shutil.which(tool) or "/bin/sh")
    return {"HOME": str(home), "PATH": str(bin_dir)}


def by_what(findings: list[Finding]) -> dict[str, tuple[bool, str]]:
    return {f.what: (f.ok, f.detail) for f in findings}


def test_a_missing_cli_says_how_to_install_it_and_what_else_is_missing(env: dict[str, str]) -> None:
    found = by_what(check_worker(PRESETS["claude"], env))
    assert found == {
        "claude: program not found": (
            False,
            "'claude' is not on PATH: install Claude Code"
            " (npm install -g @anthropic-ai/claude-code)",
        ),
        "claude: no key or login": (
            False,
            "set one of ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, CLAUDE_CODE_OAUTH_TOKEN,"
            " or run `claude` once and log in",
        ),
    }


def test_a_command_worker_is_checked_for_its_program_only(
    env: dict[str, str], tmp_path: Path
) -> None:
    spec = WorkerSpec(name="mine", argv=("sh", "-c", "{prompt}"))
    assert check_worker(spec, env) == [
        Finding(True, "mine: program found", str(tmp_path / "bin" / "sh"))
    ]
    gone = WorkerSpec(name="gone", argv=("no-such-agent", "{prompt}"))
    assert check_worker(gone, env) == [
        Finding(False, "gone: program not found", "'no-such-agent' is not on PATH: install "
                "'no-such-agent'")
    ]  # fmt: skip


def test_the_endpoint_a_base_url_names_is_probed_and_a_refusal_says_what_to_check(
    env: dict[str, str], server: str, closed_port: int
) -> None:
    live = by_what(check_worker(PRESETS["claude"], {**env, "ANTHROPIC_BASE_URL": server}))
    assert live["claude: model endpoint reachable"] == (True, f"{server} answered HTTP 404")
    assert Answering.heads == ["/"]
    dead_url = f"http://127.0.0.1:{closed_port}"
    dead = by_what(check_worker(PRESETS["claude"], {**env, "ANTHROPIC_BASE_URL": dead_url}))
    assert dead["claude: model endpoint unreachable"] == (
        False,
        f"{dead_url}: connection refused; check ANTHROPIC_BASE_URL",
    )


def test_no_base_url_no_probe(env: dict[str, str]) -> None:
    assert not [f for f in check_worker(PRESETS["gemini"], env) if "endpoint" in f.what]


def test_a_server_that_accepts_and_never_answers_is_unreachable_within_the_timeout() -> None:
    with socket.socket() as listening:  # the kernel accepts for it; nobody ever reads
        listening.bind(("127.0.0.1", 0))
        listening.listen(8)
        url = f"http://127.0.0.1:{listening.getsockname()[1]}/v1"
        assert probe_endpoint(url, timeout_s=0.3) == (False, "no answer within 0.3 s")
    assert probe_endpoint("ftp://127.0.0.1/")[0] is False
    assert probe_endpoint("http://127.0.0.1:99999")[0] is False


def test_unreachable_endpoints_names_each_worker_and_probes_each_url_once(
    env: dict[str, str], server: str, closed_port: int
) -> None:
    dead = f"http://127.0.0.1:{closed_port}"
    user = {**env, "GOOGLE_GEMINI_BASE_URL": dead, "OPENAI_API_BASE": dead + "/v1"}
    user["ANTHROPIC_BASE_URL"] = server
    specs = [PRESETS["gemini"], PRESETS["aider"], PRESETS["claude"], PRESETS["demo"]]
    assert unreachable_endpoints(specs, user) == [
        f"gemini: model endpoint {dead} unreachable: connection refused;"
        " check GOOGLE_GEMINI_BASE_URL",
        f"aider: model endpoint {dead}/v1 unreachable: connection refused; check OPENAI_API_BASE",
    ]
    assert Answering.heads == ["/"]
    assert unreachable_endpoints(specs, env) == []  # nothing named: nothing probed


def test_a_login_file_counts_as_a_key(env: dict[str, str]) -> None:
    home = Path(env["HOME"])
    (home / ".claude").mkdir()
    (home / ".claude" / ".credentials.json").write_text("{}")
    assert Finding(
        True, "claude: a key or login is present", "~/.claude/.credentials.json found"
    ) in check_worker(PRESETS["claude"], env)
    gemini_home = home / "elsewhere"
    (gemini_home / ".gemini").mkdir(parents=True)
    (gemini_home / ".gemini" / "oauth_creds.json").write_text("{}")
    found = by_what(check_worker(PRESETS["gemini"], {**env, "GEMINI_CLI_HOME": str(gemini_home)}))
    assert found["gemini: a key or login is present"] == (
        True,
        "~/elsewhere/.gemini/oauth_creds.json found",
    )


def test_a_key_counts_only_when_the_worker_passes_it_through(env: dict[str, str]) -> None:
    user = {**env, "ANTHROPIC_API_KEY": "sk-ant-never-shown"}
    assert by_what(check_worker(PRESETS["claude"], user))["claude: a key or login is present"] == (
        True,
        "ANTHROPIC_API_KEY set",
    )
    custom = replace(PRESETS["claude"], name="my-claude", pass_env=())
    found = by_what(check_worker(custom, user))
    assert found["my-claude: no key or login"] == (
        False,
        "ANTHROPIC_API_KEY is set, but [workers.my-claude] pass_env does not pass it through",
    )
    assert all("never-shown" not in f.detail for f in check_worker(custom, user))


def test_codex_on_another_endpoint_reads_openai_api_key_and_aider_on_ollama_needs_none(
    env: dict[str, str], server: str
) -> None:
    codex = {**env, "CODEX_API_KEY": "k", "OPENAI_BASE_URL": server}
    assert by_what(check_worker(PRESETS["codex"], codex))["codex: no key or login"][0] is False
    aider = by_what(check_worker(PRESETS["aider"], {**env, "OLLAMA_API_BASE": server}))
    assert aider["aider: no key needed"] == (True, "OLLAMA_API_BASE set: a local model")
    assert aider["aider: model endpoint reachable"][0] is True


@pytest.mark.parametrize(
    ("spec", "user", "expected"),
    [
        (PRESETS["demo"], {},
         Finding(True, "demo: needs nothing", "the built-in offline demo model")),
        (WorkerSpec(name="llm", kind="llm", model="anthropic/claude-sonnet-4-5"), {},
         Finding(False, "llm: no model key",
                 "anthropic/claude-sonnet-4-5 needs ANTHROPIC_API_KEY: set it")),
        (WorkerSpec(name="llm", kind="llm", model="gpt-4o"), {"OPENAI_API_KEY": "k"},
         Finding(True, "llm: a model key is present", "OPENAI_API_KEY set, for gpt-4o")),
        (WorkerSpec(name="llm", kind="llm", model="ollama/llama3"), {},
         Finding(True, "llm: no key needed", "ollama/llama3 is served locally")),
        (PRESETS["llm"], {},
         Finding(True, "llm: model not named", "it uses the run's [llm] model")),
    ],
)  # fmt: skip
def test_the_built_in_workers_need_their_models_key_or_nothing(
    spec: WorkerSpec, user: dict[str, str], expected: Finding
) -> None:
    assert check_worker(spec, user) == [expected]


def test_why_a_clis_tries_failed_is_probed_from_here(server: str, closed_port: int) -> None:
    dead = f"http://127.0.0.1:{closed_port}"
    named = model_endpoint("gemini", {"GOOGLE_GEMINI_BASE_URL": dead})
    assert named == Endpoint(dead, "GOOGLE_GEMINI_BASE_URL", named=True)
    assert why_unreachable(named, {}) == "connection refused"
    live = model_endpoint("claude", {"ANTHROPIC_BASE_URL": server})
    assert why_unreachable(live, {}) == (
        "its tries failed to connect, though a probe since got an answer (answered HTTP 404)"
    )
    proxied = {"HTTPS_PROXY": "http://127.0.0.1:3128"}  # not probed: the CLI goes through it
    assert why_unreachable(named, proxied) == "its tries failed to connect (through HTTPS_PROXY)"
    assert Answering.heads == ["/"]
    default = model_endpoint("gemini", {})
    assert default == Endpoint(
        "https://generativelanguage.googleapis.com", "GOOGLE_GEMINI_BASE_URL", named=False
    )
    assert model_endpoint("aider", {}) == Endpoint("", "OPENAI_API_BASE", named=False)
    assert model_endpoint("my-agent", {}) is None
