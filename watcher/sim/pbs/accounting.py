"""The PBS accounting log: `MM/DD/YYYY HH:MM:SS;<type>;<job id>;<message>` lines, one file a day.

Records are appended with one write() on an O_APPEND descriptor, so the server and the shims
can log at the same time without interleaving lines.
"""

from __future__ import annotations

import grp
import os
from pathlib import Path

from watcher.sim.pbs.model import Job
from watcher.sim.pbs.timefmt import accounting_day, accounting_time


def write(directory: Path, rtype: str, jobid: str, message: str, now: float) -> None:
    """Append one record (types: Q queued, S started, E ended, D deleted, A aborted, R rerun)."""
    line = f"{accounting_time(now)};{rtype};{jobid};{message}\n"
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / accounting_day(now), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read_lines(directory: Path) -> list[str]:
    """Every record, oldest file first."""
    if not directory.is_dir():
        return []
    lines: list[str] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        lines.extend(path.read_text().splitlines())
    return lines


def _group() -> str:
    try:
        return grp.getgrgid(os.getgid()).gr_name
    except KeyError:
        return str(os.getgid())


def _common(job: Job) -> list[str]:
    attrs = job.attrs
    fields = [f"user={job.owner}", f"group={_group()}"]
    if "Account_Name" in attrs:
        fields.append(f'account="{attrs["Account_Name"]}"')
    fields += [f"project={attrs['project']}", f"jobname={attrs['Job_Name']}",
               f"queue={attrs['queue']}", f"ctime={attrs['ctime']}", f"qtime={attrs['qtime']}",
               f"etime={attrs.get('etime', 0)}", f"start={attrs.get('stime', 0)}"]
    if "exec_host" in attrs:
        fields += [f"exec_host={attrs['exec_host']}", f"exec_vnode={attrs['exec_vnode']}"]
    fields += [f"Resource_List.{k}={v}" for k, v in attrs["Resource_List"].items()]
    return fields


def start_message(job: Job) -> str:
    """The S record: who, what, where, and the resources assigned."""
    assigned = job.attrs["Resource_List"].get("ncpus", "1")
    return " ".join([*_common(job), f"resource_assigned.ncpus={assigned}"])


def end_message(job: Job, end: int) -> str:
    """The E record, as in the NCAR sample: ends with Exit_status, resources_used.*, run_count."""
    attrs = job.attrs
    fields = [*_common(job), f"session={attrs.get('session_id', 0)}", f"end={end}",
              f"Exit_status={attrs.get('Exit_status', 0)}"]
    fields += [f"resources_used.{k}={v}" for k, v in (attrs.get("resources_used") or {}).items()]
    fields.append(f"run_count={attrs.get('run_count', 0)}")
    return " ".join(fields)
