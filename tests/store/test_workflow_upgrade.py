"""A store of the watcher before the one engine: migration 2 drops the workflow id columns
(on SQLite and PostgreSQL), and a workflow in flight is read as its graph and goes on."""

from __future__ import annotations

import sqlalchemy as sa

from tests.workflows.test_upgrade import AT, IN_FLIGHT, OLD_SPEC
from watcher.store.db import Store, open_store
from watcher.store.facts import get_fact
from watcher.store.models import Workflow
from watcher.workflows import record
from watcher.workflows.graph_plan import Release, advance

GRAFT = "5b0e2d1c-6d04-11e5-ba46-22000b92c6ec"
_OLD_COLUMNS = ("compute_job", "cleanup_job", "stage_in_task", "stage_out_task")


def _old_store(url: str, spec: dict, progress: dict, step: str) -> None:
    """The store as the earlier watcher left it: version 1, the id columns, one workflow."""
    open_store(url).close()  # today's tables, made into yesterday's
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE schema_version SET version = 1"))
        for name in _OLD_COLUMNS:
            conn.execute(sa.text(f"ALTER TABLE workflow ADD COLUMN {name} VARCHAR"))
            conn.execute(sa.text(f"CREATE INDEX ix_workflow_{name} ON workflow ({name})"))
        conn.execute(sa.insert(Workflow.__table__).values(  # type: ignore[arg-type]
            id="wf-abc123", name="run42", created_at=AT, updated_at=AT, workdir="/w",
            spec=spec, step=step, progress=progress))
        conn.execute(sa.text("UPDATE workflow SET compute_job = '3.s', stage_in_task = 'T-in'"))
    engine.dispose()


def _spec_text(store: Store) -> str:
    with store.engine.connect() as conn:
        return str(conn.execute(sa.text("SELECT CAST(spec AS TEXT) FROM workflow")).scalar_one())


def test_migration_drops_the_columns_and_the_workflow_goes_on(store_url: str) -> None:
    _old_store(store_url, OLD_SPEC,
               {**IN_FLIGHT, "stage_in": {"status": "succeeded", "task": "T-in"}}, "running")
    store = open_store(store_url)
    try:
        columns = {c["name"] for c in sa.inspect(store.engine).get_columns("workflow")}
        assert not columns & set(_OLD_COLUMNS)
        with store.session(write=False) as session:
            seen = record.get(session, "wf-abc123")
            assert seen is not None and seen.spec["graph"]
        assert '"graph"' not in _spec_text(store)  # a read does not write the upgrade
        with store.session() as session:
            wf = record.get(session, "wf-abc123")
            assert wf is not None
            moves = advance(wf.id, wf.step, wf.spec, wf.progress).moves
        assert moves == [Release("steps", "compute", "3.s")]
        assert '"graph"' in _spec_text(store)  # the write session kept it
        with store.session(write=False) as session:
            assert record.lines(session, "wf-abc123")[-1].text.startswith(
                "recorded by an earlier watcher")
    finally:
        store.close()


def test_a_grafted_old_stage_in_is_found_by_its_task(store_url: str) -> None:
    spec = {**OLD_SPEC, "stage_in": [], "stage_in_task": GRAFT, "stage_in_transfer": None}
    _old_store(store_url, spec, {**IN_FLIGHT, "stage_in": {"status": "active", "task": GRAFT}},
               "stage-in")
    store = open_store(store_url)
    try:
        with store.session() as session:
            wf = record.get(session, "wf-abc123")
            assert wf is not None
            assert wf.spec["steps"]["stage-in"]["transfer"] == {"task": GRAFT}
        with store.session(write=False) as session:
            assert get_fact(session, record.grafted_key(GRAFT)) == {
                "workflow": "wf-abc123", "step": "stage-in"}
    finally:
        store.close()
