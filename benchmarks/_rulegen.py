"""Rule sets for the cycle-cost part: a facility's mix, none of which fires on an idle cycle.

- `pinned_jobs`: per-job rules (`pbs_job: {id: ...}`), as a workflow instantiates them;
- `pinned_tasks`: per-task rules (`globus_task: {task: ...}`), the stage-in releases;
- the rest: pattern rules over names and labels, which every event of their kind consults,
  and one rule over every held job with a `for:` window (its windows stay open, so each
  cycle's `tick` reads them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def facility_rules(count: int, jobs: Sequence[str], tasks: Sequence[str]) -> Iterator[str]:
    """`count` rules: 40 % pinned to jobs, 40 % pinned to tasks, the rest patterns."""
    pinned = (count * 2) // 5
    for i in range(min(pinned, len(jobs))):
        yield (f"  - name: start-{i}\n"
               f"    when: {{pbs_job: {{id: \"{jobs[i]}\", state: R}}}}\n"
               f"    do: [{{qhold: {{job: \"{jobs[-1 - i]}\"}}}}]\n")
    for i in range(min(pinned, len(tasks))):
        yield (f"  - name: stage-in-{i}\n"
               f"    when: {{globus_task: {{task: {tasks[i]}, status: SUCCEEDED}}}}\n"
               f"    do: [{{qrls: {{job: \"{jobs[i % len(jobs)]}\"}}}}]\n")
    rest = count - min(pinned, len(jobs)) - min(pinned, len(tasks)) - 1
    for i in range(rest):
        if i % 2:
            yield (f"  - name: walltime-{i}\n"
                   f"    when: {{pbs_job: {{name: \"sim{i}-*\", exit_status: -29}}}}\n"
                   f"    do: [{{resubmit: {{max_attempts: 3}}}}]\n")
        else:
            yield (f"  - name: transfer-failed-{i}\n"
                   f"    when: {{globus_task: {{label: \"wf{i}-*\", status: FAILED}}}}\n"
                   f"    do: [{{email: {{to: ops@example.org, subject: failed}}}}]\n")
    yield ("  - name: held-too-long\n"
           "    when: {pbs_job: {state: H}}\n"
           "    for: 12h\n"
           "    do: [{email: {to: ops@example.org, subject: \"{{ job.id }} held 12h\"}}]\n")
