"""Can a worker run here? Its program, a key or login, and its model endpoint, checked now.

For `maestro-tui doctor` and a run's preflight. Per coding CLI, what it reads to reach its
model: its key variables, the file its own login writes, and the variables naming its model
endpoint (a gateway, a local server). Only what the worker's program would see counts: the
safe basics, the names its spec passes through, its own variables. An endpoint is probed
only when such a variable names one: a connection and a HEAD request within `timeout_s`.
Keys are never shown, only their names.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import ssl
import subprocess
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from maestro_tui.config.presets import WorkerSpec, install_hint
from maestro_tui.process import SAFE_ENV_KEYS, ProgramNotFound, resolve_program

VERSION_WAIT_S = 15.0  # `--version` of a Node.js CLI takes 1-2 s, more on a busy machine
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
_VERSION = re.compile(r"\d+\.\d+[\w.+-]*")


@dataclass(frozen=True)
class Finding:
    """One thing checked: `what` says how it stands ("claude: program found"), `detail` the
    evidence, or what to do about it."""

    ok: bool
    what: str
    detail: str


@dataclass(frozen=True)
class CliNeeds:
    """What one coding CLI reads to reach its model."""

    name: str
    keys: tuple[str, ...]  # variables holding a key (any one will do)
    base_urls: tuple[str, ...]  # variables naming its model endpoint
    login: str  # how to log in, for the hint
    default_endpoint: str = ""  # where it goes when none is named ("": it depends)


CLIS: dict[str, CliNeeds] = {
    "claude": CliNeeds(
        "claude",
        keys=("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"),
        base_urls=("ANTHROPIC_BASE_URL",),
        login="run `claude` once and log in",
        default_endpoint="https://api.anthropic.com",
    ),
    "codex": CliNeeds(
        "codex",
        keys=("OPENAI_API_KEY", "CODEX_API_KEY"),
        base_urls=("OPENAI_BASE_URL",),
        login="run `codex login`",
        default_endpoint="https://api.openai.com/v1",
    ),
    "gemini": CliNeeds(
        "gemini",
        keys=("GEMINI_API_KEY", "GOOGLE_API_KEY"),
        base_urls=("GOOGLE_GEMINI_BASE_URL",),
        login="run `gemini` once and log in with Google",
        default_endpoint="https://generativelanguage.googleapis.com",
    ),
    "aider": CliNeeds(
        "aider",
        keys=(
            "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY",
            "OPENROUTER_API_KEY",
        ),
        base_urls=("OPENAI_API_BASE", "OPENAI_BASE_URL", "OLLAMA_API_BASE"),
        login="put an api-key line in ~/.aider.conf.yml, or run `aider` once (OpenRouter)",
    ),
}  # fmt: skip

# The built-in LLM worker's models, through litellm: the key each provider's models need.
PROVIDER_KEYS = {
    "openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY", "openrouter": "OPENROUTER_API_KEY",
    "mistral": "MISTRAL_API_KEY", "groq": "GROQ_API_KEY", "xai": "XAI_API_KEY",
    "cohere": "COHERE_API_KEY", "together_ai": "TOGETHERAI_API_KEY", "azure": "AZURE_API_KEY",
}  # fmt: skip
BARE_MODELS = (("gpt-", "openai"), ("o1", "openai"), ("o3", "openai"), ("o4", "openai"),
               ("claude", "anthropic"))  # fmt: skip
LOCAL_PROVIDERS = ("ollama", "ollama_chat", "lm_studio", "hosted_vllm", "llamafile")


def check_worker(spec: WorkerSpec, env: Mapping[str, str], timeout_s: float = 2.0) -> list[Finding]:
    """What stands between `spec` and a run here, as found in `env` (the user's environment).

    A coding CLI: program found (and its version), a key or login present, each model
    endpoint its variables name reachable. Another command: program found. The LLM worker:
    its model's key. The demo: nothing.
    """
    if spec.kind == "demo":
        return [Finding(True, f"{spec.name}: needs nothing", "the built-in offline demo model")]
    if spec.kind == "llm":
        return [_llm_key(spec, env)]
    if spec.kind != "command":
        return [Finding(True, f"{spec.name}: a {spec.kind} worker", "its plugin is not checked")]
    seen = program_env(spec, env)
    cli = cli_of(spec)
    findings = [_program(spec, seen, version=cli is not None)]
    if cli is not None:
        findings.append(_key_or_login(spec, cli, env, seen))
        findings += [
            _reach(spec.name, var, url, seen, timeout_s) for var, url in _endpoints(cli, seen)
        ]
    return findings


def unreachable_endpoints(
    specs: Iterable[WorkerSpec], env: Mapping[str, str], timeout_s: float = 2.0
) -> list[str]:
    """One line per model endpoint a worker's variables name that does not answer, saying
    which worker, which endpoint, why, and which variable to check; [] when all answer."""
    wanted: list[tuple[str, str, str]] = []  # (worker, variable, url)
    for spec in specs:
        cli = cli_of(spec)
        if spec.kind == "command" and cli is not None:
            wanted += [
                (spec.name, var, url) for var, url in _endpoints(cli, program_env(spec, env))
            ]
    urls = list(dict.fromkeys(url for _, _, url in wanted))
    if not urls:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(urls))) as pool:
        answers = dict(
            zip(urls, pool.map(lambda u: probe_endpoint(u, timeout_s), urls), strict=True)
        )
    return [
        f"{name}: model endpoint {url} unreachable: {answers[url][1]}; check {var}"
        for name, var, url in wanted
        if not answers[url][0]
    ]


def probe_endpoint(url: str, timeout_s: float = 2.0) -> tuple[bool, str]:
    """(whether something at `url` answers HTTP, what happened): "answered HTTP 404",
    "connection refused", "no answer within 2 s"… A HEAD request; any answer will do."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return False, f"{url!r} is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False, f"{url!r} is not an http(s) URL"
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, port, timeout=timeout_s)
    try:
        connection.request("HEAD", parts.path or "/")
        status = connection.getresponse().status
    except ConnectionRefusedError:
        return False, "connection refused"
    except socket.gaierror:
        return False, f"host {parts.hostname!r} not found"
    except TimeoutError:
        return False, f"no answer within {timeout_s:g} s"
    except ssl.SSLError as exc:
        return False, f"TLS failed: {exc.reason or exc}"
    except OSError as exc:  # unreachable network, no route, reset…
        return False, (exc.strerror or str(exc) or type(exc).__name__).lower()
    except http.client.HTTPException as exc:
        return False, f"not an HTTP answer: {exc!r}"
    finally:
        connection.close()
    return True, f"answered HTTP {status}"


