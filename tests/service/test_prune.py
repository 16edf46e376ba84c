"""`Service.prune`, as `watcher run` schedules it: the retention comes from config.yaml."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from watcher.config import Settings
from watcher.service.service import utc_now
from watcher.store.models import EventRecord

RULES = "rules: []\n"


def old_event(service) -> None:  # type: ignore[no-untyped-def]
    with service.store.session() as s:
        for days in (40, 39):
            s.add(EventRecord(kind="pbs_job", subject="1.pbs", change="changed",
                              at=utc_now() - timedelta(days=days)))


def events(service) -> int:  # type: ignore[no-untyped-def]
    with service.store.session(write=False) as s:
        return len(s.exec(select(EventRecord)).all())


def test_history_older_than_the_retention_is_forgotten(make_service) -> None:
    service = make_service(RULES)
    old_event(service)
    pruned = asyncio.run(service.prune())
    assert pruned.events == 1 and events(service) == 1  # the newest one always stays


def test_no_retention_keeps_everything(make_service, settings: Settings) -> None:
    settings.store.retention = None
    service = make_service(RULES)
    old_event(service)
    assert not asyncio.run(service.prune())
    assert events(service) == 2


def test_a_shorter_retention_from_config(make_service, settings: Settings) -> None:
    settings.store.retention = timedelta(days=90)
    service = make_service(RULES)
    old_event(service)
    assert not asyncio.run(service.prune()) and events(service) == 2
