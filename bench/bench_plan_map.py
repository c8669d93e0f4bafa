"""The planner's first map of a large repository, against the I/O it cannot avoid.

    python -m bench.bench_plan_map [--files N] [--rounds N]

A generated repository of 20,000 files (Python packages that import each other, TypeScript
modules that import each other, tests, docs; names drawn from a vocabulary of ~2,700 words
with a Zipf law, as in a real codebase) and a goal about one of its modules. The ranked map
(`ranked_map`: one `git ls-files`, one `grep -F` pass over every tracked file for the goal's
words and the importers of the best files, then the few best files parsed) against a bare
`git ls-files` plus reading, in Python, every file it lists: the same bytes the map's search
reads. Target: ≤ 1.5×. Best of --rounds for each side, the two taking turns; the page
cache is warm for both. The goal's module must come first, as a check the map is worth it.

Measured 2026-12-07 on the shared 2-core machine, others' tests running (load 2.7-6.7),
five runs: git ls-files + read 32.7 MB 208-400 ms, ranked map 243-459 ms, ratio 1.13-1.29;
the goal's module first of 2,390 ranked files. With `git grep` reading instead of GNU grep
(what a machine without GNU grep gets), at load 7-8: ratio 0.98 and 1.68, over the target at
times: git grep's one process reads with more system calls than two greps.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path

from maestro_tui.workspace.ranked_map import rank_files, ranked_map

TARGET = 1.5
IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
SYLLABLES = "ka lo mi nu pe ra si to vu be co da fe gi ho ju le mo na po qui re su ta vi wo".split()
FOLDER_SIZE = 25


def vocabulary(rnd: random.Random) -> list[str]:
    words = {a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("", "n", "r", "s")}
    return rnd.sample(sorted(words), len(words))


class Names:
    """Words with a Zipf law: a few everywhere, most rare."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.words = vocabulary(rnd)
        self.cum_weights = list(accumulate(1 / (rank + 1) for rank in range(len(self.words))))

    def pick(self, k: int = 1) -> list[str]:
        return self.rnd.choices(self.words, cum_weights=self.cum_weights, k=k)


def python_module(names: Names, module: str, others: list[str]) -> str:
    rnd = names.rnd
    lines = [f'"""{" ".join(names.pick(8))}."""', "", "import os"]
    for other in rnd.sample(others, min(len(others), rnd.randint(2, 5))):
        lines.append(f"from {other} import {names.pick()[0]}_{rnd.randint(0, 9)}")
    for n in range(rnd.randint(4, 10)):
        a, b = names.pick(2)
        lines += ["", "", f"def {a}_{b}_{n}(value, {names.pick()[0]}=None):"]
        lines.append(f'    """{" ".join(names.pick(10)).capitalize()}."""')
        lines += [f"    {names.pick()[0]} = value * {n}" for _ in range(rnd.randint(2, 6))]
        lines.append("    return value")
    cls = "".join(w.capitalize() for w in names.pick(2))
    lines += ["", "", f"class {cls}:", f'    """{" ".join(names.pick(6))}."""', ""]
    lines += ["    def run(self):", f"        return {module.rsplit('.', 1)[-1]!r}"]
    return "\n".join(lines) + "\n"


def script_module(names: Names, siblings: list[str]) -> str:
    rnd = names.rnd
    chosen = rnd.sample(siblings, min(2, len(siblings)))
    lines = [f"import {{ {names.pick()[0]} }} from './{s}';" for s in chosen]
    lines.append("import React from 'react';")
    for n in range(rnd.randint(3, 8)):
        a, b = names.pick(2)
        lines += ["", f"export function {a}{b.capitalize()}{n}(value: number): number {{"]
        lines += [f"  const {names.pick()[0]} = value * {n};" for _ in range(rnd.randint(2, 5))]
        lines += ["  return value;", "}"]
    return "\n".join(lines) + "\n"


def generate(root: Path, n_files: int, seed: int = 7) -> tuple[str, str]:
    """Write and commit a repository of n_files; (a goal, the file it is about)."""
    rnd = random.Random(seed)
    names = Names(rnd)
    files: dict[str, list[str]] = {}  # path -> its folder's scripts, for a script
    packages: list[tuple[str, list[str]]] = []  # (folder, module names)
    while len(files) < n_files:
        top, sub = names.pick(2)
        folder = f"src/{top}/{sub}{len(packages)}"
        modules = sorted({"_".join(names.pick(2)) for _ in range(FOLDER_SIZE - 5)})
        packages.append((folder, modules))
        files[f"{folder}/__init__.py"] = []
        for m in modules:
            files[f"{folder}/{m}.py"] = []
        files[f"tests/{top}/test_{sub}{len(packages)}.py"] = []
        web = f"web/{top}/{sub}{len(packages)}"
        scripts = sorted({"".join(names.pick(2)) for _ in range(3)})
        for s in scripts:
            files[f"{web}/{s}.ts"] = scripts
        files[f"docs/{top}/{sub}{len(packages)}.md"] = []
    dotted = [f"{folder.replace('/', '.')[4:]}.{m}" for folder, ms in packages for m in ms]
    for path, scripts in list(files.items())[:n_files]:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.endswith("__init__.py"):
            text = ""
        elif path.endswith(".py"):
            text = python_module(names, path, rnd.sample(dotted, 8))
        elif path.endswith(".ts"):
            text = script_module(names, scripts)
        else:
            text = f"# {path}\n\n" + "\n".join(" ".join(names.pick(12)) for _ in range(15))
        target.write_text(text)
    folder, modules = packages[len(packages) // 2]
    module = modules[0]
    path = f"{folder}/{module}.py"
    words = module.split("_")
    goal = f"Make the {words[0]} {words[1]} step retry when it times out, and test it"
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", *IDENTITY, "commit", "-qm", "generated"], cwd=root, check=True)
    return goal, path


def ls_and_read(root: Path) -> int:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True).stdout
    total = 0
    for name in listed.split(b"\0"):
        if name:
            with open(root / name.decode(), "rb") as handle:
                total += len(handle.read())
    return total


def best_of(rounds: int, *works: Callable[[], object]) -> list[float]:
    """The best time of each work, the works taking turns round by round (the machine is
    shared: a burst of load then falls on both sides alike)."""
    best = [float("inf")] * len(works)
    for _ in range(rounds):
        for n, work in enumerate(works):
            started = time.perf_counter()
            work()
            best[n] = min(best[n], time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        goal, wanted = generate(root, args.files)
        size = ls_and_read(root)
        ranked = [f.path for f in rank_files(root, goal).ranked]
        place = ranked.index(wanted) + 1 if wanted in ranked else None
        raw, ours = best_of(args.rounds, lambda: ls_and_read(root), lambda: ranked_map(root, goal))
    ratio = ours / raw
    ok = ratio <= TARGET and place == 1
    print(f"goal: {goal!r}; its module {wanted} ranks {place or 'nowhere'} of {len(ranked)}")
    print(
        f"plan map, {args.files:,} files: git ls-files + read {size / 1e6:.1f} MB "
        f"{raw * 1000:.0f} ms, ranked map {ours * 1000:.0f} ms, ratio {ratio:.2f} "
        f"(target <= {TARGET}) {'ok' if ok else 'OVER'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
