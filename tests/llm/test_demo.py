"""The demo model through litellm: its plan, its scripted workers, and their real edits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from maestro_tui.agents.base import WorkerJob, WorkerResult
from maestro_tui.domain.dag import topological_layers
from maestro_tui.domain.plan import Plan, Task, parse_plan, validate_plan
from maestro_tui.domain.planning import PlanningLog
from maestro_tui.llm.client import Completion, LLMClient, import_litellm
from maestro_tui.llm.demo import DEMO_GOAL, copy_sample_repo
from maestro_tui.llm.demo.model import SIMULATED_PRICE, demo_pace, stream_chunks
from maestro_tui.llm.demo.script import CONFLICT_FILE, CONFLICTING_TASKS, TASK_SCRIPTS, demo_plan
from maestro_tui.llm.planner import plan_goal
from maestro_tui.llm.roles import ROLE_PROMPTS
from maestro_tui.llm.worker import LLMWorker
from tests.llm.conftest import child_env, git
from tests.support.recording import RecordingReporter


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return copy_sample_repo(tmp_path / "shop")


def pytest_in(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=root,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )


def plan() -> Plan:
    return parse_plan(demo_plan(), goal=DEMO_GOAL)


def depends(p: Plan, a: str, b: str) -> bool:
    """Whether `a` depends on `b`, directly or not."""
    stack, seen = list(p.by_id[a].depends_on), set()
    while stack:
        dep = stack.pop()
        if dep == b:
            return True
        if dep not in seen:
            seen.add(dep)
            stack.extend(p.by_id[dep].depends_on)
    return False


async def run_task(
    root: Path, task: Task, reporter: RecordingReporter | None = None
) -> WorkerResult:
    worker = LLMWorker(client=LLMClient("demo/coder"), allowed_commands=["python"])
    job = WorkerJob(run_id="demo", task=task, attempt=1, worktree=root, env=child_env())
    return await worker.run(job, reporter or RecordingReporter())


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)


def test_the_sample_repo_is_a_git_repo_whose_tests_pass(sample: Path) -> None:
    assert git(sample, "log", "--oneline").count("\n") == 1
    assert git(sample, "status", "--porcelain") == ""
    result = pytest_in(sample)
    assert result.returncode == 0 and "9 passed" in result.stdout
    with pytest.raises(FileExistsError):
        copy_sample_repo(sample)


def test_the_demo_plan_has_shape_and_one_conflicting_pair(sample: Path) -> None:
    p = validate_plan(plan(), repo_root=sample)
    layers = topological_layers(p.graph())
    assert len(p.tasks) >= 10 and len(layers) >= 3
    assert {"coder", "tester", "doc_writer", "refactorer", "reviewer"} <= {t.role for t in p.tasks}
    assert set(TASK_SCRIPTS) == set(p.by_id)
    a, b = CONFLICTING_TASKS
    assert not depends(p, a, b) and not depends(p, b, a)
    assert CONFLICT_FILE in p.by_id[a].files and CONFLICT_FILE in p.by_id[b].files


async def test_the_demo_planner_answers_through_litellm(sample: Path) -> None:
    usages: list[Completion] = []
    client = LLMClient("demo/planner", on_usage=usages.append)
    log = PlanningLog()
    planned = await plan_goal(client, DEMO_GOAL, sample, ROLE_PROMPTS, progress=log)
    assert planned == plan()
    # It looks at the code first, as a real planner does: one file, then who calls into it.
    assert log.reads == ["shop/pricing.py:1-13", "grep -E 'apply_discount' . (6 in 3 files)"]
    read, search, usage = usages
    assert usage.simulated and usage.tokens_in > 100 and usage.tokens_out > 100
    expected = (usage.tokens_in * SIMULATED_PRICE[0] + usage.tokens_out * SIMULATED_PRICE[1]) / 1e6
    assert usage.cost_usd == pytest.approx(expected)
    assert log.tokens_in == sum(u.tokens_in for u in usages)


async def test_non_streaming_acompletion_also_works() -> None:
    litellm = import_litellm()
    tools = [{"type": "function", "function": {"name": "submit_plan", "parameters": {}}}]
    response = await litellm.acompletion(
        model="demo/planner", messages=[{"role": "user", "content": "plan"}], tools=tools
    )
    call = response.choices[0].message.tool_calls[0]
    assert call.function.name == "submit_plan" and response.usage.completion_tokens > 0


async def test_every_task_in_dependency_order_leaves_passing_tests(sample: Path) -> None:
    p = plan()
    reporter = RecordingReporter()
    for layer in topological_layers(p.graph()):
        for tid in layer:
            result = await run_task(sample, p.by_id[tid], reporter)
            assert "passed" in result.summary and "failed" not in result.summary, result.summary
            commit_all(sample, result.summary)
    assert all(t["ok"] for t in reporter.tools), [t for t in reporter.tools if not t["ok"]]
    assert reporter.findings and all(u["simulated"] for u in reporter.usages)
    final = pytest_in(sample)
    assert final.returncode == 0, final.stdout
    assert "23 passed" in final.stdout
    pricing = (sample / "shop" / "pricing.py").read_text()
    assert "percent: float" in pricing and "raise ValueError" in pricing
    assert "def bulk_discount" in pricing


def merge_tree(root: Path, ours: str, theirs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "merge-tree", "--write-tree", ours, theirs],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


async def test_layer_by_layer_in_parallel_only_the_declared_pair_conflicts(sample: Path) -> None:
    """Like a run: each layer's tasks branch from the integration branch, then merge in turn."""
    p = plan()
    git(sample, "branch", "integration")
    conflicts: list[str] = []
    for layer in topological_layers(p.graph()):
        base = git(sample, "rev-parse", "integration").strip()
        for tid in layer:
            wt = sample.parent / f"wt-{tid}"
            git(sample, "worktree", "add", "-q", "-b", tid, str(wt), base)
            commit_all(wt, (await run_task(wt, p.by_id[tid])).summary)
        for tid in layer:
            merged = merge_tree(sample, "integration", tid)
            if merged.returncode == 1:
                assert f"Merge conflict in {CONFLICT_FILE}" in merged.stdout
                conflicts.append(tid)
                # A retry: the task runs again on top of the integration branch.
                wt = sample.parent / f"wt-{tid}-retry"
                git(sample, "worktree", "add", "-q", "-b", f"{tid}-retry", str(wt), "integration")
                commit_all(wt, (await run_task(wt, p.by_id[tid])).summary)
                tid = f"{tid}-retry"
                merged = merge_tree(sample, "integration", tid)
            assert merged.returncode == 0, merged.stdout
            tree = merged.stdout.split()[0]
            commit = git(
                sample, "commit-tree", tree, "-p", "integration", "-p", tid, "-m", f"Merge {tid}"
            ).strip()
            git(sample, "update-ref", "refs/heads/integration", commit)
    assert len(conflicts) == 1 and conflicts[0] in CONFLICTING_TASKS
    git(sample, "checkout", "-q", "integration")
    final = pytest_in(sample)
    assert final.returncode == 0 and "23 passed" in final.stdout, final.stdout


