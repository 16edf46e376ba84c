"""`watcher stage logs WF`: a workflow's story in one place, step by step.

For each step, in the order the steps started, a header, then what happened to it in time
order: its lines of the step log, its transfers' events as the Globus source recorded them
(status changes with their counts), and each of its jobs' stdout and stderr files (`.o`/`.e`,
where PBS's `Output_Path`/`Error_Path` say, else `<name>.o<seq>` in the workflow's directory;
an array's subjobs' `<name>.o<seq>.<index>`), each file cut to its last `max_bytes`.
Reads only; the caller passes what qstat still says of the jobs (possibly nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from watcher.events import GLOBUS_TASK
from watcher.store.models import EventRecord, Workflow
from watcher.workflows import record
from watcher.workflows.graph_plan import CANCELLED
from watcher.workflows.show import when

MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class Entry:
    """One thing that happened to a step, or one output file."""

    at: datetime | None
    text: str


def output_files(job_id: str, raw: Mapping[str, Any] | None, workdir: str, job_name: str
                 ) -> list[tuple[str, Path]]:
    """(`stdout`/`stderr`, path) of a job's output files that exist (pure but for `exists`)."""
    seq = job_id.split(".", 1)[0].split("[", 1)[0]
    found: list[tuple[str, Path]] = []
    for kind, attr, letter in (("stdout", "Output_Path", "o"), ("stderr", "Error_Path", "e")):
        given = str((raw or {}).get(attr) or "")
        path = Path(given.split(":", 1)[1] if ":" in given else given) if given else None
        if path is None or "^array_index^" in str(path) or path.is_dir():
            base = path if path is not None and path.is_dir() else Path(workdir)
            path = base / f"{job_name}.{letter}{seq}"
        if path.is_file():
            found.append((kind, path))
        elif "[" in job_id:  # an array: one file per subjob
            found += [(f"{kind} of subjob {p.suffix.lstrip('.')}", p) for p in
                      sorted(path.parent.glob(f"{path.name}.*"),
                             key=lambda p: int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0)]
    return found


def tail(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """The file's last `max_bytes`, marked when cut; `(cannot read: …)` instead of raising."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            if size > max_bytes:
                handle.seek(size - max_bytes)
            data = handle.read()
    except OSError as exc:
        return f"(cannot read: {exc.strerror})\n"
    text = data.decode(errors="replace")
    return (f"(last {max_bytes} of {size} bytes)\n" if size > max_bytes else "") + text


def story(session: Session, wf: Workflow, jobs_raw: Mapping[str, Mapping[str, Any]],
          max_bytes: int = MAX_BYTES) -> list[str]:
    """The text `watcher stage logs` prints."""
    lines = record.lines(session, wf.id)
    per_step: dict[str, list[Entry]] = {}
    for line in lines:
        per_step.setdefault(line.step, []).append(Entry(line.at, line.text))
    out: list[str] = []
    sections = [(name, "steps") for name in wf.spec.get("steps") or {}]
    sections += [(name, "on_failure") for name in wf.spec.get("on_failure") or {}]

    def first(name: str) -> datetime:
        found = [entry.at for entry in per_step.get(name, []) if entry.at is not None]
        return min(found) if found else datetime.max.replace(tzinfo=wf.created_at.tzinfo)

    for name, section in sorted(sections, key=lambda item: first(item[0])):
        step = wf.spec[section][name]
        entry = (wf.progress.get(section) or {}).get(name) or {}
        kind = "array job" if step.get("array") else step["kind"]
        out.append(f"=== {name} ({kind}{', on_failure' if section == 'on_failure' else ''}): "
                   f"{entry.get('status', 'pending')} ===")
        items = list(per_step.get(name, []))
        for task in entry.get("tasks") or []:
            items += _task_events(session, task)
        items.sort(key=lambda item: item.at or wf.created_at)
        out += [f"{when(item.at)} UTC  {item.text}" if item.at else item.text for item in items]
        name_of = _job_name(step, wf.name, name)
        for job in entry.get("jobs") or []:
            for what, path in output_files(job, jobs_raw.get(job), wf.workdir, name_of):
                out.append(f"--- job {job} {what}: {path} ---")
                out.append(tail(path, max_bytes).rstrip("\n"))
        out.append("")
    # lines about the whole workflow; `cancelled` heads those an earlier watcher wrote
    whole = sorted(per_step.get(record.WHOLE, []) + per_step.get(CANCELLED, []),
                   key=lambda item: item.at or wf.created_at)
    if whole:
        out.append("=== workflow ===")
        out += [f"{when(item.at)} UTC  {item.text}" for item in whole if item.at]
    return out


def _task_events(session: Session, task: str) -> list[Entry]:
    rows = session.exec(select(EventRecord).where(
        col(EventRecord.kind) == GLOBUS_TASK, col(EventRecord.subject) == task)
        .order_by(col(EventRecord.at), col(EventRecord.id))).all()
    out = []
    for row in rows:
        now = row.current or {}
        counts = ", ".join(f"{key} {now[key]}" for key in (
            "files_transferred", "bytes_transferred") if now.get(key) is not None)
        out.append(Entry(row.at, f"Globus task {task}: {row.change} "
                                 f"{now.get('status') or ''}"
                                 f"{' (' + counts + ')' if counts else ''}".rstrip()))
    return out


def _job_name(step: Mapping[str, Any], wf_name: str, name: str) -> str:
    qsub = list(step.get("qsub") or [])
    for index, arg in enumerate(qsub):
        if arg == "-N" and index + 1 < len(qsub):
            return qsub[index + 1]
        if arg.startswith("-N") and len(arg) > 2:
            return arg[2:]
    return f"{wf_name}-{name}"[:230]
