"""Actions, one module each: the YAML key is the module's name (`watcher.actions.<key>`).

Helper modules (`base`, `registry`, `effects`, `pbs_outcome`, `digest`) are not
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
    "advance_workflow": "move a staged workflow on after one of its steps changed",
}, package=__name__)
