"""A job's lineage: the original job and every resubmission of it, in order.

Two records of it, on purpose. Each resubmitted job carries tags in its own environment
(`qsub -v`): WATCHER_RESUBMIT_OF (the job it replaces), WATCHER_ROOT (the original),
WATCHER_ATTEMPT (1 for the first resubmission) and WATCHER_INTENT (the intent that submitted
it). Tags live with the job in PBS, so they work without any store and survive the loss of the
watcher's database; they are what counts attempts and what makes a resubmit exactly-once
(after a crash, a job already carrying the intent's tag is found instead of submitting again).
The store adds the whole chain as facts (`watcher.pbs.lineage_facts`), so a rule or a
workflow can ask `lineage_of(store, id)` for the newest job of a lineage. This module is pure.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Container, Mapping
from dataclasses import dataclass

from watcher.pbs.parse import QstatDocument
from watcher.pbs.snapshot import JobSnapshot

INTENT = "WATCHER_INTENT"
RESUBMIT_OF = "WATCHER_RESUBMIT_OF"
ROOT = "WATCHER_ROOT"
ATTEMPT = "WATCHER_ATTEMPT"
# The lineage tags a resubmission replaces. Other WATCHER_* variables (a workflow's
# WATCHER_WORKFLOW / WATCHER_STEP) are the job's identity for rules and are carried over.
LINEAGE_TAGS = frozenset({INTENT, RESUBMIT_OF, ROOT, ATTEMPT})
# What can stand in a -v value unquoted and is not mistaken for a number by qstat's JSON.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.:|@/+\-\[\]]*[A-Za-z_:|@/\[\]][A-Za-z0-9_.:|@/+\-\[\]]*")


@dataclass(frozen=True)
class Lineage:
    """`chain` runs from `root` (the original job) to the newest resubmission."""

    root: str
    chain: tuple[str, ...]

    @property
    def newest(self) -> str:
        """The latest job id of the chain: its last resubmission, or `root` if there is none."""
        return self.chain[-1]

    def extended(self, parent: str, job_id: str) -> Lineage:
        """The lineage after `parent` was resubmitted as `job_id` (a branch when `parent` was
        not the newest: the chain is cut after it)."""
        upto = self.chain[: self.chain.index(parent) + 1] if parent in self.chain else (parent,)
        return Lineage(self.root, (*upto, job_id))


def intent_tag(key: str) -> str:
    """The WATCHER_INTENT value for an idempotency key: the key itself when it is plain text
    (engine keys are `rule|job|event|step`), else a digest that needs no quoting."""
    if _PLAIN_KEY.fullmatch(key):
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:40]


def attempt_of(variables: Mapping[str, str]) -> int:
    """How many resubmissions led to this job (0 for an original job)."""
    try:
        return max(0, int(variables.get(ATTEMPT, "0")))
    except ValueError:
        return 0


def lineage_from_tags(job_id: str, variables: Mapping[str, str]) -> Lineage:
    """What the job's own tags tell: its root and itself (the jobs between are in the store)."""
    root = variables.get(ROOT) or variables.get(RESUBMIT_OF) or job_id
    return Lineage(root, (job_id,) if root == job_id else (root, job_id))


def tags(parent: str, lineage: Lineage, attempt: int, key: str) -> dict[str, str]:
    """The -v tags of the job that resubmits `parent`."""
    return {RESUBMIT_OF: parent, ROOT: lineage.root, ATTEMPT: str(attempt),
            INTENT: intent_tag(key)}


def tagged_with(
    doc: QstatDocument[JobSnapshot], key: str, parent: Container[str]
) -> JobSnapshot | None:
    """The job an earlier run of intent `key` submitted as a resubmission of `parent`, if
    qstat lists one. Variable_List values arrive as strings whatever JSON type qstat gave them
    (`parse_qstat_json`). The parent must match too: a server that lost its queue reuses ids,
    and a tag must not be taken for one left by another job's lineage."""
    tag = intent_tag(key)
    found = [job for job in doc.jobs.values()
             if job.variables.get(INTENT) == tag and job.variables.get(RESUBMIT_OF, "") in parent]
    return min(found, key=lambda job: _sort_key(job.id)) if found else None


def _sort_key(job_id: str) -> tuple[int, str]:
    number = job_id.partition(".")[0].partition("[")[0]
    return (int(number) if number.isdigit() else 0, job_id)
