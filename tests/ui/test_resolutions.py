"""Review decisions by hunk content: they survive a moving branch, and what changed is named."""

from __future__ import annotations

import pytest

from maestro_tui.ui.resolutions import (
    FileResolution,
    both_overlap,
    carry_over,
    hunk_key,
    preview_text,
)
from maestro_tui.workspace.merge import ConflictFile, parse_hunks


def conflict(path: str, *hunks: tuple[str, str, str], between: str = "same\n") -> ConflictFile:
    text = between.join(
        f"<<<<<<< ours\n{o}||||||| base\n{b}=======\n{t}>>>>>>> theirs\n" for o, b, t in hunks
    )
    return ConflictFile(path, parse_hunks(text), text)


def test_decisions_carry_over_and_only_changed_hunks_reset() -> None:
    version = ("V = 2\n", "V = 1\n", "V = 3\n")
    color = ("C = 'blue'\n", "C = 'red'\n", "C = 'green'\n")
    before = FileResolution.undecided(conflict("s.py", version, color))
    before.choose(0, "theirs")
    before.choose(1, "ours")
    names = FileResolution.undecided(
        conflict("n.py", ("G = 'hello'\n", "G = 'hi'\n", "G = 'hey'\n"))
    )
    names.choose(0, "theirs")
    # The branch moved: the colour changed on our side; the version did not; n.py is the same.
    moved_color = ("C = 'purple'\n", "C = 'red'\n", "C = 'green'\n")
    fresh = [conflict("s.py", version, moved_color), names.conflict]
    carried = carry_over([before, names], fresh)
    settings, kept_names = carried.resolutions
    assert settings.choices == ["theirs", None]  # version kept, colour to decide again
    assert kept_names.choices == ["theirs"]
    assert carried.kept == 2
    assert carried.changed == frozenset({hunk_key("s.py", fresh[0].hunks[1])})


def test_a_hand_resolution_is_kept_only_while_its_file_is_the_same() -> None:
    one = conflict("s.py", ("a\n", "o\n", "b\n"))
    res = FileResolution.undecided(one)
    res.set_manual("merged by hand\n")
    assert carry_over([res], [one]).resolutions[0].manual == "merged by hand\n"
    relabelled = ConflictFile(
        "s.py", one.hunks, one.text.replace("<<<<<<< ours", "<<<<<<< 9f3c2a1")
    )
    assert carry_over([res], [relabelled]).resolutions[0].manual == "merged by hand\n"
    other = conflict("s.py", ("a2\n", "o\n", "b\n"))
    again = carry_over([res], [other])
    assert again.resolutions[0].manual is None and again.needs_attention


def test_both_on_the_same_lines_is_flagged_and_the_preview_keeps_markers() -> None:
    same = conflict("p.py", ("def f(x: int):\n", "def f(x):\n", "def f(x, y):\n"))
    assert both_overlap(same.hunks[0])
    added = conflict("p.py", ("import a\n", "", "import b\n"))
    assert not both_overlap(added.hunks[0])  # both sides only add: keeping both is natural
    res = FileResolution.undecided(conflict("p.py", ("x\n", "o\n", "y\n"), ("p\n", "o2\n", "q\n")))
    res.choose(0, "both")
    text = preview_text(res)
    assert text.startswith("x\ny\nsame\n<<<<<<< ours\np\n||||||| base\no2\n=======\nq\n>>>>>>>")
    with pytest.raises(ValueError, match="hunk 2 is undecided"):
        res.text()