@dataclass(frozen=True)
class Endpoint:
    """Where a coding CLI sends its model requests, and which variable says so."""

    url: str  # "" when it depends (Aider: on the model) and no variable names one
    variable: str  # the variable that names it, or would
    named: bool  # the variable is set (else: the CLI's default)


def model_endpoint(cli: str, env: Mapping[str, str]) -> Endpoint | None:
    """The model endpoint of coding CLI `cli` (a preset's name) run with `env`; None for a
    program that is not one of the coding CLIs."""
    needs = CLIS.get(cli)
    if needs is None:
        return None
    for variable, url in _endpoints(needs, env):
        return Endpoint(url, variable, named=True)
    return Endpoint(needs.default_endpoint, needs.base_urls[0], named=False)


def why_unreachable(
    endpoint: Endpoint | None, env: Mapping[str, str], timeout_s: float = 2.0
) -> str:
    """Why a CLI's tries to connect to `endpoint` failed, as a probe from here finds it
    ("connection refused"); no probe through a proxy, nor of an endpoint not known."""
    proxy = next((p for p in PROXY_VARS if env.get(p)), "")
    if endpoint is None or not endpoint.url or proxy:
        return "its tries failed to connect" + (f" (through {proxy})" if proxy else "")
    ok, what = probe_endpoint(endpoint.url, timeout_s)
    return (
        f"its tries failed to connect, though a probe since got an answer ({what})" if ok else what
    )


def program_env(spec: WorkerSpec, env: Mapping[str, str]) -> dict[str, str]:
    """What the worker's program sees of `env`: the safe basics and the names its spec
    passes through, then the spec's own variables (as CommandWorker.env_for builds it)."""
    seen = {k: env[k] for k in (*SAFE_ENV_KEYS, *spec.pass_env) if k in env}
    seen.update(spec.env)
    return seen


def cli_of(spec: WorkerSpec) -> CliNeeds | None:
    """The coding CLI a worker runs: the one its parser reads, else its program's name."""
    if spec.parser in CLIS:
        return CLIS[spec.parser]
    program = Path(spec.argv[0]).name if spec.argv else ""
    return CLIS.get(program)


# --- the checks -------------------------------------------------------------------------


def _program(spec: WorkerSpec, seen: Mapping[str, str], *, version: bool) -> Finding:
    program = spec.argv[0] if spec.argv else ""
    if not program:
        return Finding(False, f"{spec.name}: no program", "its argv is empty")
    try:
        path = resolve_program([program], seen)
    except ProgramNotFound:
        hint = install_hint(program)
        return Finding(
            False, f"{spec.name}: program not found", f"'{program}' is not on PATH: {hint}"
        )
    detail = path
    if version:
        detail += f", version {_version(path, seen)}"
    return Finding(True, f"{spec.name}: program found", detail)


