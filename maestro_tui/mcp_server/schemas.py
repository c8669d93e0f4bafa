"""The MCP tools' names, descriptions and JSON schemas, and the check every call's arguments pass.

The schemas are written out by hand (no model classes): they are what the calling agent
reads, so each property says what it is for. `check_arguments` enforces the subset of JSON
Schema used here and says, for each bad argument, what was wrong and what is accepted.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maestro_tui.config.settings import MAX_AGENTS
from maestro_tui.domain.stages import STAGES


class BadArguments(ValueError):
    """A call's arguments do not fit the tool's schema; one line per problem."""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    schema: dict[str, Any]


def _str(text: str, **more: Any) -> dict[str, Any]:
    return {"type": "string", "description": text, **more}


def _strings(text: str, **more: Any) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": text, **more}


def _obj(required: tuple[str, ...] = (), **props: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def _int(text: str, lo: int, hi: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": lo, "description": text}
    if hi is not None:
        schema["maximum"] = hi
    return schema


def _num(text: str, lo: float = 0.000001, hi: float | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number", "minimum": lo, "description": text}
    if hi is not None:
        schema["maximum"] = hi
    return schema


FILES = _strings("repository-relative paths, most relevant first; their text is packed in")
ERRORS = _strings("error output (test failures, tracebacks); their tails are packed in")
MODEL = _str("a litellm model string, e.g. openai/gpt-4o-mini (default: [mcp] model)")
PROVIDER = _str("a provider (openai, anthropic, gemini …): its first configured model")
STAGE = _str("a stage of the workflow", enum=list(STAGES))
RUN_ID = _str("the run's id, or a unique prefix of it")
CONFIDENCE = {
    "type": "number",
    "minimum": 0,
    "maximum": 1,
    "description": "how sure you are already (0-1); at or above [mcp] confident (0.45), "
    "ensembles are skipped: one model is enough",
}

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "maestro_consult",
        "Ask one other model for text advice (it runs no tools). The question goes with packed "
        "context: the files and errors you name, earlier stages' summaries and the repo map. "
        "Counts against the current stage's consult budget.",
        _obj(
            ("question",),
            question=_str("what to ask", minLength=1),
            files=FILES,
            errors=ERRORS,
            model=MODEL,
            provider=PROVIDER,
        ),
    ),
    ToolSpec(
        "maestro_ensemble_generate",
        "Get N independent text candidates for one task from several models, in parallel, "
        "each labelled with its model. Advice only: nothing runs on their side. Allowed only in "
        "stages where answers can be compared (hypothesize, improve); skip it when confident.",
        _obj(
            ("task",),
            task=_str("what each candidate should produce", minLength=1),
            models=_strings("litellm model strings, one candidate each (default: [mcp])"),
            providers=_strings("providers instead of models: each one's first configured model"),
            n=_int("how many candidates (default: one per model, or [mcp] ensemble_n)", 1, 8),
            files=FILES,
            errors=ERRORS,
            confidence=CONFIDENCE,
        ),
    ),
    ToolSpec(
        "maestro_select_best",
        "Pick the best of several candidates. tests_first (the default) decides by test "
        "results: the ones you pass, or, when the candidates are unified diffs, by running the "
        "configured test command on each in a scratch worktree; then the smaller change, then "
        "a judge model. llm_judge: a judge model picks by your criteria. vote: the answer most "
        "candidates reached.",
        _obj(
            ("candidates",),
            candidates={
                "type": "array",
                "minItems": 1,
                "maxItems": 8,
                "description": "the candidates, numbered from 1 in this order",
                "items": _obj(
                    ("content",),
                    content=_str("the candidate: text, or a unified diff against HEAD"),
                    label=_str("where it came from, e.g. its model"),
                ),
            },
            mode=_str("how to pick", enum=["tests_first", "llm_judge", "vote"]),
            test_results={
                "type": "array",
                "description": "test results you already have, per candidate",
                "items": _obj(
                    ("candidate", "passed"),
                    candidate=_int("the candidate's number (1-based)", 1, 8),
                    passed={"type": "boolean", "description": "did its tests pass"},
                    n_passed=_int("tests passed", 0),
                    n_failed=_int("tests failed", 0),
                ),
            },
            criteria=_str("what the judge weighs, in order (llm_judge and ties)"),
            task=_str("what the candidates are for, for the judge"),
        ),
    ),
    ToolSpec(
        "maestro_pack_context",
        "Pack files and errors for a stage as maestro's own workers get them: most relevant "
        "first, within a token budget, with the run's standards, earlier stages' summaries "
        "and the repo map; says what was cut or left out.",
        _obj(
            ("files",),
            files=FILES,
            errors=ERRORS,
            stage=STAGE,
            budget_tokens=_int("the token budget (default: [mcp] context_tokens)", 200, 200_000),
        ),
    ),
    ToolSpec(
        "maestro_run_stage",
        "Enter a stage of the workflow analyze → hypothesize → implement → debug → improve "
        "(implement ⇄ debug and debug → hypothesize loop back) and get advice for it: a consult, "
        "or in hypothesize and improve an ensemble unless you are confident. Refused, with the "
        "budget shown, when the stage's budget is spent. Leaving a stage records your summary "
        "of it; later stages get it as context.",
        _obj(
            ("stage", "input"),
            stage=STAGE,
            input=_str("what this stage works on: the problem, hypothesis or error", minLength=1),
            summary=_str("what the stage you are leaving found or did"),
            files=FILES,
            errors=ERRORS,
            confidence=CONFIDENCE,
            ask={
                "type": "boolean",
                "description": "ask for advice (default true); false: only move",
            },
            models=_strings("models for this stage's ensemble (default: [mcp])"),
        ),
    ),
    ToolSpec(
        "maestro_workflow_state",
        "Where the workflow stands: the current stage, visits, each stage's budget and what is "
        "used, the next stages, and this session's spend against [mcp] budget_usd.",
        _obj(),
    ),
    ToolSpec(
        "maestro_get_metrics",
        "This session's coordination metrics next to their targets: overhead O%, efficiency "
        "Ec, test-signal coverage, merge success (of the runs it started) and cost.",
        _obj(),
    ),
    ToolSpec(
        "maestro_start_run",
        "Launch a fleet: plan a goal (or take a plan) and run its tasks with parallel agents in "
        "git worktrees; results are tested and merged into the run's integration branch. "
        "Returns the run id at once; the run goes on in the background between calls.",
        _obj(
            (),
            goal=_str("what to achieve; the planner model makes the plan"),
            plan={
                "type": "object",
                "description": "a plan instead of a goal: {goal?, tasks: [{id, prompt, title?, "
                "role?, files?, depends_on?, worker?}]}",
            },
            agents=_int("how many agents at once (default: [run] max_agents)", 1, MAX_AGENTS),
            budget_usd=_num("the run's budget in USD (default: what is left of [mcp])"),
            merge=_str("merge policy", enum=["auto", "review"]),
            model=_str("litellm model for the planner and LLM workers (default: [llm] model)"),
        ),
    ),
    ToolSpec(
        "maestro_run_status",
        "A run's status, tasks and waiting merges. With wait_s, waits (up to that many "
        "seconds) for news: a merge that starts waiting for a decision, or the run's end.",
        _obj(("run_id",), run_id=RUN_ID, wait_s=_num("seconds to wait for news", lo=0, hi=600)),
    ),
    ToolSpec(
        "maestro_list_merges",
        "The merges of a run that wait for a decision, with their reasons and conflicting files.",
        _obj(
            ("run_id",),
            run_id=RUN_ID,
            all={"type": "boolean", "description": "every merge, not only the waiting ones"},
        ),
    ),
    ToolSpec(
        "maestro_decide_merge",
        "Decide a waiting merge through the same merge queue and gate as the TUI: approve "
        "(merge it; conflicts need take), reject, or retry (run the task again on the "
        "integration branch as it is now).",
        _obj(
            ("run_id", "task", "decision"),
            run_id=RUN_ID,
            task=_str("the task id"),
            decision=_str("what to do", enum=["approve", "reject", "retry"]),
            take=_str("resolve conflicts by taking a side", enum=["ours", "theirs"]),
            reason=_str("why (a rejection keeps it in the run's history)"),
        ),
    ),
    ToolSpec(
        "maestro_resume_run",
        "Go on with a run that was interrupted (this server stopped, a crash) or ran out of "
        "budget; it continues in the background.",
        _obj(
            ("run_id",),
            run_id=RUN_ID,
            budget_usd=_num("a new budget in USD"),
            agents=_int("how many agents at once", 1, MAX_AGENTS),
        ),
    ),
)
BY_NAME: Mapping[str, ToolSpec] = {t.name: t for t in TOOLS}


def check_arguments(spec: ToolSpec, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
    """The arguments, checked against the tool's schema; BadArguments lists every problem."""
    args = dict(arguments or {})
    problems: list[str] = []
    _check(args, spec.schema, "", problems)
    if problems:
        raise BadArguments(f"{spec.name}: " + "; ".join(problems))
    return args


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _fits(value: Any, wanted: str) -> bool:
    kind = _kind(value)
    return kind == wanted or (wanted == "number" and kind == "integer")