async def test_the_pair_edits_the_same_lines(sample: Path) -> None:
    a, b = CONFLICTING_TASKS
    for tid in (a, b):
        wt = sample.parent / f"wt-{tid}"
        git(sample, "worktree", "add", "-q", "-b", tid, str(wt), "main")
        commit_all(wt, (await run_task(wt, plan().by_id[tid])).summary)
    result = merge_tree(sample, a, b)
    assert result.returncode == 1
    assert f"CONFLICT (content): Merge conflict in {CONFLICT_FILE}" in result.stdout


async def test_a_tool_error_is_reported_and_the_task_stops(sample: Path) -> None:
    (sample / "shop" / "pricing.py").unlink()
    reporter = RecordingReporter()
    result = await run_task(sample, plan().by_id["pricing-types"], reporter)
    assert result.summary.startswith("Stopped at step 1 of task pricing-types")
    assert "does not exist" in result.summary
    assert not (sample / "shop" / "pricing.py").exists()
    assert [t["tool"] for t in reporter.tools] == ["read_file", "finish"]


async def test_an_unexpected_file_is_left_alone(sample: Path) -> None:
    (sample / "shop" / "pricing.py").write_text("PRICES = {}\n")
    result = await run_task(sample, plan().by_id["discount-guard"])
    assert result.summary.startswith("Could not apply the edit to shop/pricing.py")
    assert (sample / "shop" / "pricing.py").read_text() == "PRICES = {}\n"


async def test_a_task_without_a_script_changes_nothing(sample: Path) -> None:
    result = await run_task(sample, Task(id="other", title="Other", prompt="Do other."))
    assert "no script for task 'other'" in result.summary
    assert git(sample, "status", "--porcelain") == ""


def test_pacing_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAESTRO_DEMO_PACE", "2.5")
    assert demo_pace() == 2.5
    monkeypatch.setenv("MAESTRO_DEMO_PACE", "fast")
    assert demo_pace() == 1.0
    monkeypatch.setenv("MAESTRO_DEMO_PACE", "0")
    assert demo_pace() == 0.0
    messages = [{"role": "user", "content": "Task id: cart-docs\nTitle: x"}]
    chunks = list(stream_chunks(messages, []))
    chars = sum(
        len(c["text"]) + len((c["tool_use"] or {}).get("function", {}).get("arguments") or "")
        for c, _ in chunks
    )
    seconds = sum(delay for _, delay in chunks)
    assert seconds == pytest.approx(chars / 160)  # 40 tokens/s at 4 characters a token
    assert chunks[-1][0]["is_finished"] and chunks[-1][0]["usage"]["completion_tokens"] > 0


async def test_asked_with_no_tools_the_demo_model_gives_text_advice() -> None:
    usages: list[Completion] = []
    client = LLMClient("demo/coder", on_usage=usages.append)
    brief = "## Stage: debug\n\n## Question\nWhy does test_total fail?\n\n## Errors\nboom"
    answer = await client.complete([{"role": "user", "content": brief}])
    assert not answer.tool_calls
    assert answer.text.startswith("Demo advice on “Why does test_total fail?”. In the debug stage")
    assert usages[0].simulated and usages[0].cost_usd
