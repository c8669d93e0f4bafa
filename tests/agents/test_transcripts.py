"""The captured transcripts stay usable as parser fixtures: whole, indexed, free of our paths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "transcripts"
INDEX = json.loads((HERE / "index.json").read_text())
FILES = sorted(p for p in HERE.iterdir() if p.suffix in (".jsonl", ".txt"))
# Where a successful run's stream ends, per CLI.
LAST_LINE = {"claude": "result", "codex": "turn.completed", "gemini": "result"}


def test_every_transcript_is_indexed_with_its_exit_code() -> None:
    assert {p.name for p in FILES} == {name for name in INDEX if not name.startswith("_")}
    assert set(INDEX["_versions"]) == {"claude", "codex", "gemini", "aider"}
    for name in (p.name for p in FILES):
        entry = INDEX[name]
        assert (entry["exit_code"] is None) == (entry["killed_after_s"] is not None), name


@pytest.mark.parametrize("path", [p for p in FILES if p.suffix == ".jsonl"], ids=lambda p: p.name)
def test_structured_transcripts_are_one_json_object_a_line(path: Path) -> None:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines and all(isinstance(line, dict) and "type" in line for line in lines)
    cli = path.name.split("-", 1)[0]
    if INDEX[path.name]["exit_code"] == 0:
        assert lines[-1]["type"] == LAST_LINE[cli]


def test_no_path_of_the_capturing_machine_is_left() -> None:
    leak = re.compile(r"(?<![\w$])/(tmp|root|home|work)/")
    for path in [*FILES, HERE / "index.json"]:
        text = path.read_text()
        assert not leak.search(text.replace("$LAB/run1/tmp/", "")), path.name


def test_the_documented_exit_codes_hold() -> None:
    codes = {name: entry["exit_code"] for name, entry in INDEX.items() if "exit_code" in entry}
    assert codes["gemini-bad-key.jsonl"] == 145 and codes["gemini-usage-limit.jsonl"] == 173
    assert codes["claude-bad-key.jsonl"] == 1 and codes["codex-usage-limit.jsonl"] == 1
    assert codes["aider-bad-key.txt"] == 0 and codes["aider-usage-limit.txt"] == 0
    assert {
        codes[f"{cli}-refused.{'txt' if cli == 'aider' else 'jsonl'}"] for cli in INDEX["_versions"]
    } == {0}
