"""`watcher_globus_consent_lapse_seconds`: per high-assurance collection the watcher probes,
how long the login still counts for it, read from the last probe's document in the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from tests.workflows._staging import Staging
from watcher.globus.consents import ENDPOINT_SOURCE
from watcher.globus.endpoints import endpoint_attributes
from watcher.globus.login_info import LoginInfo, record_login
from watcher.http.metrics import exposition
from watcher.store.db import open_store
from watcher.store.models import Snapshot


def lapses(world: Staging) -> dict[str, float]:
    store = open_store(world.settings.store.url)
    try:
        text = exposition(store, world.settings).decode()
    finally:
        store.close()
    return {sample.labels["collection"]: sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == "watcher_globus_consent_lapse_seconds"}


def test_each_high_assurance_collection_probed_has_its_lapse(world: Staging) -> None:
    vault = world.globus.emu.add_endpoint(world.run_dir.parent / "vault", display_name="vault",
                                          high_assurance=True, authentication_timeout_mins=600)
    docs = {ep: world.globus.submitter.get_endpoint(ep).data for ep in (vault, world.src)}
    assert lapses(world) == {}  # no login recorded: nothing to count from
    record_login(world.globus.settings.token_db, LoginInfo(
        client_id=world.globus.settings.client_id,
        logged_in_at=datetime.now(UTC) - timedelta(hours=2)))
    store = open_store(world.settings.store.url)
    try:
        with store.session() as session:
            for ep, doc in docs.items():  # what the endpoint source records after a probe
                session.add(Snapshot(source=ENDPOINT_SOURCE, subject=ep,
                                     attrs=endpoint_attributes(doc)))
    finally:
        store.close()
    [(collection, seconds)] = lapses(world).items()  # the plain collection has none
    assert collection == vault
    assert 8 * 3600 - 60 < seconds <= 8 * 3600  # 600 minutes after a login 2 hours ago
