"""Actions, one module each. The YAML key, the module name and the registry key are one word."""

from __future__ import annotations

from watcher.actions import (
    advance_workflow,
    email,
    qdel,
    qhold,
    qrls,
    recover_workflow,
    resubmit,
    stage_out,
    stage_out_workflow,
    transfer,
)
from watcher.actions.base import ActionType

ACTIONS: dict[str, ActionType] = {
    "qrls": ActionType("qrls", qrls.Params, qrls.execute, "release a hold on a PBS job"),
    "qdel": ActionType("qdel", qdel.Params, qdel.execute, "delete a PBS job"),
    "qhold": ActionType("qhold", qhold.Params, qhold.execute, "put a hold on a PBS job"),
    "email": ActionType("email", email.Params, email.execute, "send an email"),
    "resubmit": ActionType("resubmit", resubmit.Params, resubmit.execute, "resubmit a PBS job"),
    "transfer": ActionType("transfer", transfer.Params, transfer.execute,
                           "start a Globus transfer (exactly once)"),
    "stage_out": ActionType("stage_out", stage_out.Params, stage_out.execute,
                            "copy a job's output directory with Globus (exactly once)"),
    "recover_workflow": ActionType("recover_workflow", recover_workflow.Params,
                                   recover_workflow.execute,
                                   "submit again the steps of a staged workflow that did not "
                                   "finish"),
    "advance_workflow": ActionType("advance_workflow", advance_workflow.Params,
                                   advance_workflow.execute,
                                   "move a graph workflow on after one of its steps changed"),
    "stage_out_workflow": ActionType("stage_out_workflow", stage_out_workflow.Params,
                                     stage_out_workflow.execute,
                                     "start a staged workflow's stage-out (exactly once)"),
}
