"""What a re-run runs again and what it takes over: --from, --keep, and tasks that never merged."""

from __future__ import annotations

import pytest

from maestro_tui.domain.rerun import ScopeError, rerun_scope

# a -> b -> d, a -> c; e alone
GRAPH = {"a": (), "b": ("a",), "c": ("a",), "d": ("b",), "e": ()}
ALL_MERGED = dict.fromkeys(GRAPH, "merged")


def test_from_a_task_reruns_it_and_what_depends_on_it_and_takes_the_rest_over() -> None:
    scope = rerun_scope(GRAPH, ALL_MERGED, from_tasks=["b"])
    assert scope.rerun == ("b", "d")
    assert scope.taken_over == ("a", "c", "e")
    assert scope.why == {"b": "under study (--from)", "d": "it depends on b, which runs again"}


def test_no_from_reruns_everything_but_what_is_kept_with_its_dependencies() -> None:
    scope = rerun_scope(GRAPH, ALL_MERGED, keep=["d"])
    assert scope.taken_over == ("a", "b", "d")
    assert scope.rerun == ("c", "e")


def test_a_task_that_did_not_merge_runs_again_with_its_dependents() -> None:
    statuses = {**ALL_MERGED, "a": "failed", "b": "blocked", "c": "blocked", "d": "blocked"}
    statuses["e"] = "done"
    scope = rerun_scope(GRAPH, statuses, from_tasks=["e"])
    assert scope.rerun == ("a", "b", "c", "d", "e")
    assert scope.taken_over == ()
    assert scope.why["a"] == "it ended failed there"
    assert scope.why["b"] == "it depends on a, which runs again"


def test_bad_names_and_impossible_keeps_are_refused_with_why() -> None:
    with pytest.raises(ScopeError, match="no task 'x'"):
        rerun_scope(GRAPH, ALL_MERGED, from_tasks=["x"])
    with pytest.raises(ScopeError, match="cannot keep d"):
        rerun_scope(GRAPH, ALL_MERGED, from_tasks=["b"], keep=["d"])
    with pytest.raises(ScopeError, match="cannot keep a: it ended failed"):
        rerun_scope(GRAPH, {**ALL_MERGED, "a": "failed"}, keep=["a"])


def test_demote_moves_a_task_and_its_taken_over_dependents_to_the_rerun() -> None:
    scope = rerun_scope(GRAPH, ALL_MERGED, from_tasks=["e"])
    demoted = scope.demote("b", "its result conflicts", GRAPH)
    assert demoted.taken_over == ("a", "c")
    assert demoted.rerun == ("b", "d", "e")
    assert demoted.why["b"] == "its result conflicts"
    assert demoted.why["d"] == "it depends on b, which runs again"
