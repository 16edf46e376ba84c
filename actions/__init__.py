"""Actions, one module each: the YAML key is the module's name (`watcher.actions.<key>`).

Helper modules (`base`, `registry`, `effects`, `pbs_outcome`, `digest`, `workflow_run`) are not
actions.
"""

from __future__ import annotations

from watcher.actions.registry import ActionRegistry

ACTIONS = ActionRegistry({
    "qrls": "release a hold on a PBS job",
    "qdel": "delete a PBS job",
    "qhold": "put a hold on a PBS job",
    "email": "send an email",
    "resubmit": "resubmit a PBS job",
    "transfer": "start a Globus transfer (exactly once)",
    "stage_out": "copy a job's output directory with Globus (exactly once)",
    "recover_workflow": "submit again the steps of a staged workflow that did not finish",
    "advance_workflow": "move a graph workflow on after one of its steps changed",
    "stage_out_workflow": "start a staged workflow's stage-out (exactly once)",
}, package=__name__)
