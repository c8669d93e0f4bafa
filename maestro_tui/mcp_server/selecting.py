"""maestro_select_best: the engine's selection over an agent's candidates, tests first.

Candidates that are unified diffs are tried for real: each is applied to HEAD in a scratch
worktree, committed there (so equal results have equal trees, for a vote) and the configured
test command runs on it, at most two at a time. Text candidates are judged by the test results
the caller passes, by size, then by a judge model.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Task
from maestro_tui.engine.selection import CandidateResult, Selection, judged, select
from maestro_tui.mcp_server.session import McpSession, ToolError
from maestro_tui.process import base_env

TRIALS_AT_ONCE = 2  # test runs in parallel: the machine's cores are shared with the agent
_FENCE = re.compile(r"^```(?:diff|patch)?\s*\n(.*?)\n```\s*$", re.S)


@dataclass(frozen=True)
class PatchTrial:
    """A diff candidate applied and tested in a scratch worktree."""

    index: int
    applied: bool
    commit: str | None = None
    tree: str | None = None
    lines_changed: int = 0
    tests_passed: bool | None = None
    n_passed: int | None = None
    n_failed: int | None = None
    detail: str = ""  # why it did not apply, or the tests' last lines


def as_patch(content: str) -> str | None:
    """The unified diff in a candidate (fences stripped), or None if it is not one."""
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    lines = text.splitlines()
    has_files = any(line.startswith("--- ") for line in lines) and any(
        line.startswith("+++ ") for line in lines
    )
    if has_files and any(line.startswith("@@") for line in lines):
        return text + "\n"
    return None


def _text_id(content: str) -> str:
    """A stand-in for a text candidate's commit and tree: equal texts are the same answer."""
    normal = " ".join(content.split())
    return "text:" + hashlib.sha256(normal.encode()).hexdigest()[:16]


async def try_patch(session: McpSession, index: int, patch: str, base: str) -> PatchTrial:
    """Apply one diff to `base` in a scratch worktree, commit it, run the tests, clean up."""
    ws, config = session.ws, session.config
    tree = await asyncio.to_thread(
        ws.add_scratch_worktree, ws.scratch_path(session.run_id, f"c{index}"), base
    )
    try:
        applied = await asyncio.to_thread(
            ws.git, "apply", "--whitespace=nowarn", "-", stdin=patch, cwd=tree, ok=(0, 1, 128)
        )
        if applied.code:
            why = (applied.err or applied.out).strip().splitlines()[:3]
            return PatchTrial(index, False, detail="does not apply to HEAD: " + " ".join(why))
        trailers = {"Maestro-Run": session.run_id, "Maestro-Candidate": str(index)}
        commit = await asyncio.to_thread(
            ws.commit_all, tree, base, f"Candidate {index}", "", trailers, config.exclude
        )
        if commit is None:
            return PatchTrial(index, True, detail="changes nothing")
        sha_tree = (await asyncio.to_thread(ws.rev_parse, f"{commit.sha}^{{tree}}"))[0]
        trial = PatchTrial(index, True, commit.sha, sha_tree, commit.insertions + commit.deletions)
        if not config.test_command:
            return trial
        from maestro_tui.workspace.validate import run_tests

        env = base_env({"PYTHONDONTWRITEBYTECODE": "1"})
        result = await run_tests(config.test_command, tree, config.test_timeout_s, env=env)
        tail = "\n".join(result.output_tail.strip().splitlines()[-5:])
        return PatchTrial(
            index,
            True,
            commit.sha,
            sha_tree,
            trial.lines_changed,
            result.passed,
            result.n_passed,
            result.n_failed,
            tail,
        )
    finally:
        await asyncio.to_thread(ws.remove_worktree, tree)


