"""The live part of the demo's output: each new step-log line, email, injected fault and
watcher warning as it happens, one line each, `  12.3s  A  wf-1a2b3c  stage-in: …`.

The step log is read from the store the way `watcher history WF` reads it, so what scrolls by
is what a user would see there. Lines are printed by one task, a batch at a time in order of
time. Globus task ids are shortened to 8 characters on screen only.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console
from rich.markup import escape
from sqlmodel import col, select

from watcher.store.db import Store
from watcher.store.models import WorkflowLog

COLOURS = {"A": "cyan", "B": "magenta", "C": "yellow", "D": "blue", "E": "green",
           "F": "bright_cyan", "G": "bright_magenta", "H": "bright_yellow"}
_UUID = re.compile(r"\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_WORKFLOW = re.compile(r"\bwf-[0-9a-f]{6}\b")
_NO_WORKFLOW = " " * 9
_SETTLE = 0.3  # seconds a line waits, so one committed a moment late still comes in order


def shorten_ids(text: str) -> str:
    """`Globus task 0c8f6b8e-4d9a-…-0242ac120002` -> `Globus task 0c8f6b8e…`."""
    return _UUID.sub(r"\1…", text)


def format_line(seconds: float, letter: str, workflow: str | None, text: str) -> str:
    """One line of the stream, as plain text."""
    return f"{seconds:6.1f}s  {letter}  {workflow or _NO_WORKFLOW}  {shorten_ids(text)}"


@dataclass(frozen=True)
class _Line:
    seconds: float
    letter: str
    workflow: str | None
    text: str
    style: str = ""


class Stream:
    """Collects what happens and prints it; knows which workflow is which scenario's."""

    def __init__(self, console: Console, started_at: datetime) -> None:
        self.console = console
        self.started_at = started_at
        self._t0 = time.monotonic()
        self.letters: dict[str, str] = {}
        self._pending: list[_Line] = []
        self._lock = threading.Lock()
        self._last_log = 0
        self._mails = 0

    def seconds(self) -> float:
        """Seconds since the stream began (monotonic clock), the time each line shows."""
        return time.monotonic() - self._t0

    def say(self, letter: str, workflow: str | None, text: str, style: str = "") -> None:
        """A line about now (a submission, a fault, something the user does). Thread-safe."""
        with self._lock:
            self._pending.append(_Line(self.seconds(), letter, workflow, text, style))

    def note(self, text: str, style: str = "dim") -> None:
        """A line naming a workflow somewhere in `text` (a watcher warning). Thread-safe."""
        found = _WORKFLOW.search(text)
        workflow = found.group(0) if found else None
        self.say(self.letters.get(workflow or "", "·"), workflow, text, style)

    def follow(self, store: Store, mails: list[tuple[str, str]], *, final: bool = False
               ) -> None:
        """Print, in order of time, what was said, the step-log lines written and the emails
        received (`mails`: all so far, as (to, subject)) since the last call. Lines younger
        than `_SETTLE` seconds wait for the next call (unless `final`): a step-log line is
        committed a moment after its time, and should still come out in its place. Blocking."""
        with store.session(write=False) as session:
            rows = session.exec(select(WorkflowLog).where(col(WorkflowLog.id) > self._last_log)
                                .order_by(col(WorkflowLog.id))).all()
        with self._lock:
            batch, self._pending = self._pending, []
        for row in rows:
            self._last_log = max(self._last_log, row.id or 0)
            batch.append(_Line((row.at - self.started_at).total_seconds(),
                               self.letters.get(row.workflow_id, "?"), row.workflow_id,
                               f"{row.step}: {row.text}"))
        for to, subject in mails[self._mails:]:
            found = _WORKFLOW.search(subject)
            workflow = found.group(0) if found else None
            batch.append(_Line(self.seconds(), self.letters.get(workflow or "", "?"), workflow,
                               f"✉ to {to}: {subject.strip()}", "bold"))
        self._mails = max(self._mails, len(mails))
        cutoff = float("inf") if final else self.seconds() - _SETTLE
        ready = sorted((line for line in batch if line.seconds <= cutoff),
                       key=lambda line: line.seconds)
        with self._lock:
            self._pending = [line for line in batch if line.seconds > cutoff] + self._pending
        for line in ready:
            self._print(line)

    def _print(self, line: _Line) -> None:
        plain = format_line(line.seconds, line.letter, line.workflow, line.text)
        head, letter, tail = plain[:9], plain[9:10], plain[10:]
        colour = COLOURS.get(line.letter, "white")
        styled = f"[dim]{head}[/][bold {colour}]{escape(letter)}[/]{escape(tail)}"
        self.console.print(f"[{line.style}]{styled}[/]" if line.style else styled,
                           soft_wrap=True, highlight=False)


class StreamHandler(logging.Handler):
    """Puts the watcher's warnings (a retried action, a source down) in the stream, where
    they happened, instead of on stderr after everything."""

    def __init__(self, stream: Stream) -> None:
        super().__init__(logging.WARNING)
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the warning as a stream line; a failure goes to `handleError`, never raises."""
        try:
            self._stream.note(f"⚠ {record.getMessage()}")
        except Exception:  # a logging handler must never raise
            self.handleError(record)
