"""What crosses the command channel besides events: answers and errors, as JSON.

Answers are plain values, or the few records a front end asks the engine for: a merge's
conflicted files and a trial merge's test result. Errors travel by name and come back as the
same exception class, so a front end handles a refusal from the engine as it would one raised
in its own process.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from maestro_tui.domain.plan import PlanError
from maestro_tui.engine.merge import MergeNeedsResolution, MergeRefused, TrialMerge
from maestro_tui.engine.steering import SteerRefused
from maestro_tui.workspace.merge import ConflictFile, ConflictHunk
from maestro_tui.workspace.validate import TestResult


class EngineError(RuntimeError):
    """The engine failed to carry out a command for a reason of its own."""


ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls
    for cls in (
        MergeNeedsResolution,
        MergeRefused,
        PlanError,
        SteerRefused,
        KeyError,
        ValueError,
        RuntimeError,
        LookupError,
    )
}


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def encode(value: Any) -> Any:
    """A command's answer as JSON: dataclasses as their fields, tagged with their kind."""
    if isinstance(value, TrialMerge):
        return {"kind": "trial", "commit": value.commit, "tree": value.tree,
                "result": _plain(dataclasses.asdict(value.result))}  # fmt: skip
    if isinstance(value, tuple) and value and isinstance(value[0], ConflictFile):
        return {"kind": "conflicts", "files": [_plain(dataclasses.asdict(f)) for f in value]}
    return _plain(value)


def decode(value: Any) -> Any:
    """The answer as the engine's own method returned it."""
    if isinstance(value, dict) and value.get("kind") == "trial":
        r = value["result"]
        result = TestResult(**{**r, "failing": frozenset(r.get("failing", ()))})
        return TrialMerge(value["commit"], value["tree"], result)
    if isinstance(value, dict) and value.get("kind") == "conflicts":
        return tuple(
            ConflictFile(
                path=f["path"],
                hunks=tuple(ConflictHunk(**h) for h in f["hunks"]),
                text=f["text"],
                note=f.get("note", ""),
            )
            for f in value["files"]
        )
    return value


def encode_error(exc: BaseException) -> dict[str, Any]:
    """An exception as its class name, its message and what its class needs to be rebuilt."""
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    name = type(exc).__name__
    data: dict[str, Any] = {}
    if isinstance(exc, MergeNeedsResolution):
        task = message.split("'")[1] if "'" in message else ""
        data = {"task": task, "files": list(exc.files), "stale": exc.stale}
    elif isinstance(exc, MergeRefused):
        data = {"task": exc.task_id, "output": exc.output}
    known = name in ERRORS
    return {"error": name if known else "EngineError", "message": str(message), "data": data}


def decode_error(name: str, message: str, data: dict[str, Any] | None = None) -> Exception:
    """The engine's exception, rebuilt here (the same class, the same message)."""
    data = data or {}
    if name == "MergeNeedsResolution":
        return MergeNeedsResolution(data["task"], tuple(data["files"]), data["stale"])
    if name == "MergeRefused":
        exc = MergeRefused(data["task"], "", data["output"])
        exc.args = (message,)  # the engine's message, word for word
        return exc
    return ERRORS.get(name, EngineError)(message)
