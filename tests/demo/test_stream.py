"""The live stream: one line per event, in order of time, with the scenario's letter."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from watcher.demo.stream import Stream, StreamHandler, format_line, shorten_ids
from watcher.store.db import open_store
from watcher.store.models import Workflow, WorkflowLog

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TASK = "0c8f6b8e-4d9a-11ef-8a3b-0242ac120002"


def test_a_line_has_time_letter_workflow_and_text() -> None:
    assert format_line(12.34, "A", "wf-1a2b3c", "stage-in: started") == (
        "  12.3s  A  wf-1a2b3c  stage-in: started")
    assert format_line(0.0, "D", None, "⚡ wiped") == "   0.0s  D             ⚡ wiped"


def test_globus_task_ids_are_shortened_on_screen_only() -> None:
    assert shorten_ids(f"Globus task {TASK} done") == "Globus task 0c8f6b8e… done"
    assert shorten_ids("job 12.pbs-sim") == "job 12.pbs-sim"


def test_step_log_said_lines_and_mail_come_out_in_order_of_time(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    with store.session() as session:
        session.add(Workflow(id="wf-aaaaaa"))
        session.add(WorkflowLog(workflow_id="wf-aaaaaa", at=T0 + timedelta(seconds=1),
                                step="stage-in", text=f"stage-in started: Globus task {TASK}"))
    console = Console(record=True, width=200, file=io.StringIO())
    stream = Stream(console, T0 + timedelta(seconds=2))  # the log line: 1 s before the start
    stream.letters["wf-aaaaaa"] = "A"
    stream.say("A", "wf-aaaaaa", "⚡ the stage-in fails")
    mail = [("you@example.org", " [watcher] wf-aaaaaa (A): done")]
    stream.follow(store, mail)  # what just happened waits: a line committed late may precede
    assert [line[9:] for line in console.export_text(clear=False).splitlines()] == [
        "A  wf-aaaaaa  stage-in: stage-in started: Globus task 0c8f6b8e…"]
    stream.follow(store, mail, final=True)
    stream.follow(store, mail, final=True)  # nothing new
    store.close()
    lines = console.export_text().splitlines()
    assert [line[9:] for line in lines] == [
        "A  wf-aaaaaa  stage-in: stage-in started: Globus task 0c8f6b8e…",
        "A  wf-aaaaaa  ⚡ the stage-in fails",
        "A  wf-aaaaaa  ✉ to you@example.org: [watcher] wf-aaaaaa (A): done"]


def test_watcher_warnings_join_the_stream_under_their_workflow(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    console = Console(record=True, width=200, file=io.StringIO())
    stream = Stream(console, T0)
    stream.letters["wf-dddddd"] = "D"
    logger = logging.getLogger("watcher.demo.test")
    handler = StreamHandler(stream)
    logger.addHandler(handler)
    try:
        logger.warning("another recovery of %s is running", "wf-dddddd")
        logger.info("not worth a line")
        logger.warning("source pbs unavailable")
    finally:
        logger.removeHandler(handler)
    stream.follow(store, [], final=True)
    store.close()
    assert [line[9:] for line in console.export_text().splitlines()] == [
        "D  wf-dddddd  ⚠ another recovery of wf-dddddd is running",
        "·             ⚠ source pbs unavailable"]
