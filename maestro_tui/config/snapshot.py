"""A Config as plain JSON and back: what a run records of its settings, so that a re-run can
run the same way (`maestro-tui rerun`), and `--set SECTION.KEY=VALUE` on top of it.

Fields a later version adds take their defaults when an older snapshot lacks them; fields a
snapshot has that this version does not know are left out.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import tomllib
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from maestro_tui.config.presets import WorkerSpec
from maestro_tui.config.settings import Config, ConfigError, parse_config

_TUPLE_FIELDS = frozenset(
    f.name
    for f in dataclasses.fields(Config)
    if typing.get_origin(typing.get_type_hints(Config)[f.name]) is tuple
)
_WORKER_TUPLES = frozenset(
    f.name
    for f in dataclasses.fields(WorkerSpec)
    if typing.get_origin(typing.get_type_hints(WorkerSpec)[f.name]) is tuple
)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def config_to_dict(config: Config) -> dict[str, Any]:
    """Every field of `config` as JSON-able values."""
    return {f.name: _plain(getattr(config, f.name)) for f in dataclasses.fields(Config)}


def config_from_dict(data: Mapping[str, Any]) -> Config:
    """Inverse of config_to_dict."""
    known = {f.name for f in dataclasses.fields(Config)}
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in known:
            continue
        if name == "path":
            value = Path(value) if value else None
        elif name in _TUPLE_FIELDS:
            value = tuple(value or ())
        elif name == "workers":
            value = {k: _worker(v) for k, v in (value or {}).items()}
        elif name in ("prices", "mcp_stage_budgets"):
            value = {k: tuple(v) for k, v in (value or {}).items()}
        values[name] = value
    return Config(**values)


def settings_json(config: Config, env: Mapping[str, str]) -> str:
    """What a run records of its settings (RunConfigured.settings): the config and the extra
    environment its agents and tests get (the demo's interpreter first on PATH)."""
    return json.dumps({"config": config_to_dict(config), "env": dict(env)}, sort_keys=True)


def settings_from_json(text: str) -> tuple[Config, dict[str, str]]:
    """Inverse of settings_json; ConfigError when the text is not one."""
    try:
        data = json.loads(text)
        return config_from_dict(data["config"]), {str(k): str(v) for k, v in data["env"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"the recorded settings cannot be read: {exc}") from exc


def _worker(data: Mapping[str, Any]) -> WorkerSpec:
    known = {f.name for f in dataclasses.fields(WorkerSpec)}
    values: dict[str, Any] = {
        k: tuple(v) if k in _WORKER_TUPLES else v for k, v in data.items() if k in known
    }
    return WorkerSpec(**values)


def parse_assignment(text: str) -> tuple[tuple[str, ...], Any]:
    """`SECTION.KEY=VALUE` (VALUE in TOML; a bare word is a string) -> (path, value)."""
    key, sep, raw = text.partition("=")
    path = tuple(part.strip().strip('"') for part in key.split("."))
    if not sep or len(path) < 2 or not all(path):
        raise ConfigError(f"--set {text!r}: write SECTION.KEY=VALUE, e.g. llm.model=gpt-4o")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # model=gpt-4o-mini: a string without its quotes
    return path, value


def with_assignments(config: Config, assignments: Sequence[str]) -> Config:
    """`config` with `--set` assignments applied, each checked as the same key in maestro.toml
    is: `SECTION.KEY=VALUE` for a setting, `workers.NAME.KEY=VALUE` for a worker's."""
    from maestro_tui.config import settings  # its tables of keys, read here only

    fields = {(section, key): name for section, key, name, _ in settings._FIELDS}
    changes: dict[str, Any] = {}
    workers = dict(config.workers)
    for text in assignments:
        path, value = parse_assignment(text)
        label = f"--set {text}"
        if path[0] == "workers" and len(path) == 3:
            name, key = path[1], path[2]
            base = workers.get(name, WorkerSpec(name=name))
            table = {
                k: v
                for k, v in _plain(base).items()
                if k in settings._WORKER_KEYS and v not in (None, "", [], {})
            }
            table[key] = value
            spec = parse_config({"workers": {name: table}}, label=label).workers[name]
            workers[name] = dataclasses.replace(base, **{key: getattr(spec, key)})
            continue
        if len(path) != 2 or path not in fields:
            names = [f"{s}.{k}" for s, k in fields]
            close = difflib.get_close_matches(".".join(path), names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"{label}: maestro.toml has no setting {'.'.join(path)}{hint}")
        parsed = parse_config({path[0]: {path[1]: value}}, label=label)
        changes[fields[path]] = getattr(parsed, fields[path])
    updated = dataclasses.replace(config, **changes, workers=workers)
    if updated.default_worker and updated.default_worker not in updated.workers:
        raise ConfigError(
            f"--set: run.default_worker '{updated.default_worker}' is not a known worker;"
            f" known workers: {', '.join(sorted(updated.workers))}"
        )
    return updated