async def select_best(
    session: McpSession,
    candidates: Sequence[Mapping[str, Any]],
    mode: str,
    test_results: Sequence[Mapping[str, Any]],
    criteria: str,
    task: str,
) -> dict[str, Any]:
    """Pick among the candidates; every step is recorded on the current stage."""
    given = {int(r["candidate"]): r for r in test_results}
    for n in given:
        if n > len(candidates):
            raise ToolError(f"test_results names candidate {n}, but there are {len(candidates)}")
    patches = [as_patch(str(c["content"])) for c in candidates]
    trials: dict[int, PatchTrial] = {}
    if mode in ("tests_first", "vote") and not given and all(patches):
        trials = await _try_patches(session, [p or "" for p in patches])
    results = [
        _result(i, c, patches[i - 1], given.get(i), trials.get(i))
        for i, c in enumerate(candidates, start=1)
    ]
    report = session.reporter("judge")
    for r in results:
        _record_candidate(session, r, trials.get(r.index), given.get(r.index), candidates)
    chosen, pool = select(results, mode)
    if pool and mode != "vote":
        chosen = await _judge(session, chosen, pool, candidates, criteria, task, mode, report)
    session.bus.emit(
        ev.CandidateSelected,
        task=session.stage.value,
        candidate=chosen.index or 0,
        method=chosen.method,
        reason=chosen.reason,
        backed_by_tests=chosen.backed_by_tests,
    )
    report.output(f"selected candidate {chosen.index} ({chosen.method}): {chosen.reason}", "tool")
    return {
        "best": chosen.index,
        "label": candidates[chosen.index - 1].get("label", "") if chosen.index else "",
        "method": chosen.method,
        "reason": chosen.reason,
        "backed_by_tests": chosen.backed_by_tests,
        "candidates": [_row(r, trials.get(r.index), candidates) for r in results],
    }


async def _try_patches(session: McpSession, patches: Sequence[str]) -> dict[int, PatchTrial]:
    """Every diff tried on HEAD, TRIALS_AT_ONCE at a time, by candidate number (from 1)."""
    base = await asyncio.to_thread(session.ws.head_commit)
    gate = asyncio.Semaphore(TRIALS_AT_ONCE)

    async def trial(i: int, patch: str) -> PatchTrial:
        async with gate:
            return await try_patch(session, i, patch, base)

    done = await asyncio.gather(*(trial(i, p) for i, p in enumerate(patches, 1)))
    return {t.index: t for t in done}


def _record_candidate(
    session: McpSession,
    r: CandidateResult,
    t: PatchTrial | None,
    given: Mapping[str, Any] | None,
    candidates: Sequence[Mapping[str, Any]],
) -> None:
    """A candidate's result, as the stage's CandidateFinished event."""
    n_failed = t.n_failed if t else (given or {}).get("n_failed")
    session.bus.emit(
        ev.CandidateFinished,
        task=session.stage.value,
        candidate=r.index,
        commit=t.commit if t else None,
        tests_passed=r.tests_passed,
        n_passed=r.n_passed,
        n_failed=n_failed,
        lines_changed=r.lines_changed,
        model=str(candidates[r.index - 1].get("label", "")),
        error=t.detail if t and not t.applied else "",
    )


def _result(
    index: int,
    candidate: Mapping[str, Any],
    patch: str | None,
    given: Mapping[str, Any] | None,
    trial: PatchTrial | None,
) -> CandidateResult:
    content = str(candidate["content"])
    if trial is not None:
        return CandidateResult(
            index, trial.commit, trial.tree, trial.tests_passed, trial.n_passed, trial.lines_changed
        )
    stand_in = _text_id(patch or content)
    size = sum(1 for line in (patch or content).splitlines() if line.startswith(("+", "-")))
    return CandidateResult(
        index,
        stand_in,
        stand_in,
        None if given is None else bool(given["passed"]),
        None if given is None else given.get("n_passed"),
        size if patch else len(content.splitlines()),
    )


def _row(
    r: CandidateResult, t: PatchTrial | None, candidates: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "candidate": r.index,
        "label": candidates[r.index - 1].get("label", ""),
        "tests_passed": r.tests_passed,
        "n_passed": r.n_passed,
        "lines_changed": r.lines_changed,
    }
    if t is not None:
        row.update(applied=t.applied, n_failed=t.n_failed, detail=t.detail)
    return row


async def _judge(
    session: McpSession,
    chosen: Selection,
    pool: Sequence[int],
    candidates: Sequence[Mapping[str, Any]],
    criteria: str,
    task: str,
    mode: str,
    report: Any,
) -> Selection:
    """A judge model picks among `pool`; its call counts against the session's budget."""
    from maestro_tui.llm.critic import LLMJudge
    from maestro_tui.llm.models import make_client, resolve_model

    session.check_budget()
    config = session.config
    model = resolve_model(config.critic_model or config.mcp_model or config.model, "coder")
    judge = LLMJudge(make_client(config, model))
    brief = Task(id=session.stage.value, title="choose the best candidate", prompt=task or "-")
    texts = {i: str(candidates[i - 1]["content"]) for i in pool}
    pick, why = await judge.choose(brief, texts, report, criteria)
    session.note_spending()
    return judged(chosen, pick, why, pool, mode)
