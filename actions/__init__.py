"""Actions, one module each. The YAML key, the module name and the registry key are one word."""

from __future__ import annotations

from actions import email, qdel, qhold, qrls, resubmit, stage_out, transfer
from actions.base import ActionType

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
}