def _check(value: Any, schema: Mapping[str, Any], where: str, problems: list[str]) -> None:
    name = f"'{where}'" if where else "the arguments"
    wanted = schema.get("type")
    if wanted and not _fits(value, wanted):
        what = schema.get("description", "")
        problems.append(f"{name} must be {_a(wanted)}{f' ({what})' if what else ''}, got {value!r}")
        return
    if "enum" in schema and value not in schema["enum"]:
        close = difflib.get_close_matches(str(value), schema["enum"], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(f"{name} must be one of {', '.join(schema['enum'])}, got {value!r}{hint}")
    if wanted in ("integer", "number"):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            span = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
            problems.append(f"{name} must be {span}, got {value!r}")
    if wanted == "string" and len(value.strip()) < schema.get("minLength", 0):
        problems.append(f"{name} must not be empty ({schema.get('description', '')})")
    if wanted == "array":
        lo, hi = schema.get("minItems", 0), schema.get("maxItems")
        if len(value) < lo or (hi is not None and len(value) > hi):
            span = f"{lo} to {hi}" if hi is not None else f"at least {lo}"
            problems.append(f"{name} must hold {span} items, got {len(value)}")
        for i, item in enumerate(value):
            _check(item, schema.get("items", {}), f"{where}[{i}]", problems)
    if wanted == "object" and "properties" in schema:
        props = schema["properties"]
        for key in schema.get("required", ()):
            if key not in value:
                what = props[key].get("description", "")
                problems.append(f"'{_at(where, key)}' is required ({what})")
        for key, item in value.items():
            if key not in props:
                if schema.get("additionalProperties") is False:
                    close = difflib.get_close_matches(key, list(props), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    known = ", ".join(props) or "none"
                    problems.append(f"unknown argument '{_at(where, key)}'{hint}; known: {known}")
            else:
                _check(item, props[key], _at(where, key), problems)


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind
