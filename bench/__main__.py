"""`make bench`: every benchmark, each printing its figures and ratio to a raw baseline.

Each runs in a fresh process, so memory figures (peak RSS) are not inflated by the ones
before it. `python -m bench store git` runs only those.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

BENCHES = [
    "bench.bench_scheduler",
    "bench.bench_store",
    "bench.bench_git",
    "bench.bench_llm",
    "bench.bench_ui",
    "bench.bench_replay",
    "bench.bench_ensembles",
    "bench.bench_cli_parse",
    "bench.bench_mcp",
    "bench.bench_gate",
    "bench.bench_plan_map",
    "bench.bench_overlaps",
    "bench.bench_stats",
    "bench.bench_prepare",
    "bench.bench_scale",
    "bench.bench_attached",
    "bench.bench_ray",
]


def main(names: list[str]) -> int:
    chosen = [b for b in BENCHES if not names or b.split("_", 1)[1] in names]
    failed = 0
    for name in chosen:
        if importlib.util.find_spec(name) is None:
            continue
        print(f"\n== {name} ==", flush=True)
        failed += subprocess.run([sys.executable, "-m", name]).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
