"""Staged workflows: a PBS compute job between a Globus stage-in and a stage-out.

`watcher stage submit` records a workflow (`record`, the `workflow` and `workflow_log`
tables), submits its compute and cleanup jobs held and starts (or grafts) its stage-in
(`submit`, `complete`, `stagein`). From then on the service drives it: the tracker updates
the record from each poll's events (`tracker`, `react`), and the staging rules shipped in
`staging.yaml` (`rules`) release, delete, stage out, resubmit and mail, reading the live record
as `workflow` in their templates (`context`). `watcher recover` and the `recover_workflow`
action submit again what a lost queue took (`plan`, `complete`); `watcher history WF` and
`watcher status` show it (`show`).
"""
