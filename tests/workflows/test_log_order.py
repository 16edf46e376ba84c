"""The step log reads in the order things happened, though PBS and Globus stamp their news to
the second and the watcher stamps its own lines to the microsecond."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from watcher.store.db import open_store
from watcher.workflows import record
from watcher.workflows.graph import GraphSpec, Step

T = datetime(2026, 5, 1, 12, 0, 17, tzinfo=UTC)


def test_lines_of_one_second_keep_the_order_they_were_written_in(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with store.session() as session:
            wf = record.create(session, GraphSpec(name="x", steps={"sim": Step(job="a.sh")}),
                               str(tmp_path), T.replace(second=16, microsecond=900_000))
            written = [  # as the engine writes them: its clock, or the source's second
                (T.replace(microsecond=595_310), "sim", "submitted as 0.srv (held)"),
                (T.replace(microsecond=847_586), "sim", "job 0.srv released"),
                (T, "sim", "job 0.srv running"),  # PBS's stime: 12:00:17.9, to the second
                (T, "sim", "job 0.srv finished (exit 0)"),
                (T.replace(second=18, microsecond=1), "workflow", "done: every step succeeded"),
            ]
            for at, header, text in written:
                record.log(session, wf, at, header, text)
        with store.session(write=False) as session:
            read = [(line.step, line.text) for line in record.lines(session, wf.id)]
    finally:
        store.close()
    assert read == [
        ("workflow", "workflow " + wf.id + " recorded (x): steps sim"),
        *((header, text) for _at, header, text in written)]
