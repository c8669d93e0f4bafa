"""`make bench`: every benchmark, each printing its figures and ratio to a raw baseline."""

from __future__ import annotations

import importlib
import sys

BENCHES = [
    "bench.bench_scheduler",
    "bench.bench_store",
    "bench.bench_git",
    "bench.bench_llm",
    "bench.bench_ui",
    "bench.bench_replay",
    "bench.bench_ensembles",
]


def main(names: list[str]) -> int:
    chosen = [b for b in BENCHES if not names or b.split("_", 1)[1] in names]
    for name in chosen:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # not written yet
            raise
        print(f"\n== {name} ==", flush=True)
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
