"""The engine: one run of a plan, from the integration branch to merged results.

Its parts, each a package with its public names in its `__init__`:

- `merge/`: the merge queue, the human's decisions on it, and the gate that tests every merge
  before it lands (`MergeQueue`, `MergeDecisions`, `Gate`, `CommitTests`).
- `executors/`: where an attempt works: a local worktree, a Ray node, or a scratch checkout
  for a person to look at (`LocalExecutor`, `RayExecutor`, `checkout_for`).
- `history/`: reading a run back from the store: the replay and following a live run
  (`Replayer`, `Follower`).

Beside them, the run itself: `orchestrator` (one run), `attempt` (one try of one task),
`scheduler` (what runs next), `budget`, `steering`, `bus` (the event bus), `reporter`,
`context` (what a task is told), `selection` (among an ensemble's candidates) and `runlock`.

Plans that come from files rather than a model (workflows, the inbox) are `maestro_tui.sources`.
"""
