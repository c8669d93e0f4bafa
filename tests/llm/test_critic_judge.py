"""The model-backed critic and judge, through litellm: over HTTP and on the demo model."""

from __future__ import annotations

from maestro_tui.domain.plan import Task
from maestro_tui.llm.client import LLMClient
from maestro_tui.llm.critic import LLMCritic, LLMJudge
from tests.llm.conftest import API_KEY
from tests.llm.fakeserver import FakeChatServer, Reply
from tests.support.recording import RecordingReporter

TASK = Task(id="guard", title="Reject bad discounts", prompt="Raise on percent > 100.")
DIFF = "--- a/p.py\n+++ b/p.py\n@@ -1 +1,2 @@\n def f(p):\n+    if p > 100: raise ValueError\n"


def client(server: FakeChatServer) -> LLMClient:
    return LLMClient(
        "openai/reviewer",
        api_base=server.api_base,
        api_key=API_KEY,
        prices={"openai/reviewer": (1.0, 2.0)},
        backoff_s=0.01,
    )


async def test_critic_sends_work_back_with_comments(server: FakeChatServer) -> None:
    server.script(Reply(tool_calls=[("verdict", {"approved": False, "comments": "test p=101"})]))
    reporter = RecordingReporter()
    verdict = await LLMCritic(client(server)).review(TASK, DIFF, "3 passed", reporter)
    assert (verdict.approved, verdict.comments) == (False, "test p=101")
    sent = server.requests[0]
    assert sent["tool_choice"]["function"]["name"] == "verdict"
    brief = sent["messages"][1]["content"]
    assert "raise ValueError" in brief and "3 passed" in brief and "Task id: guard" in brief
    assert len(reporter.usages) == 1  # the review's cost is the task's


async def test_critic_without_a_verdict_does_not_block(server: FakeChatServer) -> None:
    server.script(Reply(text="Looks fine to me."))
    verdict = await LLMCritic(client(server)).review(TASK, DIFF, "", RecordingReporter())
    assert verdict.approved and "no verdict" in verdict.comments


async def test_judge_picks_a_listed_candidate_or_falls_back(server: FakeChatServer) -> None:
    server.script(
        Reply(tool_calls=[("pick", {"candidate": 3, "reason": "smallest correct diff"})]),
        Reply(tool_calls=[("pick", {"candidate": 9, "reason": "not a candidate"})]),
    )
    judge = LLMJudge(client(server))
    diffs = {1: DIFF, 3: DIFF + "+# more\n"}
    assert await judge.choose(TASK, diffs, RecordingReporter()) == (3, "smallest correct diff")
    pick, why = await judge.choose(TASK, diffs, RecordingReporter())
    assert pick == 1 and "no valid pick" in why
    assert "## Candidate 3" in server.requests[0]["messages"][1]["content"]


async def test_the_demo_model_reviews_and_judges_offline() -> None:
    demo = LLMClient("demo/coder")
    reporter = RecordingReporter()
    ok = await LLMCritic(demo).review(TASK, DIFF, "5 passed", reporter)
    red = await LLMCritic(demo).review(TASK, DIFF, "1 failed, 4 passed", reporter)
    assert ok.approved and not red.approved and "tests fail" in red.comments
    pick, _ = await LLMJudge(demo).choose(TASK, {1: DIFF + "+# long\n" * 5, 2: DIFF}, reporter)
    assert pick == 2
    assert len(reporter.usages) == 3 and all(u["simulated"] for u in reporter.usages)
