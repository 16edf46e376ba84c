"""Staged workflows: PBS jobs and Globus transfers as a graph of steps, run by one engine.

`watcher stage submit` reads a workflow (`graph` models and checks, `specfile`; the three-step
shape of its options, `spec`, becomes the graph stage-in -> compute -> stage-out in
`three_step`), records it (`record`, the `workflow` and `workflow_log` tables) and runs its
first moves (`complete`, `graph_run`). From then on the service drives it: the tracker updates
each step from the poll's events (`tracker`, `graph_track`, `graph_react`), and the staging
rules shipped in `staging.yaml` run `advance_workflow`, which plans from the record
(`graph_plan`, pure) and acts exactly once (`graph_run`): release, start, retry, resubmit what
PBS lost, skip, on_failure, one mail. Rules read the live record as `workflow` in their
templates (`context`). `watcher recover`, `watcher stage cancel|retry|logs`
(`cancel`, `graph_retry`, `graph_logs`), `watcher history WF` and `watcher status` (`show`) act
on the same record; a record of an earlier watcher is upgraded as it is read (`upgrade`).
"""
