from watcher.store.db import open_store
from watcher.store.watch import is_watched, unwatch, watch, watched


def test_watch_list_round_trip(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    with store.session() as s:
        watch(s, "globus", "task-1", by="stage_out", rule="r")
        watch(s, "globus", "task-2")
        watch(s, "other", "task-3")
    with store.session() as s:
        assert watched(s, "globus") == {
            "task-1": {"source": "globus", "subject": "task-1", "by": "stage_out", "rule": "r"},
            "task-2": {"source": "globus", "subject": "task-2"},
        }
        unwatch(s, "globus", "task-1")
    with store.session() as s:
        assert not is_watched(s, "globus", "task-1") and is_watched(s, "globus", "task-2")
    store.close()


def test_watched_ids_reads_the_keys(tmp_path):
    from watcher.store.watch import watched_ids

    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    with store.session() as s:
        watch(s, "globus", "task-1", by="x")
        watch(s, "globus", "task-2")
        watch(s, "other", "task-3")
    with store.session() as s:
        assert watched_ids(s, "globus") == {"task-1", "task-2"}
    store.close()
