"""`compare RUN RUN …`: runs side by side, per task and in total, and how results differ.

Every figure comes from the store's task outcomes (domain/outcomes.py says what each means);
the diffs between two results of a task come from git, in the runs' repository.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from maestro_tui.domain.comparison import Comparison, RunTotals
from maestro_tui.domain.outcomes import TaskOutcome
from maestro_tui.session.comparison import Diffs, load_comparison, result_diffs
from maestro_tui.session.outcome import EXIT_OK
from maestro_tui.store.records import RunSummary


async def compare(db_path: Path, refs: Sequence[str], as_json: bool, diff_lines: int) -> int:
    runs, comparison = await load_comparison(db_path, refs)
    diffs = await asyncio.to_thread(result_diffs, runs, comparison)
    if as_json:
        print(json.dumps(to_json(runs, comparison, diffs), indent=1))
        return EXIT_OK
    for line in render(runs, comparison, diffs, diff_lines):
        print(line)
    return EXIT_OK


def to_json(runs: Sequence[RunSummary], c: Comparison, diffs: Diffs) -> dict[str, Any]:
    return {
        "runs": [
            {
                "run_id": r.run_id,
                "goal": r.goal,
                "status": r.status,
                "rerun_of": r.rerun_of,
                "repo": r.repo,
                "totals": t.to_dict(),
            }
            for r, t in zip(runs, c.totals, strict=True)
        ],  # fmt: skip
        "tasks": [
            {
                "task_id": row.task_id,
                "role": row.role,
                "runs": [o.to_dict() if o else None for o in row.outcomes],
                "candidates": [[o.to_dict() for o in cs] for cs in row.candidates],
                "diffs": {
                    c.run_ids[j]: {"diff": text, "same_base": same_base}
                    for j in range(1, len(c.run_ids))
                    if (row.task_id, j) in diffs
                    for text, same_base in [diffs[(row.task_id, j)]]
                },
            }
            for row in c.rows
        ],
    }


HEAD = (
    f"  {'run':<22} {'outcome':<20} {'tests as merged':<16} {'fix':>3} {'hum':>3}"
    f" {'diff':>12} {'tokens in/out':>15} {'cost':>9} {'time':>7}  worker · model"
)


def _cell(label: str, o: TaskOutcome | None) -> str:
    if o is None:
        return f"  {label:<22} (not in this run's plan)"
    if o.taken_over:
        return f"  {label:<22} {'taken over':<20} from {o.taken_over}: its result, not paid again"
    outcome = o.status + (" ✓" if o.merged and o.status == "merged" else "")
    if o.first_try_green is False:
        outcome += ", red first"
    gate = "–"
    if o.gate:
        gate = f"{o.gate} {o.gate_n_passed or 0}/{o.gate_n_failed or 0}"
    diff = f"{o.files}f +{o.lines}" if o.commit else "–"
    tokens = f"{o.tokens_in}/{o.tokens_out}"
    cost = f"${o.cost_usd:.4f}" + ("*" if o.unpriced_calls else "")
    time = "–" if o.wall_s is None else f"{o.wall_s:.1f}s"
    who = f"{o.worker or '?'} · {o.model or '?'}"
    fixes = "?" if o.fix_rounds is None else str(o.fix_rounds)
    return (
        f"  {label:<22} {outcome:<20} {gate:<16} {fixes:>3}"
        f" {o.interventions:>3} {diff:>12} {tokens:>15} {cost:>9} {time:>7}  {who}"
    )


def _total(label: str, t: RunTotals) -> str:
    merged = f"{t.merged}/{t.tasks} merged"
    if t.taken_over:
        merged += f" ({t.taken_over} taken over)"
    gate = f"{t.gate_passed} passed, {t.gate_failed} red"
    time = "–" if t.wall_s is None else f"{t.wall_s:.1f}s"
    cost = (
        f"${t.cost_usd:.4f}" + ("*" if t.unpriced_calls else "") + (" sim" if t.simulated else "")
    )
    return (
        f"  {label:<22} {merged:<20} {gate:<16} {t.fix_rounds:>3} {t.interventions:>3}"
        f" {f'{t.files}f +{t.lines}':>12} {f'{t.tokens_in}/{t.tokens_out}':>15}"
        f" {cost:>9} {time:>7}  ran {t.ran}, {t.conflicts} conflict(s)"
    )


def render(
    runs: Sequence[RunSummary],
    c: Comparison,
    diffs: Diffs,
    diff_lines: int,
) -> list[str]:
    labels = [f"{chr(65 + i)} {r.run_id}"[:22] for i, r in enumerate(runs)]
    lines = []
    for label, r in zip(labels, runs, strict=True):
        origin = f", re-run of {r.rerun_of}" if r.rerun_of else ""
        lines.append(f"{label}: {r.status}{origin} · {r.goal[:60]}")
    lines += ["", HEAD]
    for row in c.rows:
        lines.append(f"{row.task_id} ({row.role})")
        for i, (label, o) in enumerate(zip(labels, row.outcomes, strict=True)):
            lines.append(_cell(label, o))
            for cand in row.candidates[i]:
                lines.append(_cell(f"   candidate {cand.candidate}", cand))
    lines += ["", "total"]
    lines += [_total(label, t) for label, t in zip(labels, c.totals, strict=True)]
    for (task, j), (text, same_base) in diffs.items():
        lines.append("")
        head = f"{task}: {labels[0].split()[0]} → {labels[j].split()[0]}"
        if not text:
            lines.append(f"{head}: the same change")
            continue
        body = text.splitlines()
        where = "" if same_base else ", on different bases (other tasks' work shows too)"
        lines.append(f"{head}: the changes differ ({len(body)} diff lines{where})")
        if diff_lines > 0:
            lines += body[:diff_lines]
            if len(body) > diff_lines:
                lines.append(f"… {len(body) - diff_lines} more lines (--diff-lines N, or --json)")
    return lines
