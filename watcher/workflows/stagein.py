"""The stage-in transfer of a workflow: started exactly once, or grafted from a running task.

Starting goes through `watcher.globus.submit.submit_once` under the key
`workflow:<id>:stage-in`: the Globus submission id is stored before the submit, so running
`watcher stage submit --resume` or `watcher recover` after a crash asks Globus again with the same
id and gets the first task back, never a second transfer. The task is labelled
`watcher <id> stage-in` and put on the watch list with the workflow's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import globus_sdk

from watcher.failpoints import failpoint
from watcher.globus.submit import submit_once
from watcher.store.db import Store
from watcher.store.watch import watch
from watcher.workflows import record
from watcher.workflows.record import CREDENTIALS, STAGE_IN


def intent_key(workflow_id: str) -> str:
    """The key the stage-in is submitted once under, so a retry after a crash reuses the task."""
    return f"workflow:{workflow_id}:stage-in"


def label(workflow_id: str, part: str) -> str:
    """The label of a workflow's transfer (`part` is `stage-in` or `stage-out`)."""
    return f"watcher {workflow_id} {part}"


def transfer_data(spec: Mapping[str, Any], workflow_id: str, submission_id: str
                  ) -> globus_sdk.TransferData:
    """The stage-in TransferData (pure). Globus's own mails are off: the rules do the telling."""
    data = globus_sdk.TransferData(
        spec["source_endpoint"], spec["destination_endpoint"],
        label=label(workflow_id, "stage-in"), submission_id=submission_id,
        verify_checksum=True, notify_on_succeeded=False, notify_on_failed=False,
        notify_on_inactive=False)
    for item in spec["items"]:
        data.add_item(item["source"], item["destination"], recursive=bool(item["recursive"]))
    return data


def start(store: Store, tc: globus_sdk.TransferClient, workflow_id: str, now: datetime) -> str:
    """Start (or find again) the stage-in of the workflow; returns the task id. Blocking.
    Raises `watcher.globus.submit.SubmitError`."""
    with store.session() as session:
        wf = _get(session, workflow_id)
        spec = dict(wf.spec["stage_in_transfer"])
        record.note(session, wf, "stage_in", status="submitting")
        record.log(session, wf, now, CREDENTIALS, "Globus login ok: starting the stage-in")
    done = submit_once(tc, lambda sid: transfer_data(spec, workflow_id, sid), store=store,
                       intent_key=intent_key(workflow_id),
                       watch_info={"workflow": workflow_id, "step": STAGE_IN})
    failpoint("workflow-after-transfer")  # a crash here: Globus has the task, the record not
    with store.session() as session:
        wf = _get(session, workflow_id)
        wf.stage_in_task = done.task_id
        record.note(session, wf, "stage_in", status="active", task=done.task_id)
        again = " (found again)" if done.recorded or done.duplicate else ""
        record.log(session, wf, now, STAGE_IN, f"stage-in started: Globus task "
                                               f"{done.task_id}{again}")
    return done.task_id


def graft(store: Store, workflow_id: str, now: datetime) -> str:
    """Take the transfer named in the spec as the stage-in, and watch it."""
    with store.session() as session:
        wf = _get(session, workflow_id)
        task_id = str(wf.spec["stage_in_task"])
        wf.stage_in_task = task_id
        record.note(session, wf, "stage_in", status="active", task=task_id)
        watch(session, "globus", task_id, workflow=workflow_id, step=STAGE_IN)
        record.log(session, wf, now, STAGE_IN, f"stage-in grafted: Globus task {task_id}")
    return task_id


def _get(session: Any, workflow_id: str) -> Any:
    wf = record.get(session, workflow_id)
    if wf is None:
        raise LookupError(f"no workflow '{workflow_id}'")
    return wf
