"""One watcher instance: poll -> observe -> events -> rules -> actions -> record.

Every step that touches the store runs in a worker thread, so a slow disk never stalls the
event loop that polls. The same object serves `watcher run` (scheduled by APScheduler) and
`watcher run --once` / tests (`cycle()`), so both exercise one code path.

Instances: `start()` registers this one in the store and takes over the claims of instances that
are gone (`watcher.service.instance`); `heartbeat()` keeps its claims; `stop()` hands back what
it holds. On PostgreSQL several instances share the store: each source is polled by one of them
at a time (`watcher.service.leases`), and all of them claim and run the due actions. Steps that
every instance runs on shared state (elapsed `for:` windows, telling about dead actions,
pruning) take turns under a PostgreSQL advisory lock.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from watcher import metrics
from watcher.actions.base import Services
from watcher.config import Settings
from watcher.engine.engine import Engine, FiringReport
from watcher.events import PBS_JOB
from watcher.lang.durations import format_duration
from watcher.ledger.failures import any_untold, tell
from watcher.ledger.report import RunReport
from watcher.ledger.runner import ActionRunner, default_owner
from watcher.memory import release_free_memory
from watcher.pbs.commands import PbsCommands
from watcher.rules.model import Rule
from watcher.service.commit import ObservationCommit
from watcher.service.globus_parts import globus_parts
from watcher.service.instance import Presence
from watcher.service.leases import SourceLeases
from watcher.service.rulebook import RULEBOOK_FACT, Loaded, RuleBook, rules_invalid_events
from watcher.service.staging_rules import with_staging
from watcher.sources.base import Source
from watcher.sources.pbs import PbsSource
from watcher.sources.pbs_select import SelectPbsSource
from watcher.store.db import Store, take_turns
from watcher.store.facts import get_fact, put_fact
from watcher.store.models import DONE
from watcher.store.retention import Pruned, prune
from watcher.workflows.context import workflow_context

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """Now, aware in UTC (the service's default clock)."""
    return datetime.now(UTC)


def pbs_source(settings: Settings, commands: PbsCommands, user: str,
               now: Callable[[], datetime],
               extra_ids: Callable[[], Iterable[str]] | None = None) -> Source:
    """The PBS source `pbs.discovery` names: qselect-driven (default) or the full listing.
    `extra_ids`: jobs watched by id whoever owns them (named in a rule's `id:`)."""
    pbs = settings.pbs
    source: Source
    if pbs.discovery == "listing":
        source = PbsSource(commands, watch=pbs.watch, user=user, now=now, extra_ids=extra_ids)
    else:
        source = SelectPbsSource(commands, watch=pbs.watch, user=user, now=now,
                                 extra_ids=extra_ids, margin=pbs.clock_skew_margin,
                                 batch=pbs.qstat_batch, full_every=pbs.full_every)
    source.down_after = pbs.down_after
    return source


def rule_job_ids(rules: Iterable[Rule]) -> list[str]:
    """The job ids enabled rules name in a `pbs_job` trigger's `id:` (another user's job
    is then watched too: the user's own are listed anyway)."""
    return sorted({str(trigger.config.id) for rule in rules if rule.enabled
                   for trigger in rule.when
                   if trigger.type == PBS_JOB and getattr(trigger.config, "id", None)})


class Service:
    """One watcher instance: its sources, rules, engine and action runner over one store.

    `exclusive` says this process holds the SQLite store's file lock (`watcher run`): every
    other instance that left claims behind is then known to be gone.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        rule_paths: Sequence[Path],
        *,
        sources: Sequence[Source] | None = None,
        now: Callable[[], datetime] = utc_now,
        owner: str | None = None,
        exclusive: bool = False,
    ) -> None:
        self.settings, self.store, self.now = settings, store, now
        self.user = {"name": getpass.getuser(), "email": settings.user_email}
        pbs = settings.pbs.commands_runner()
        self.sources: list[Source] = list(sources) if sources is not None else [
            pbs_source(settings, pbs, self.user["name"], now,
                       lambda: rule_job_ids(self.rulebook.rules))]
        if sources is None and settings.quota.paths:  # paths listed under `quota:` in settings
            self.sources.append(settings.quota.source())
        # Globus joins when the user logged in (`watcher login`); see watcher.service.globus_parts.
        self.globus = None if sources is not None else globus_parts(
            settings.globus, store, lambda: self.rulebook.rules, now)
        if self.globus is not None:
            self.sources += self.globus.sources
        services = Services(store=store, smtp=settings.smtp,
                            transfer=self.globus.clients.transfer if self.globus else None)
        owner = owner or default_owner()
        self.runner = ActionRunner(store, pbs, owner, now, services=services,
                                   lease=settings.store.lease)
        self.presence = Presence(store, owner, settings.store.lease, now, exclusive=exclusive)
        # Set by start() on PostgreSQL, where other instances may poll the same sources.
        self.leases: SourceLeases | None = None
        self._free_at: dict[str, datetime] = {}
        self.rulebook = RuleBook(rule_paths)
        self.rulebook.reload()
        self.engine = self._new_engine()
        self.path = ObservationCommit()  # state, track, engine, record (watcher.service.commit)
        self.db_lock = asyncio.Lock()  # one writer at a time from this process

    @property
    def owner(self) -> str:
        """The name the runner claims intents with, unique to this process (host, pid, random)."""
        return self.runner.owner

    async def start(self, poll_interval: float) -> None:
        """Join the store: register, take over the claims of instances that are gone, and on
        PostgreSQL poll only the sources this instance holds a lease on."""
        if self.store.dialect == "postgresql":
            self.leases = SourceLeases(self.store, self.owner,
                                       timedelta(seconds=1.5 * poll_interval), self.now)
        names = [] if self.leases is not None else [source.name for source in self.sources]
        await self._write(self.presence.start, names)

    async def heartbeat(self) -> None:
        """Say this instance lives, renew the claims of running actions, free the claims of
        instances that are gone (and run them at once)."""
        freed = await self._write(self.presence.beat, bool(self.runner.holding))
        if freed and not self.runner.stopping:
            await self.act()

    async def stop(self) -> int:
        """After the last job finished: hand back claims and sources; returns claims handed."""
        self.runner.stopping = True
        if self.leases is not None:
            await self._write(self.leases.release_all)
        return await self._write(self.presence.stop)

    def free_at(self, source: Source) -> datetime | None:
        """When another instance's lease on `source` runs out (None: this one polls it)."""
        return self._free_at.get(source.name)

    def reload_rules(self) -> bool:
        """Pick up edited rule files; the rules in force change only if something changed.
        (For `cycle()` and tests, where nothing else writes meanwhile; the running service
        uses `reload_rules_async`.)"""
        loaded = self.rulebook.load_changed()
        if loaded is None:
            return False
        self._adopt(loaded)
        self.record_rulebook()
        return True

    async def reload_rules_async(self) -> bool:
        """`reload_rules` with the loading in a worker thread and the swap on the loop, so a
        commit in another thread never sees the rules change halfway."""
        loaded = await asyncio.to_thread(self.rulebook.load_changed)
        if loaded is None:
            return False
        self._adopt(loaded)
        await self.commit_rulebook()
        return True

    def _adopt(self, loaded: Loaded) -> None:
        self.rulebook.adopt(loaded)
        self.engine = self._new_engine()
        log.info("rules reloaded: %d in force", len(self.rulebook.rules))

    async def commit_rulebook(self) -> list[FiringReport]:
        """`record_rulebook` under `db_lock`, so its rules run alone."""
        reports: list[FiringReport] = await self._write(self.record_rulebook)
        if any(report.actions for report in reports):
            await self.act()
        return reports

    def record_rulebook(self) -> list[FiringReport]:
        """Write which version of each rule file is in force (and why a file is not) to the
        store, so `watcher status` and `rules list` tell what this service really runs; in the
        same transaction, a file broken since the last record is a `rules_invalid` event
        (`watcher.service.rulebook.rules_invalid_events`) through the rules in force."""
        try:
            with self.store.session() as session:
                report = self.rulebook.report()
                now = self.now()
                events = rules_invalid_events(get_fact(session, RULEBOOK_FACT), report, now)
                put_fact(session, RULEBOOK_FACT, report)
                return self.engine.process(session, events, now) if events else []
        except Exception:  # the rules are in force either way; status then says less
            log.warning("could not record the rule files in the store", exc_info=True)
            return []

    async def poll(self, source: Source) -> list[FiringReport]:
        """Poll one source and commit what it shows; run new actions at once. A source with
        its own pace (Globus: interval, backoff, paused on dead credentials) may say not yet."""
        if self.leases is not None and not await self._hold(source):
            return []
        if self.leases is None:
            return await self._poll(source)
        async with self.leases.kept(source.name):  # a slow qstat or the actions: still ours
            return await self._poll(source)

    async def _poll(self, source: Source) -> list[FiringReport]:
        if not source.due():
            return []
        started = time.monotonic()
        obs = await source.poll()
        metrics.count_poll(source.name, obs.ok, time.monotonic() - started)
        if not obs.ok:
            log.warning("source %s unavailable: %s", source.name, obs.error)
        else:
            log.debug("polled %s: %d subjects", source.name, len(obs.subjects))
        reports = await self._write(self.commit_observation, source, obs)
        # The answer's text and decoded tree are freed by now: give their pages back.
        await asyncio.to_thread(release_free_memory)
        if any(report.actions for report in reports):
            await self.act()
        return reports

    async def act(self) -> list[RunReport]:
        """Run the due intents; a dead one becomes an `action_failed` event."""
        if self.presence.waiting:  # a gone instance's child was still running: look again
            await self._write(self.presence.take_over)
        reports = await self.runner.run_due()
        for report in reports:
            metrics.ACTIONS.labels(report.action_type, "done" if report.status == DONE else
                                   "dead" if report.dead else "retry").inc()
        if await asyncio.to_thread(self._any_untold):  # the usual case: none to tell
            await self._write(self._commit_failures)
        return reports

    async def tick(self) -> list[FiringReport]:
        """Fire the `for:` windows that have elapsed."""
        reports = await self._write(self._commit_tick)
        if any(report.actions for report in reports):
            await self.act()
        return reports

    async def prune(self) -> Pruned:
        """Forget finished history older than `store.retention` (see `watcher.store.retention`)."""
        retention = self.settings.store.retention
        if retention is None:
            return Pruned()
        pruned = await self._write(self._commit_prune, self.now() - retention)
        if pruned:
            log.info("forgot history older than %s: %d events, %d firings, %d intents",
                     format_duration(retention), pruned.events, pruned.firings, pruned.intents)
        return pruned

    async def cycle(self) -> list[FiringReport]:
        """Everything once: every source, elapsed windows, due actions (for `--once`, tests)."""
        self.reload_rules()
        reports: list[FiringReport] = []
        for source in self.sources:
            reports += await self.poll(source)
        reports += await self.tick()
        await self.act()
        return reports

    async def _hold(self, source: Source) -> bool:
        assert self.leases is not None
        took = await self._write(self.leases.take, source.name)
        if not took.held:
            self._free_at[source.name] = took.free_at or self.now()
            return False
        self._free_at.pop(source.name, None)
        if took.new:  # another instance polled it meanwhile: what this one remembers is old
            self.path.forget(source.name)
            source.resume()
        return True

    async def _write(self, fn: Callable[..., Any], *args: Any) -> Any:
        async with self.db_lock:
            return await asyncio.to_thread(fn, *args)

    def commit_observation(self, source: Source, obs: Any) -> list[FiringReport]:
        """Commit one observation in one transaction: its events, the workflows they move,
        the firings and intents they cause. Call it under `db_lock` (as `poll` does)."""
        now = self.now()
        with self.store.session() as session:
            if self.leases is not None and not self.leases.fence(session, source.name):
                self.path.forget(source.name)
                return []
            return self.path.commit(session, source, obs, self.engine, now,
                                    shared=self.leases is not None)

    def _any_untold(self) -> bool:
        with self.store.session(write=False) as session:
            return any_untold(session)

    def _commit_failures(self) -> list[FiringReport]:
        """Each dead intent's `action_failed` event, recorded and run through the rules in the
        transaction that marks it told (`watcher.ledger.failures`)."""
        with self.store.session() as session:
            take_turns(session, "tell")
            now = self.now()
            return self.engine.process(session, tell(session, now), now)

    def _commit_prune(self, before: datetime) -> Pruned:
        with self.store.session() as session:
            take_turns(session, "prune")
            return prune(session, before=before)

    def _commit_tick(self) -> list[FiringReport]:
        now = self.now()
        # Most cycles have no elapsed window: find out without taking SQLite's write lock.
        with self.store.session(write=False) as session:
            due = self.engine.next_due(session)
        if due is None or due > now:
            return []
        with self.store.session() as session:
            take_turns(session, "tick")
            return self.engine.tick(session, self.now())

    def _new_engine(self) -> Engine:
        # The staging rules every workflow (`watcher stage submit`) relies on ship with watcher.
        return Engine(with_staging(self.rulebook.rules), user=self.user,
                      context_for=workflow_context)
