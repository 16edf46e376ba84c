"""Which Globus parts the service gets: none before `watcher login`, the sources after it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.globus import _world
from tests.globus._world import Globus
from watcher import paths
from watcher.config import GlobusSettings
from watcher.rules.model import Rule
from watcher.service.globus_parts import NEVER, globus_parts, pinned_task_ids, watched_task_ids
from watcher.store.db import Store
from watcher.store.watch import watch

emu, globus = _world.emu, _world.globus  # the Globus world's fixtures


def now() -> datetime:
    return datetime.now(UTC)


def rule(name: str, task: str | list[str] | None, enabled: bool = True) -> Rule:
    return Rule.model_validate({"name": name, "enabled": enabled,
                                "when": {"globus_task": {"task": task, "status": "FAILED"}},
                                "do": [{"qdel": {"job": "1"}}]})


def test_no_token_file_or_disabled_means_no_globus(tmp_path: Path, store: Store) -> None:
    settings = GlobusSettings(token_db=tmp_path / "none.db")
    assert globus_parts(settings, store, list, now) is None
    assert not settings.token_db.exists()  # looking did not create it


def test_disabled_globus_is_off_even_when_logged_in(globus: Globus, store: Store) -> None:
    off = globus.settings.model_copy(update={"enabled": False})
    assert globus_parts(off, store, list, now) is None


def test_logged_in_globus_brings_two_sources_and_the_transfer_client(
        globus: Globus, store: Store) -> None:
    parts = globus_parts(globus.settings, store, list, now)
    assert parts is not None
    assert [s.name for s in parts.sources] == ["globus", "globus-endpoints"]
    assert {s.name: s.down_after for s in parts.sources} == {"globus": 2,
                                                             "globus-endpoints": NEVER}


def test_watched_ids_are_the_watch_list_and_ids_pinned_in_rules(store: Store) -> None:
    with store.session() as s:
        watch(s, "globus", "from-a-workflow", by="stage")
        watch(s, "pbs", "12.srv")
    rules = [rule("a", "pinned"), rule("c", "disabled", enabled=False), rule("d", None)]
    assert pinned_task_ids(rules) == {"pinned"}
    assert watched_task_ids(store, rules) == {"from-a-workflow", "pinned"}


def test_a_list_of_ids_pins_each_and_a_glob_pins_none() -> None:
    rules = [rule("a", ["one", "two"]), rule("b", "run-*"), rule("c", ["three", "x-*"])]
    assert pinned_task_ids(rules) == {"one", "two", "three"}


def test_own_tasks_are_on_by_default_and_can_be_switched_off(globus: Globus,
                                                               store: Store) -> None:
    parts = globus_parts(globus.settings, store, list, now)
    assert parts is not None and parts.tasks.own_tasks
    off = globus.settings.model_copy(update={"own_tasks": False})
    parts = globus_parts(off, store, list, now)
    assert parts is not None and not parts.tasks.own_tasks


def test_the_default_token_file_is_under_the_data_dir(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WATCHER_DATA_DIR", str(tmp_path))
    assert GlobusSettings().token_db == paths.data_dir() / "globus-tokens.db"