def _version(path: str, seen: Mapping[str, str]) -> str:
    try:
        done = subprocess.run(
            [path, "--version"],
            env=dict(seen),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=VERSION_WAIT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"unknown (--version took over {VERSION_WAIT_S:g} s)"
    except OSError as exc:
        return f"unknown (it does not start: {exc.strerror or exc})"
    lines = (done.stdout or done.stderr).strip().splitlines()
    if done.returncode != 0 or not lines:
        return f"unknown (--version exited with code {done.returncode})"
    number = _VERSION.search(lines[0])  # "2.1.332 (Claude Code)", "codex-cli 0.171.0"
    return number.group(0) if number else lines[0].strip()[:80]


def _key_or_login(
    spec: WorkerSpec, cli: CliNeeds, env: Mapping[str, str], seen: Mapping[str, str]
) -> Finding:
    name = spec.name
    keys = cli.keys
    if cli.name == "codex" and seen.get("OPENAI_BASE_URL"):
        keys = ("OPENAI_API_KEY",)  # its provider for that endpoint reads this one only
    if cli.name == "aider" and seen.get("OLLAMA_API_BASE"):
        return Finding(True, f"{name}: no key needed", "OLLAMA_API_BASE set: a local model")
    present = [k for k in keys if seen.get(k, "").strip()]
    if present:
        return Finding(True, f"{name}: a key or login is present", f"{present[0]} set")
    for login in _logins(cli, seen):
        if login.is_file():
            return Finding(
                True, f"{name}: a key or login is present", f"{_shown(login, seen)} found"
            )
    held_back = [k for k in keys if env.get(k, "").strip() and k not in seen]
    if held_back:
        return Finding(
            False,
            f"{name}: no key or login",
            f"{held_back[0]} is set, but [workers.{name}] pass_env does not pass it through",
        )
    return Finding(False, f"{name}: no key or login", f"set {_one_of(keys)}, or {cli.login}")


def _one_of(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else "one of " + ", ".join(names)


def _logins(cli: CliNeeds, seen: Mapping[str, str]) -> list[Path]:
    """The files where the CLI's own login (or a key it keeps) lives."""
    home = Path(seen.get("HOME") or os.path.expanduser("~"))
    if cli.name == "claude":
        return [home / ".claude" / ".credentials.json"]
    if cli.name == "codex":
        return [Path(seen.get("CODEX_HOME") or home / ".codex") / "auth.json"]
    if cli.name == "gemini":
        own = Path(seen.get("GEMINI_CLI_HOME") or home)
        found = [own / ".gemini" / "oauth_creds.json"]
        if seen.get("GOOGLE_APPLICATION_CREDENTIALS"):  # Vertex AI with a service account
            found.append(Path(seen["GOOGLE_APPLICATION_CREDENTIALS"]))
        return found
    config = home / ".aider.conf.yml"  # Aider: a key in its settings, or OpenRouter's login
    with_key = []
    try:
        if "api-key" in config.read_text(encoding="utf-8", errors="replace"):
            with_key.append(config)
    except OSError:
        pass
    return [*with_key, home / ".aider" / "oauth-keys.env"]


def _shown(path: Path, seen: Mapping[str, str]) -> str:
    home = seen.get("HOME", "")
    text = str(path)
    return "~" + text[len(home) :] if home and text.startswith(home.rstrip("/") + "/") else text


def _endpoints(cli: CliNeeds, seen: Mapping[str, str]) -> list[tuple[str, str]]:
    """(variable, URL) for each of the CLI's endpoint variables set for its program."""
    return [(var, seen[var].strip()) for var in cli.base_urls if seen.get(var, "").strip()]


def _reach(name: str, var: str, url: str, seen: Mapping[str, str], timeout_s: float) -> Finding:
    ok, what = probe_endpoint(url, timeout_s)
    proxy = next((p for p in PROXY_VARS if seen.get(p)), "")
    aside = f" (checked directly; the program goes through {proxy})" if proxy else ""
    if ok:
        return Finding(True, f"{name}: model endpoint reachable", f"{url} {what}{aside}")
    return Finding(
        False, f"{name}: model endpoint unreachable", f"{url}: {what}; check {var}{aside}"
    )


def _llm_key(spec: WorkerSpec, env: Mapping[str, str]) -> Finding:
    """The LLM worker's model (the spec's; the run's [llm] model when it names none)."""
    name, model = spec.name, spec.model.strip()
    if model == "demo" or model.startswith("demo/"):
        return Finding(True, f"{name}: needs nothing", "the built-in offline demo model")
    if not model:
        return Finding(True, f"{name}: model not named", "it uses the run's [llm] model")
    provider, _, rest = model.partition("/")
    if not rest:
        provider = next((p for prefix, p in BARE_MODELS if model.startswith(prefix)), "")
    if provider in LOCAL_PROVIDERS:
        return Finding(True, f"{name}: no key needed", f"{model} is served locally")
    key = PROVIDER_KEYS.get(provider)
    if key is None:
        return Finding(True, f"{name}: key not checked", f"no known key variable for {model}")
    if env.get(key, "").strip():
        return Finding(True, f"{name}: a model key is present", f"{key} set, for {model}")
    return Finding(False, f"{name}: no model key", f"{model} needs {key}: set it")
