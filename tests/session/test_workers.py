"""Building workers by kind: the command kind, the WORKER_KINDS hook and plugins."""

from __future__ import annotations

import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from maestro_tui.agents.base import WorkerError
from maestro_tui.agents.command import CommandWorker
from maestro_tui.config import Config, ConfigError, WorkerSpec
from maestro_tui.session import workers as registry
from maestro_tui.session.workers import ENTRY_POINT_GROUP, WORKER_KINDS, known_kinds, make_worker

PLUGIN = """
from maestro_tui.agents.base import WorkerResult


class EchoWorker:
    def __init__(self, spec, config):
        self.name = spec.name
        self.max_agents = config.max_agents

    async def run(self, job, report):
        return WorkerResult(summary="echo", agent="plugin:echo")


def factory(spec, config):
    return EchoWorker(spec, config)


def failing(spec, config):
    raise RuntimeError("no licence")


def not_a_worker(spec, config):
    return 42


namespace = type("NS", (), {"factory": staticmethod(factory)})
"""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path holding `maestro_test_plugin` and a broken sibling."""
    (tmp_path / "maestro_test_plugin.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    (tmp_path / "maestro_test_broken.py").write_text("raise ImportError('needs libfoo')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("maestro_test_plugin", "maestro_test_broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


def test_the_command_kind_builds_a_command_worker() -> None:
    worker = make_worker(WorkerSpec(name="echo", argv=("echo", "{prompt}")), Config())
    assert isinstance(worker, CommandWorker) and worker.name == "echo"


def test_a_kind_registered_in_the_hook_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    built = CommandWorker(WorkerSpec(name="x", argv=("x",)))
    monkeypatch.setitem(WORKER_KINDS, "fake", lambda spec, config: built)
    assert make_worker(WorkerSpec(name="f", kind="fake"), Config()) is built
    assert "fake" in known_kinds()


def test_an_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        make_worker(WorkerSpec(name="w", kind="telepathy"), Config())
    assert str(caught.value) == (
        "[workers.w] kind 'telepathy' is unknown; known kinds: "
        + ", ".join(known_kinds())
        + ", or 'package.module:factory' for a plugin"
    )
    assert isinstance(caught.value, WorkerError)


def test_a_module_attr_kind_loads_the_factory(plugin_dir: Path) -> None:
    config = Config(max_agents=7)
    worker = make_worker(WorkerSpec(name="p", kind="maestro_test_plugin:factory"), config)
    assert (worker.name, getattr(worker, "max_agents", None)) == ("p", 7)
    nested = make_worker(WorkerSpec(name="n", kind="maestro_test_plugin:namespace.factory"), config)
    assert nested.name == "n"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (
            "maestro_test_broken:factory",
            "[workers.p] kind = 'maestro_test_broken:factory': cannot load plugin"
            " 'maestro_test_broken:factory': ImportError: needs libfoo",
        ),
        ("maestro_test_plugin:missing", "cannot load plugin 'maestro_test_plugin:missing'"),
        ("no_such_module_xyz:f", "ModuleNotFoundError: No module named 'no_such_module_xyz'"),
        ("maestro_test_plugin:", "a plugin kind must look like 'package.module:factory'"),
        (
            "maestro_test_plugin:failing",
            "[workers.p]: plugin 'maestro_test_plugin:failing' failed to build a worker:"
            " RuntimeError: no licence",
        ),
        ("maestro_test_plugin:not_a_worker", "returned a int, not a Worker"),
        ("maestro_test_plugin:PLUGIN_NAME", "cannot load plugin"),
    ],
)
def test_a_broken_plugin_names_itself_and_the_cause(
    plugin_dir: Path, kind: str, message: str
) -> None:
    with pytest.raises(WorkerError) as caught:
        make_worker(WorkerSpec(name="p", kind=kind), Config())
    assert message in str(caught.value)


def test_entry_point_plugins_are_found_by_name(
    plugin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    points = [
        EntryPoint("echo", "maestro_test_plugin:factory", ENTRY_POINT_GROUP),
        EntryPoint("broken", "maestro_test_broken:factory", ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(
        registry, "entry_points", lambda group: [p for p in points if p.group == group]
    )
    assert {"echo", "broken", "command"} <= set(known_kinds())
    assert make_worker(WorkerSpec(name="e", kind="echo"), Config()).name == "e"
    with pytest.raises(WorkerError) as caught:
        make_worker(WorkerSpec(name="b", kind="broken"), Config())
    assert str(caught.value) == (
        "[workers.b]: cannot load plugin 'broken' (entry point 'maestro_test_broken:factory'):"
        " ImportError: needs libfoo"
    )


def test_the_cli_presets_build_coding_cli_workers_that_say_how_they_take_messages() -> None:
    from maestro_tui.agents.coding_cli import CodingCliWorker
    from maestro_tui.config.presets import PRESETS

    config = Config(stall_s=42.0, limit_wait_s=3.0)
    built = {name: make_worker(PRESETS[name], config) for name in ("claude", "codex", "gemini")}
    for worker in built.values():
        assert isinstance(worker, CodingCliWorker)
        assert (worker.steering, worker.stall_s, worker.limit_wait_s) == (
            "as a follow-up turn",
            42.0,
            3.0,
        )
    aider = make_worker(PRESETS["aider"], config)
    assert isinstance(aider, CodingCliWorker) and aider.steering == ""  # no session to resume
    plain = make_worker(WorkerSpec(name="x", argv=("x", "{prompt}")), config)
    assert type(plain) is CommandWorker and not hasattr(plain, "steering")


def test_model_and_base_url_variables_are_not_redacted_but_keys_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from maestro_tui.llm.models import secrets_in_environment

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-0123456789")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "gateway-token-0123456789")
    monkeypatch.setenv("ANTHROPIC_MODEL", "claude-sonnet-4-5")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://gateway.internal:8080")
    secrets = secrets_in_environment(Config())
    assert {"sk-ant-secret-0123456789", "gateway-token-0123456789"} <= set(secrets)
    assert "claude-sonnet-4-5" not in secrets and "http://gateway.internal:8080" not in secrets
