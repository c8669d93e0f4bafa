"""The run's workers: which code builds each kind (built-ins, entry-point plugins, "module:attr"),
and the pool that builds each named worker once and checks them all before a run starts."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from maestro_tui.agents.base import NeedsPreflight, Worker
from maestro_tui.agents.command import CommandWorker, WorkerConfigError
from maestro_tui.config import Config, ConfigError, WorkerSpec
from maestro_tui.domain.plan import Plan, Task

WorkerFactory = Callable[[WorkerSpec, Config], Worker]
ENTRY_POINT_GROUP = "maestro_tui.workers"


def _command_worker(spec: WorkerSpec, config: Config) -> Worker:
    """A command; a coding CLI (a preset, or `parser = "..."`) is read by its own parser."""
    from maestro_tui.agents.coding_cli import DIALECTS, CodingCliWorker

    dialect = DIALECTS.get(spec.parser)
    if dialect is None:
        return CommandWorker(spec, stall_s=config.stall_s)
    return CodingCliWorker(
        spec,
        dialect,
        price=_pricer(config),
        stall_s=config.stall_s,
        limit_wait_s=config.limit_wait_s,
    )


def _pricer(config: Config) -> Callable[[str, int, int], float | None]:
    """USD for a CLI's tokens: [llm.prices], else litellm's map, else None (unknown)."""

    def price(model: str, tokens_in: int, tokens_out: int) -> float | None:
        from maestro_tui.llm.client import cost_usd  # litellm, only once a CLI reports usage

        return cost_usd(model, tokens_in, tokens_out, config.prices) if model else None

    return price


def _llm_worker(spec: WorkerSpec, config: Config) -> Worker:
    from maestro_tui.llm.models import llm_worker  # lazily: the LLM layer imports litellm

    return llm_worker(spec, config)


def _demo_worker(spec: WorkerSpec, config: Config) -> Worker:
    from maestro_tui.llm.models import demo_worker

    return demo_worker(spec, config)


WORKER_KINDS: dict[str, WorkerFactory] = {
    "command": _command_worker,
    "llm": _llm_worker,
    "demo": _demo_worker,
}


def _plugin_kinds() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def known_kinds() -> list[str]:
    """Every kind a [workers.<name>] table may name, besides "module:attr"."""
    return sorted(set(WORKER_KINDS) | set(_plugin_kinds()))


def _load_attr(target: str, spec: WorkerSpec) -> Any:
    module_name, _, attr = target.partition(":")
    where = f"[workers.{spec.name}] kind = {target!r}"
    if not module_name or not attr:
        raise WorkerConfigError(f"{where}: a plugin kind must look like 'package.module:factory'")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as exc:  # the plugin's own import errors, whatever they are
        raise WorkerConfigError(
            f"{where}: cannot load plugin {target!r}: {type(exc).__name__}: {exc}"
        ) from exc
    return obj


def resolve_kind(spec: WorkerSpec) -> tuple[str, WorkerFactory]:
    """The factory for `spec.kind` and a label naming where it came from, for messages."""
    kind = spec.kind
    if kind in WORKER_KINDS:
        return f"kind '{kind}'", WORKER_KINDS[kind]
    if ":" in kind:
        return f"plugin {kind!r}", _load_attr(kind, spec)
    plugin = _plugin_kinds().get(kind)
    if plugin is not None:
        label = f"plugin '{kind}' (entry point {plugin.value!r})"
        try:
            return label, plugin.load()
        except Exception as exc:
            raise WorkerConfigError(
                f"[workers.{spec.name}]: cannot load {label}: {type(exc).__name__}: {exc}"
            ) from exc
    raise WorkerConfigError(
        f"[workers.{spec.name}] kind '{kind}' is unknown; known kinds: "
        + ", ".join(known_kinds())
        + ", or 'package.module:factory' for a plugin"
    )


def make_worker(spec: WorkerSpec, config: Config) -> Worker:
    """Build the worker `spec` describes; errors name the worker, the plugin and the cause."""
    label, factory = resolve_kind(spec)
    if not callable(factory):
        raise WorkerConfigError(
            f"[workers.{spec.name}]: {label} is a {type(factory).__name__}, not a factory"
        )
    try:
        worker = factory(spec, config)
    except WorkerConfigError:
        raise
    except Exception as exc:
        raise WorkerConfigError(
            f"[workers.{spec.name}]: {label} failed to build a worker: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(worker, Worker):
        raise WorkerConfigError(
            f"[workers.{spec.name}]: {label} returned a {type(worker).__name__}, not a Worker"
            " (it needs a `name` and an async `run(job, report)`)"
        )
    return worker


class WorkerPool:
    """Builds each named worker once; every task's worker is checked before the run starts.

    It is the engine's `WorkerSource`: a worker for a task, or an LLM worker on a given model.
    """

    def __init__(self, config: Config) -> None:
        self._config = config
        self._made: dict[str, Worker] = {}

    def name_for(self, task: Task) -> str:
        return task.worker or self._config.task_worker

    def check(self, plan: Plan) -> None:
        """Every task names a defined worker, and each one that can tell is ready to start."""
        for task in plan.tasks:
            self.check_worker(self.name_for(task), f"task '{task.id}' asks for worker")

    def check_worker(self, name: str, who: str = "the tasks' worker is") -> None:
        """Worker `name` is defined, has a model if it needs one, and is ready to start;
        `who` begins the messages (who asks for it)."""
        spec = self._config.workers.get(name)
        if spec is None:
            known = ", ".join(sorted(self._config.workers)) or "none"
            raise ConfigError(
                f"{who} '{name}', which is not defined (known: {known});"
                f" add [workers.{name}] to maestro.toml"
            )
        if spec.kind == "llm" and not (spec.model or self._config.model):
            raise ConfigError(
                f"{who} '{name}', the built-in LLM worker, and no model is named: pass --model"
                " MODEL or set [llm] model in maestro.toml, or give tasks to a coding CLI"
                ' ([run] default_worker = "claude", or --planner claude to plan with it too)'
            )
        if name not in self._made:
            self._made[name] = make_worker(spec, self._config)
        worker = self._made[name]
        if isinstance(worker, NeedsPreflight):
            worker.preflight()

    def for_model(self, task: Task, model: str) -> Worker:
        """An LLM worker on a given model (an ensemble candidate's own model)."""
        key = f"llm:{model}"
        if key not in self._made:
            spec = WorkerSpec(name=key, kind="llm", model=model)
            self._made[key] = make_worker(spec, self._config)
        return self._made[key]

    def __call__(self, task: Task) -> Worker:
        name = self.name_for(task)
        if name not in self._made:
            self._made[name] = make_worker(self._config.workers[name], self._config)
        return self._made[name]
