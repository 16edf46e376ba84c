"""What a rule's templates can name, per trigger: the shape of the context the engine builds.

`watcher.templating.build_context` (with the engine's extras) gives every firing `rule`, `event`,
`previous`, `user`, `vars`, `now`, `meanings` and `workflow`, plus one subject variable that
depends on the event: `job` for `pbs_job`, `task` for `globus_task`, `quota` for `quota`. The
checker (`watcher.rules.template_check`) walks each template against these shapes so that
`{{ jobb.id }}` or `{{ job.walltime }}` is an error at `watcher rules check`, not at 3 a.m.

A shape is a mapping of the names below a value to their own shapes; `ANY` means "not known in
advance" (a job's variables, a rule's vars), so nothing below it is checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watcher.globus.task_fields import task_attributes
from watcher.pbs.snapshot import JobSnapshot
from watcher.sources.quota_fields import QUOTA_ATTRIBUTES
from watcher.triggers import TRIGGERS
from watcher.workflows.view_names import VIEW_NAMES as WORKFLOW_NAMES

ANY: Any = None  # a value whose contents are not known before it fires
Shape = Mapping[str, Any] | None


def _leaves(names: Sequence[str] | frozenset[str], **nested: Shape) -> dict[str, Shape]:
    return {**{name: ANY for name in sorted(names)}, **nested}


# `job`: a PBS job's attributes; `resources`/`used` are its Resource_List and resources_used,
# whose names depend on the site (walltime, ncpus, mem, select, ...).
JOB: dict[str, Shape] = _leaves(JobSnapshot("", "", "", "", "").attributes())
TASK: dict[str, Shape] = _leaves(task_attributes({}), fatal_error={"code": ANY,
                                                                    "description": ANY})
QUOTA: dict[str, Shape] = _leaves(QUOTA_ATTRIBUTES)
# `workflow`: what `watcher.workflows.context.view` returns.
WORKFLOW: dict[str, Shape] = _leaves(WORKFLOW_NAMES)
MEANINGS: dict[str, Shape] = _leaves(("exit_status", "substate", "state"))
USER: dict[str, Shape] = _leaves(("name", "email"))

# The subject variable each event kind adds, and its shape.
SUBJECT_VARIABLES: dict[str, tuple[str, dict[str, Shape]]] = {
    "pbs_job": ("job", JOB),
    "globus_task": ("task", TASK),
    "quota": ("quota", QUOTA),
}

# Every top-level name a template may use (the README lists exactly these; a test checks).
COMMON_VARIABLES = ("rule", "event", "previous", "user", "vars", "now", "meanings", "workflow")
TEMPLATE_VARIABLES: frozenset[str] = frozenset(
    (*COMMON_VARIABLES, *(name for name, _ in SUBJECT_VARIABLES.values()), "steps"))


# What each action's result gives later steps of the same firing (`steps[0].job_id`): the facts
# of its `Outcome` plus `detail`, the line it logged.
STEP_RESULTS: dict[str, dict[str, Shape]] = {
    "resubmit": _leaves(("detail", "job_id", "resubmitted_from", "attempt", "root")),
    "transfer": _leaves(("detail", "task_id", "submission_id")),
    "stage_out": _leaves(("detail", "task_id", "submission_id")),
    "email": _leaves(("detail", "message_id")),
    "advance_workflow": _leaves(("detail", "done")),
    "qrls": _leaves(("detail",)),
    "qdel": _leaves(("detail",)),
    "qhold": _leaves(("detail",)),
}


# What an email's `digest_subject`/`digest_body` see: rendered when a digest is sent, over the
# whole group (`watcher.actions.email.digest_context`), not over one firing.
DIGEST_ITEM: dict[str, Shape] = _leaves(("subject", "kind", "at", "firing_id", "line"))
DIGEST_VARIABLES: dict[str, Shape] = {
    "rule": ANY, "now": ANY,
    "digest": {**_leaves(("total", "noun", "group", "omitted", "lines", "first_at", "last_at")),
               "items": ANY},
}


@dataclass(frozen=True)
class TriggerContext:
    """The names one trigger's firings give templates, with their shapes."""

    trigger: str
    names: Mapping[str, Shape]


def trigger_context(trigger: str, steps: Shape = ANY) -> TriggerContext:
    """The context shape of a firing of `trigger` (a key of `TRIGGERS`)."""
    impl = TRIGGERS[trigger]
    attrs = _subject_attrs(impl.attributes)
    names: dict[str, Shape] = {
        "rule": ANY,
        "event": {"kind": ANY, "subject": ANY, "change": ANY, "at": ANY, "attrs": attrs,
                  "data": ANY},
        "previous": attrs,
        "user": USER,
        "vars": ANY,
        "now": ANY,
        "meanings": MEANINGS,
        "workflow": WORKFLOW,
        "steps": steps,
    }
    for kind in sorted(impl.event_kinds):
        if kind in SUBJECT_VARIABLES:
            name, shape = SUBJECT_VARIABLES[kind]
            names[name] = shape
    return TriggerContext(trigger, names)


def _subject_attrs(attributes: frozenset[str] | None) -> Shape:
    if attributes is None:
        return ANY
    known = {"pbs_job": JOB, "globus_task": TASK, "quota": QUOTA}
    for shape in known.values():  # the subject's own nested shapes (task.fatal_error.code)
        if attributes == frozenset(shape):
            return shape
    return _leaves(attributes)


def digest_context() -> TriggerContext:
    """The context of a template an action renders when it sends a digest."""
    return TriggerContext("digest", DIGEST_VARIABLES)


def subject_variable_of(name: str) -> list[str]:
    """The triggers whose firings define `name` (`job` -> [pbs_job])."""
    return [kind for kind, (var, _) in SUBJECT_VARIABLES.items() if var == name]
