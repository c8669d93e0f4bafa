"""The sub-tables of maestro.toml, read apart from the settings table (settings._FIELDS):
[workers.NAME], [llm.prices."MODEL"] and [mcp.stages.NAME]."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from maestro_tui.config.checks import (
    KEY_PREFIXES,
    NO_KEYS,
    WORKER_NAME,
    Check,
    choice,
    env_names,
    integer,
    number,
    resource_amounts,
    string,
    strings,
)
from maestro_tui.config.presets import PRESETS, WorkerSpec
from maestro_tui.config.reader import Reader, did_you_mean

WORKER_KEYS: dict[str, Check] = {
    "kind": string(non_empty=True),
    "argv": strings,
    "env": lambda v: v,  # checked in _worker_env
    "pass_env": env_names,
    "timeout_s": number(0, above=True),
    "model": string(),
    "parser": choice("", "claude", "codex", "gemini", "aider"),
    "home_allow": strings,
    "resources": resource_amounts,
}
PRICE_KEYS = ("input_per_mtok", "output_per_mtok")


def read_prices(reader: Reader, table: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """[llm.prices."MODEL"]: USD per million input and output tokens, by model."""
    prices: dict[str, tuple[float, float]] = {}
    for model, raw in table.items():
        where = f'[llm.prices."{model}"]'
        entry = reader.table(where, raw)
        reader.unknown(where, entry, PRICE_KEYS)
        for key in [k for k in PRICE_KEYS if k not in entry]:
            reader.bad(where, f"needs {key} (USD per million tokens)")
        cost_in, cost_out = (reader.check(where, k, number(0), entry.get(k, 0)) for k in PRICE_KEYS)
        if cost_in is not None and cost_out is not None:
            prices[model] = (cost_in, cost_out)
    return prices


def read_stage_budgets(reader: Reader, table: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """[mcp.stages.NAME] consults/ensembles: a stage's budget, where it differs from the rule."""
    from maestro_tui.domain.stages import RULES, STAGES, Stage

    budgets: dict[str, tuple[int, int]] = {}
    for name, raw in table.items():
        where = f"[mcp.stages.{name}]"
        if name not in STAGES:
            reader.bad(where, f"is not a stage: {', '.join(STAGES)}{did_you_mean(name, STAGES)}")
            continue
        entry = reader.table(where, raw)
        reader.unknown(where, entry, ("consults", "ensembles"))
        rule = RULES[Stage(name)]
        consults = reader.check(
            where, "consults", integer(0, 50), entry.get("consults", rule.consults)
        )
        ensembles = reader.check(
            where, "ensembles", integer(0, 20), entry.get("ensembles", rule.ensembles)
        )
        if consults is not None and ensembles is not None:
            budgets[name] = (consults, ensembles)
    return budgets


def read_workers(reader: Reader, table: Mapping[str, Any]) -> dict[str, WorkerSpec]:
    """[workers.NAME]: the presets, changed or joined by the file's workers."""
    workers = dict(PRESETS)
    for name, raw in table.items():
        where = f"[workers.{name}]"
        if not WORKER_NAME.fullmatch(name):
            reader.bad(where, "name may hold only letters, digits, '-' and '_'")
        entry = reader.table(where, raw)
        changes: dict[str, Any] = {}
        reader.unknown(where, entry, WORKER_KEYS)
        for key, value in ((k, v) for k, v in entry.items() if k in WORKER_KEYS):
            if key == "env":
                changes["env"] = _worker_env(reader, where, value)
            else:
                changes[key] = reader.check(where, key, WORKER_KEYS[key], value)
        base = workers.get(name, WorkerSpec(name=name))
        spec = dataclasses.replace(base, **changes)
        if spec.kind == "command" and not spec.argv:
            reader.bad(
                where, 'needs argv, the command to run, e.g. argv = ["my-agent", "{prompt}"]'
            )
        workers[name] = spec
    return workers


def _worker_env(reader: Reader, where: str, value: Any) -> dict[str, str]:
    env = reader.table(f"{where} env", value)
    for name, text in env.items():
        if not isinstance(text, str):
            reader.bad(f"{where} env.{name}", f"must be a string, got {text!r}")
        elif text.startswith(KEY_PREFIXES):  # don't echo it: it may be a real key
            reader.bad(
                f"{where} env.{name}", f"looks like a key: {NO_KEYS} list {name} in pass_env"
            )
    return {k: v for k, v in env.items() if isinstance(v, str)}
