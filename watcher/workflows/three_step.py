"""The three-step shape (`watcher stage submit SCRIPT --stage-in ... --stage-out ...`, or a
file with `script:`) as the graph it is: one engine runs every workflow (pure).

    stage-in  (transfer, or your own task grafted with --stage-in-task)
      -> compute  (the script; a walltime kill submitted again `walltime_retries` times,
                   each asking for `walltime_factor` times the walltime of the run killed)
        -> stage-out  (transfer, when given)
    on_failure: cleanup  (the cleanup script, only if the stage-in or compute failed: a failed
                          stage-out leaves the output where compute wrote it, for a retry)

The compute job keeps the workflow's name as its job name (`-N`), the cleanup job is
`<name>-cleanup` and keeps only where compute is charged and queued (`-A`, `-q`, `-P`): a
cleanup needs no hundred nodes.
"""

from __future__ import annotations

import re

from watcher.pbs.submit_args import QsubArgs, parse_submit_arguments
from watcher.workflows.graph import GraphSpec, Item, JobRetries, Step, Transfer
from watcher.workflows.spec import Pair, WorkflowSpec

STAGE_IN, COMPUTE, STAGE_OUT, CLEANUP = "stage-in", "compute", "stage-out", "cleanup"
_CLEANUP_KEEPS = ("A", "q", "P")


def workflow_name(spec: WorkflowSpec) -> str:
    """The spec's name, else its script's stem (`run/compute.sh` -> `compute`; characters a
    job name cannot hold become `-`, and it starts with a letter or digit)."""
    stem = spec.script.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", stem).lstrip("_.-")[:64]
    return spec.name or name or "workflow"


def as_graph(spec: WorkflowSpec) -> GraphSpec:
    """The graph of the three-step spec (see the module docstring)."""
    name = workflow_name(spec)
    args = QsubArgs(parse_submit_arguments(" ".join(spec.qsub_args)).options)
    compute = args if args.has("N") else args.plus("N", name[:230])
    cleanup = QsubArgs(tuple(o for o in args.options if o[0] in _CLEANUP_KEEPS)).plus(
        "N", f"{name}-cleanup"[:230])
    stage_in = (Transfer(task=spec.stage_in_task) if spec.stage_in_task
                else _transfer(spec.stage_in))
    steps = {STAGE_IN: Step(transfer=stage_in),
             COMPUTE: Step(job=spec.script, qsub=compute.argv(), after=[STAGE_IN],
                           retries=JobRetries(walltime=0 if spec.is_array
                                              else spec.walltime_retries,
                                              walltime_factor=spec.walltime_factor))}
    if spec.stage_out:
        steps[STAGE_OUT] = Step(transfer=_transfer(spec.stage_out), after=[COMPUTE])
    on_failure = None
    if spec.cleanup:
        on_failure = {CLEANUP: Step(job=spec.cleanup, qsub=cleanup.argv(),
                                    if_failed=[STAGE_IN, COMPUTE])}
    return GraphSpec(name=name, steps=steps, on_failure=on_failure, email=spec.email)


def _transfer(pairs: list[Pair]) -> Transfer:
    return Transfer(items=[Item(source=p.source, destination=p.destination) for p in pairs])
