"""Context hygiene: a task is told only its upstream summaries and the most relevant findings."""

from __future__ import annotations

from pathlib import Path

from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import parse_plan
from maestro_tui.domain.state import RunState, fold
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.context import relevant_findings, task_context


def state_with_findings() -> tuple[RunState, object]:
    plan = parse_plan(
        {
            "tasks": [
                {"id": "a", "prompt": "p"},
                {"id": "b", "prompt": "p", "depends_on": ["a"]},
                {"id": "other", "prompt": "p"},
                {"id": "late", "prompt": "p"},
                {"id": "c", "prompt": "p", "depends_on": ["b"], "files": ["shop/pricing.py"]},
            ]
        }
    )
    bus = EventBus("r")
    log: list[ev.Event] = []
    bus.subscribe(log.append)
    bus.emit(ev.PlanProposed, plan=plan.to_dict())
    bus.emit(ev.TaskFinished, task="a", attempt=1, summary="added the Money type", commit="x")
    bus.emit(ev.TaskFinished, task="b", attempt=1, summary="uses Money in cart", commit="y")
    bus.emit(ev.TaskFinished, task="other", attempt=1, summary="SECRET-UNRELATED", commit="z")
    bus.emit(ev.FindingPublished, task="late", text="the CI image lacks locale data")
    bus.emit(ev.FindingPublished, task="other", text="pricing.py rounds half-down")
    bus.emit(ev.FindingPublished, task="a", text="Money must stay immutable")
    bus.emit(ev.FindingPublished, task="c", text="its own finding")
    return fold(log), plan


def test_upstream_first_then_files_then_newest_and_never_its_own() -> None:
    state, plan = state_with_findings()
    c = plan.by_id["c"]  # type: ignore[attr-defined]
    assert relevant_findings(c, state) == [
        "a: Money must stay immutable",
        "other: pricing.py rounds half-down",
        "late: the CI image lacks locale data",
    ]
    assert relevant_findings(c, state, limit=1) == ["a: Money must stay immutable"]


def test_context_holds_upstream_summaries_only(tmp_path: Path) -> None:
    state, plan = state_with_findings()
    (tmp_path / "STANDARDS.md").write_text("Use type hints.")
    text = task_context(plan.by_id["c"], state, tmp_path, "STANDARDS.md")  # type: ignore[attr-defined]
    assert "Use type hints." in text
    assert "added the Money type" in text and "uses Money in cart" in text
    assert "SECRET-UNRELATED" not in text  # a summary of a task it does not build on
    assert text.index("Money must stay immutable") < text.index("rounds half-down")


# --- packing files and errors under a token budget ------------------------------------------


def packable_repo(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("def alpha():\n    return 1\n")
    (root / "pkg" / "big.py").write_text("".join(f"LINE_{i} = {i}\n" for i in range(2000)))
    (root / "blob.bin").write_bytes(b"\0\1\2" * 10)
    return root


def test_files_the_errors_name_come_first_then_the_given_order() -> None:
    from maestro_tui.engine.context import rank_files

    errors = ['File "/tmp/wt/pkg/b.py", line 3, in f\nAssertionError', "pkg/b.py:9: E501"]
    assert rank_files(["pkg/a.py", "pkg/b.py", "pkg/a.py", ""], errors) == ["pkg/b.py", "pkg/a.py"]


def test_pack_within_budget_relevant_first_with_the_map_last(tmp_path: Path) -> None:
    from maestro_tui.engine.context import estimate_tokens, pack_context

    root = packable_repo(tmp_path)
    packed = pack_context(
        root,
        ["pkg/big.py", "pkg/a.py", "../etc/passwd", "blob.bin", "missing.py"],
        budget_tokens=1500,
        errors=["Traceback …\n  pkg/a.py line 2\nAssertionError: 1 != 2"],
        heading="Stage: debug",
        run_context="## Coding standards\nUse type hints.",
        repo_map_text="pkg/\n  a.py (27 B): def alpha\n  big.py (27.7 KB)",
    )
    text = packed.text
    assert packed.tokens == estimate_tokens(text) <= 1500
    # heading, errors, the run's context, the file the error names, then the big one, cut
    order = ["Stage: debug", "## Errors", "Use type hints.", "## pkg/a.py", "## pkg/big.py (cut"]
    assert [text.index(s) for s in order] == sorted(text.index(s) for s in order)
    assert packed.files == ("pkg/a.py",) and "pkg/big.py" in packed.clipped
    assert "LINE_1999" not in text and "… (cut: 31780 bytes in all)" in text
    reasons = dict(item.split(": ", 1) for item in packed.left_out)
    assert "leaves the repository" in reasons["../etc/passwd"]
    assert reasons["blob.bin"] == "binary" and reasons["missing.py"] == "no such file"


def test_a_tight_budget_leaves_out_the_map_and_says_so(tmp_path: Path) -> None:
    from maestro_tui.engine.context import pack_context

    root = packable_repo(tmp_path)
    packed = pack_context(root, ["pkg/big.py"], budget_tokens=300, repo_map_text="x\n" * 500)
    assert packed.tokens <= 300
    assert packed.left_out == ("repository map: no room left in 300 tokens",)
    roomy = pack_context(root, ["pkg/a.py"], budget_tokens=8000, repo_map_text="pkg/\n  a.py")
    assert roomy.files == ("pkg/a.py",) and roomy.text.endswith("## Repository map\npkg/\n  a.py")
    assert not roomy.clipped and not roomy.left_out


def test_a_huge_file_is_read_only_as_far_as_the_budget_reaches(tmp_path: Path) -> None:
    from maestro_tui.engine.context import pack_context

    (tmp_path / "huge.log").write_text(("y" * 99 + "\n") * 50_001)
    packed = pack_context(tmp_path, ["huge.log"], budget_tokens=500)
    assert packed.tokens <= 500 and packed.clipped == ("huge.log",)
    assert packed.text.endswith("… (cut: 5000100 bytes in all)\n```")
