"""What qstat shows for a job: the attribute tree (JSON and `-f` text) and the table row."""

from __future__ import annotations

from typing import Any

from watcher.sim.pbs import depend
from watcher.sim.pbs.model import ATTR_ORDER, RUNNING, SCHSUSP, SUSPEND, TIME_ATTRS, Job
from watcher.sim.pbs.pbsjson import Tree
from watcher.sim.pbs.timefmt import ctime, hms

_LINE_LIMIT = 78
TABLE_HEADER = ("Job id            Name             User              Time Use S Queue\n"
                "----------------  ---------------- ----------------  -------- - -----\n")


_SPECIAL = frozenset({"job_state", "substate", "resources_used", "depend", "history_timestamp",
                      *TIME_ATTRS})


def attributes(job: Job, now: float) -> list[tuple[str, Any]]:
    """(name, value) in qstat order; values are strings, dicts (resources) or pair lists."""
    attrs = job.attrs
    out: list[tuple[str, Any]] = []
    append = out.append
    for name in ATTR_ORDER:
        if name not in _SPECIAL:
            value = attrs.get(name)
            if value is not None:
                append((name, value))
        elif name == "job_state":
            append((name, job.shown_state))
        elif name == "substate":
            append((name, str(job.substate)))
        elif name == "resources_used" and job.state == "R" and job.substate in (
                RUNNING, SUSPEND, SCHSUSP):
            append((name, live_usage(job, now)))
        elif name not in attrs:
            continue
        elif name == "depend":
            append((name, depend.encode(attrs[name], attrs["server"])))
        elif name == "history_timestamp":
            append((name, str(attrs[name])))
        elif name == "resources_used":
            append((name, attrs[name]))
        else:
            append((name, ctime(attrs[name])))
    return out


def live_usage(job: Job, now: float) -> dict[str, str]:
    """What a MoM would have reported so far: elapsed walltime (time suspended does not
    count), the job's cpus."""
    used = dict(job.attrs.get("resources_used") or {
        "cpupercent": "0", "cput": "00:00:00", "mem": "0kb",
        "ncpus": job.attrs["Resource_List"].get("ncpus", "1"), "vmem": "0kb"})
    paused = float(job.attrs.get("_suspended_for", 0.0))
    if "_suspended_since" in job.attrs:
        paused += now - float(job.attrs["_suspended_since"])
    used["walltime"] = hms(max(0.0, now - job.attrs.get("stime", now) - paused))
    return dict(sorted(used.items()))


def json_tree(job: Job, now: float) -> Tree:
    """The job's members for the JSON writer (nested values stay dicts and pair lists)."""
    return attributes(job, now)


def full_text(job: Job, now: float) -> str:
    """`qstat -f` in the default format: `Job Id:` then `    name = value` lines, wrapped."""
    lines = [f"Job Id: {job.jobid}"]
    for name, value in attributes(job, now):
        if isinstance(value, dict):
            lines.extend(_prt_attr(f"{name}.{res}", v) for res, v in value.items())
        elif name == "Variable_List":
            encoded = ",".join(f"{k}={v.replace(',', chr(92) + ',')}" for k, v in value)
            lines.append(_prt_attr(name, encoded))
        else:
            lines.append(_prt_attr(name, value))
    return "\n".join(lines) + "\n\n"


def _prt_attr(name: str, value: str) -> str:
    """qstat.c prt_attr(): break long values at commas, then every 78 columns."""
    out = [f"    {name} = "]
    start = len(name) + 7
    for i, token in enumerate(t for t in value.split(",") if t):
        if i:
            out.append(",")
        if len(token) + start < _LINE_LIMIT:
            out.append(token)
            start += len(token)
            continue
        if i:
            out.append("\n\t")
            start = 9
        for char in token:
            out.append(char)
            start += 1
            if start > _LINE_LIMIT:
                start = 8
                out.append("\n\t")
    return "".join(out)


def table_row(job: Job) -> str:
    """One line of plain `qstat`: id cut after the first server label, long names end in `*`."""
    head, _, rest = job.jobid.partition(".")
    short_id = head + ("." + rest.split(".")[0] if rest else "")
    name = job.attrs["Job_Name"]
    used = (job.attrs.get("resources_used") or {}).get("cput", "0")
    return (f"{_trunc(short_id, 17, True):<17} {_trunc(name, 16, False):<16} "
            f"{_trunc(job.owner, 16, True):<16}  {_trunc(used, 8, True):>8} {job.shown_state} "
            f"{_trunc(job.attrs['queue'], 16, True):<16}\n")


def _trunc(value: str, width: int, strict: bool) -> str:
    """Cut to `width` with a trailing `*`; names are cut already at `width` (>=), others above."""
    if len(value) > width or (not strict and len(value) >= width):
        return value[: width - 1] + "*"
    return value
