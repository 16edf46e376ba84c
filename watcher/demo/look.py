"""Looking at the world: the cheap view scenarios wait on (the workflow record and its mail),
and the full facts at the end (PBS, Globus and files too). Blocking; call from a thread."""

from __future__ import annotations

from dataclasses import dataclass

from watcher.demo.facts import Email, Facts, Transfer, job_state
from watcher.demo.scenarios import Scenario
from watcher.demo.setup import layout
from watcher.demo.world import DemoWorld
from watcher.store.models import Workflow
from watcher.workflows import record
from watcher.workflows.jobs import WORKFLOW_VAR
from watcher.workflows.show import current_ids


@dataclass(frozen=True)
class View:
    """A workflow as the store has it now, and the emails about it so far."""

    workflow: Workflow
    emails: tuple[Email, ...]


def view(world: DemoWorld, workflow_id: str) -> View:
    """The workflow's record and mail now; LookupError if the store has no such workflow."""
    with world.store.session(write=False) as session:
        wf = record.get(session, workflow_id)
    if wf is None:
        raise LookupError(f"no workflow '{workflow_id}'")
    return View(wf, emails_about(world, workflow_id))


def emails_about(world: DemoWorld, workflow_id: str) -> tuple[Email, ...]:
    """The watcher's mails name the workflow in their subject: `[watcher] wf-… (name): …`."""
    mails = (Email.of(received) for received in world.sink.messages)
    return tuple(mail for mail in mails if workflow_id in mail.subject)


def settled(scenario: Scenario, now: View) -> bool:
    """The workflow ended as the scenario expects (a failed one after its cleanup ran) and as
    many emails came as it expects: nothing more should happen."""
    return now.workflow.step == scenario.ends and len(now.emails) >= scenario.mails


def gather(world: DemoWorld, scenario: Scenario, workflow_id: str) -> Facts:
    """Everything the checks judge, from the store, PBS, Globus, the mailbox and the disk."""
    with world.store.session(write=False) as session:
        wf = record.get(session, workflow_id)
        lines = [(line.step, line.text) for line in record.lines(session, workflow_id)]
    assert wf is not None
    jobs = world.sim.qstat_json().get("Jobs", {})
    mine = [job for job in jobs.values()
            if (job.get("Variable_List") or {}).get(WORKFLOW_VAR) == workflow_id]
    current, _tasks = current_ids(wf)
    states = {name: job_state(jobs.get(job_id)) for name, job_id in current.items()}
    where = layout(world, scenario)
    made, staged = where.run_dir / "out" / "result.txt", where.results / "result.txt"
    arrived = staged.is_file() and made.is_file() and staged.read_bytes() == made.read_bytes()
    if scenario.graph:
        outputs = sorted(p.name for p in (where.run_dir / "out").glob("point-*"))
        arrived = len(outputs) == 3 and all(
            sorted(p.name for p in folder.glob("point-*")) == outputs
            for folder in (where.results, world.root / "collab" / scenario.letter / "shared"))
    return Facts(workflow_id, wf.step, tuple(lines), emails_about(world, workflow_id), states,
                 len(mine), transfers(world, wf), arrived, (where.run_dir / "out").exists(),
                 (where.run_dir / "cleanup-ran").exists())


def transfers(world: DemoWorld, wf: Workflow) -> tuple[Transfer, ...]:
    """The workflow's Globus tasks, each with its step: those on its record (a grafted one
    too) and any labelled with its id (so a second start of a step would be counted)."""
    steps = {task: name for section in record.SECTIONS
             for name, entry in (wf.progress.get(section) or {}).items()
             for task in entry.get("tasks") or []}
    prefix = f"watcher {wf.id} "
    found = []
    for task in world.emu.tasks():
        label = str(task.get("label") or "")
        step = label[len(prefix):] if label.startswith(prefix) else steps.get(task["task_id"])
        if step is not None:
            found.append(Transfer(task["task_id"], step, str(task["status"]), label))
    return tuple(found)
