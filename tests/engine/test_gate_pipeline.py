"""The gate's queue as plain data: batching, throwing back in arrival order, bisecting."""

from __future__ import annotations

from maestro_tui.engine.merge import GateItem, Pipeline, Segment
from maestro_tui.workspace.merge import MergedSources, MergeSource


def pipeline(*names: str) -> Pipeline:
    p = Pipeline()
    for name in names:
        p.add(GateItem(name, name, MergeSource(f"c-{name}")))
    return p


def build(p: Pipeline, slots: int = 4, max_batch: int = 4) -> Segment:
    items, fixed = p.take(slots, max_batch)
    top = p.chain[-1].merged.commit if p.chain else "head"
    return p.extend(items, top, "tree", MergedSources(f"m{len(p.chain)}", "t"), fixed)


def names(p: Pipeline) -> list[list[str]]:
    return [[i.task_id for i in e.items] for e in p.backlog]


def test_waiting_results_are_spread_over_free_slots_in_capped_batches() -> None:
    p = pipeline(*"abcdefghij")
    assert build(p, slots=2, max_batch=8).tasks == tuple("abcde")  # ceil(10 / 2)
    q = pipeline(*"abcdefghij")
    assert build(q, slots=2, max_batch=3).tasks == tuple("abc")  # capped
    assert build(q, slots=2, max_batch=3).prefix == tuple("abcdef")
    r = pipeline("a", "b")
    assert [build(r).tasks, build(r).tasks] == [("a",), ("b",)]  # free slots: one each


def test_thrown_back_results_keep_their_place_and_a_red_batch_is_halved() -> None:
    p = pipeline(*"abcdef")
    first, second, third = build(p, 3, 2), build(p, 3, 2), build(p, 3, 2)
    assert [first.tasks, second.tasks, third.tasks] == [("a", "b"), ("c", "d"), ("e", "f")]
    assert not first.speculative and third.speculative
    # "ef" went red first, then "cd": everything behind "cd" comes back, in arrival order.
    p.suspect(third)
    assert p.behind(second) == [third]
    gone = p.throw_back(p.behind(second))
    p.suspect(second)
    assert gone == [third] and names(p) == [["e"], ["f"]]
    assert p.ahead_of(second)  # "ab" is still undecided: "cd" cannot be blamed yet
    first.verdict = True
    assert p.green_front() == [first]
    del p.chain[:1]
    assert not p.ahead_of(second)
    p.bisect(second)
    assert [(e.fixed, [i.task_id for i in e.items]) for e in p.backlog] == [
        (True, ["c"]),
        (True, ["d"]),
        (False, ["e"]),
        (False, ["f"]),
    ]
    half = build(p)
    assert half.fixed and half.tasks == ("c",)
    p.throw_back([half])  # a thrown-back half stays one batch
    assert p.backlog[0].fixed and names(p)[0] == ["c"]


def test_forgetting_and_finding_a_result() -> None:
    p = pipeline("a", "b", "c")
    seg = build(p, slots=1, max_batch=1)
    behind = build(p, slots=2, max_batch=1)
    assert p.holding("a") == [seg, behind] and p.holding("zz") == []
    p.forget("c")
    assert [i.task_id for i in p.items()] == ["a", "b"]
    assert not p.idle
