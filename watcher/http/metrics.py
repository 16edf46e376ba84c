"""`/metrics`: this process's counters (`watcher.metrics`) and gauges read from the store at
each scrape: sources up, intents by status, workflows by step, when the stored Globus
refresh token is expected to lapse if unused, and when the login stops counting for each
high-assurance collection the watcher probes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import Session, col, select

from watcher.config import Settings
from watcher.globus.consents import ENDPOINT_SOURCE
from watcher.globus.report import credential_row
from watcher.store.db import Store
from watcher.store.models import STATUSES, Intent, Snapshot, SourceHealth, Workflow


class StoreCollector(Collector):
    """Gauges of what the store says now (shared by every instance on it)."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings

    def describe(self) -> list[Metric]:
        """Nothing: describing at registration would read the store; the scrape does."""
        return []  # registering must not read the store: the scrape does

    def collect(self) -> Iterator[Metric]:
        """The gauges from one read-only session, each scrape."""
        with self.store.session(write=False) as session:
            yield from _gauges(session, self.settings)


def _gauges(session: Session, settings: Settings) -> Iterator[Metric]:
    up = GaugeMetricFamily("watcher_source_up", "1 while the source answers its polls.",
                           labels=["source"])
    for health in session.exec(select(SourceHealth)):
        up.add_metric([health.source], 1.0 if health.healthy else 0.0)
    yield up
    intents = GaugeMetricFamily("watcher_intents", "Actions in the outbox, by status "
                                "(pending, running, done, dead, ...).", labels=["status"])
    counts = dict(session.exec(select(Intent.status, func.count())
                               .group_by(col(Intent.status))).all())
    for status in STATUSES:
        intents.add_metric([status], float(counts.get(status, 0)))
    yield intents
    workflows = GaugeMetricFamily("watcher_workflows", "Staged workflows, by current step.",
                                  labels=["step"])
    steps = session.exec(select(Workflow.step, func.count()).group_by(col(Workflow.step)))
    for step, count in steps.all():
        workflows.add_metric([step], float(count))
    yield workflows
    now = datetime.now(UTC)
    row = credential_row(settings.globus, session, now)
    lapse = GaugeMetricFamily("watcher_globus_refresh_token_lapse_seconds",
                              "Seconds until the stored Globus refresh token lapses if unused "
                              "(estimated: about 180 days from its last use).")
    if row["refresh_token_lapses_at"] is not None:
        lapse.add_metric([], (row["refresh_token_lapses_at"] - now).total_seconds())
    yield lapse
    yield _consent_lapses(session, row["logged_in_at"], now)
    missing = GaugeMetricFamily("watcher_globus_missing_consents",
                                "Collections that refuse the login until you consent.")
    missing.add_metric([], float(len(row["missing_consents"])))
    yield missing


def _consent_lapses(session: Session, logged_in_at: datetime | None, now: datetime) -> Metric:
    """Per high-assurance collection the watcher probes: seconds until the login stops counting
    for it (`authentication_timeout_mins` after the login, from the last probe's document)."""
    lapse = GaugeMetricFamily("watcher_globus_consent_lapse_seconds",
                              "Seconds until the login stops counting for a high-assurance "
                              "collection (its authentication_timeout_mins after the login); "
                              "negative once lapsed.", labels=["collection"])
    if logged_in_at is None:
        return lapse
    for snapshot in session.exec(select(Snapshot).where(Snapshot.source == ENDPOINT_SOURCE)):
        minutes = snapshot.attrs.get("authentication_timeout_mins")
        if snapshot.attrs.get("high_assurance") and isinstance(minutes, int):
            at = logged_in_at + timedelta(minutes=minutes)
            lapse.add_metric([snapshot.subject], (at - now).total_seconds())
    return lapse


def exposition(store: Store, settings: Settings) -> bytes:
    """The text format: the process's registry, then the store's gauges."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(store, settings))
    return generate_latest(REGISTRY) + generate_latest(registry)
