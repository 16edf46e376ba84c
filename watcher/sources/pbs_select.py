"""The PBS source a facility allows: server work proportional to the user's *changed* jobs.

Each poll, on the PBS server's own filters (qselect(1B); see `watcher.pbs.select` for what the
OpenPBS source says about each step):

1. `qselect -x -u <user>`: the ids of the user's jobs, history included. Ids only, a few bytes
   a job: new jobs are discovered here, and a job missing from this list on two healthy polls
   vanishes, as before (a finished one ageing out of history is forgotten quietly).
2. `qselect -x -u <user> -t m.ge.<last good poll - margin>`: which of them the server saved
   since. `margin` (`pbs.clock_skew_margin`) covers a server clock behind this host's.
3. `qstat -f -F json -x <ids>` for those only, plus new ids and the non-final jobs of other
   users watched by id, in batches of at most `batch` ids. A job in a final state (F, X) is
   not asked for again; the others keep the attributes last read.

An idle cycle is two qselect calls and no job record at all. Every `full_every` polls the
user's non-final jobs are read again whatever their mtime: if that finds a change the window
missed, the server's clock is further behind than the margin, which is then widened (a warning
says so, once). Any call that fails makes the whole poll "unknown", never "vanished".

OpenPBS issue 2672 (builds of main after 23.06.06): `qstat -f -F json` with several ids answers
only the first. Fewer jobs than asked with no "Unknown Job Id" line for the rest is that bug,
not jobs gone: the rest are asked one by one, from then on one id a call, with one warning.
`qstat -u` is never used: with `-F json` it mixes a text table into the JSON (PR 2675).
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from watcher.events import PBS_JOB
from watcher.pbs.commands import PbsCommands
from watcher.pbs.select import SelectAnswer, changed_since, read_select
from watcher.sources.base import Observation, Source
from watcher.sources.pbs import QSTAT_ARGS, IdSet, observation_from_result

log = logging.getLogger(__name__)

FINAL_STATES = frozenset({"F", "X"})
MAX_MARGIN = 86_400.0


class SelectPbsSource(Source):
    """Watches the user's PBS jobs (or all the server lists) through qselect, then qstat ids."""

    kind = PBS_JOB

    def __init__(
        self,
        commands: PbsCommands,
        *,
        watch: Literal["mine", "all"] = "mine",
        user: str | None = None,
        extra_ids: Callable[[], Iterable[str]] | None = None,
        name: str = "pbs",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.time,
        margin: float = 120.0,
        batch: int = 100,
        full_every: int = 60,
    ) -> None:
        self.commands, self.watch, self.name = commands, watch, name
        self.user = user or getpass.getuser()
        self.extra_ids = extra_ids
        self._now, self._clock = now, clock
        self.margin, self.batch, self.full_every = margin, max(1, batch), max(1, full_every)
        self._known: dict[str, dict[str, Any]] = {}  # attributes last read, by full id
        self._last_good: float | None = None  # this host's clock when the last good poll began
        self._polls = 0
        self._history = True  # False once the server said it keeps no history
        self._one_by_one = False  # issue 2672 seen: one id per qstat

    def resume(self) -> None:
        """Another instance polled meanwhile: the attributes last read here and the changed-since
        window are its past, not the store's. Start over as a new process would: read all."""
        self._known = {}
        self._last_good = None

    async def poll(self) -> Observation:
        """qselect for ids plus qstat of the changed ones; a full qstat every `full_every` polls."""
        at, started = self._now(), self._clock()
        self._polls += 1
        full = self._polls % self.full_every == 0
        # The two questions are independent: asked together, a poll waits for one round trip.
        window = None if self._last_good is None else changed_since(self._last_good - self.margin)
        listed, answer = await asyncio.gather(self._select(), self._window(window))
        for reply in (listed, answer):
            if not reply.ok:
                return Observation.failed(self.name, at, reply.error or "qselect failed")
        changed = set(answer.ids)
        extra = [i for i in (self.extra_ids() if self.extra_ids else ()) if i not in
                 IdSet(listed.ids)]
        wanted = self._to_read(listed.ids, changed, extra, full)
        fetched = await self._read(wanted, at)
        if isinstance(fetched, Observation):
            return fetched
        subjects, missing, unreadable, calls = fetched
        if full:
            self._check_window(subjects, changed)
        obs = self._compose(at, listed.ids, extra, subjects, missing, unreadable)
        self._last_good = started
        detail = {"listed": len(listed.ids), "changed": len(changed), "read": len(wanted),
                  "qstat_calls": calls, "full": full, "margin": self.margin}
        return Observation(obs.source, True, at, subjects=obs.subjects,
                           missing_ok=obs.missing_ok, unreadable=obs.unreadable, detail=detail)

    async def _window(self, window: str | None) -> SelectAnswer:
        """The ids saved since the window's start; none to ask before a first good poll."""
        return await self._select(window) if window else SelectAnswer(True)

    async def _select(self, window: str | None = None) -> SelectAnswer:
        args = [*(["-x"] if self._history else []),
                *(["-u", self.user] if self.watch == "mine" else []),
                *(["-t", window] if window else [])]
        answer = read_select(await self.commands.run("qselect", *args))
        if answer.history_off and "-x" in args:  # asked without -x, it cannot say this again
            if self._history:
                log.warning("the PBS server keeps no job history (job_history_enable is off): "
                            "finished jobs leave qselect at once and will read as vanished")
            self._history = False
            return await self._select(window)
        return answer

    def _to_read(self, listed: Sequence[str], changed: set[str], extra: Sequence[str],
                 full: bool) -> list[str]:
        """New ids, changed ids, and every other watched job not known to be final."""
        wanted = []
        for job_id in listed:
            known = self._known.get(job_id)
            stale = full or job_id in changed
            if known is None or (stale and known.get("state") not in FINAL_STATES):
                wanted.append(job_id)
        for job_id in extra:  # no mtime window for them: read each poll until final
            known = self._known_as(job_id)
            if known is None or full or known[1].get("state") not in FINAL_STATES:
                wanted.append(job_id)
        return wanted

    def _known_as(self, job_id: str) -> tuple[str, dict[str, Any]] | None:
        """The full id and last attributes of a job named in any form (`123`, `123.srv`)."""
        if job_id in self._known:
            return job_id, self._known[job_id]
        ids = IdSet([job_id])
        return next(((k, v) for k, v in self._known.items() if k in ids), None)

    async def _read(self, ids: list[str], at: datetime) -> Observation | tuple[
            dict[str, dict[str, Any]], set[str], set[str], int]:
        """qstat the ids in batches; an unhealthy answer makes the whole poll unknown."""
        subjects: dict[str, dict[str, Any]] = {}
        missing: set[str] = set()
        unreadable: set[str] = set()
        calls, size = 0, self._size()
        queue = [ids[i:i + size] for i in range(0, len(ids), size)]
        while queue:
            chunk = queue.pop(0)
            result = await self.commands.run("qstat", *QSTAT_ARGS, *chunk)
            calls += 1
            obs = observation_from_result(result, source=self.name, at=at)
            if not obs.ok:
                return obs
            subjects.update(obs.subjects)
            missing |= obs.missing_ok
            unreadable |= obs.unreadable
            left = [i for i in chunk if not _answered(i, obs)]
            if left and len(chunk) > 1:  # neither shown nor said unknown: issue 2672
                self._issue_2672(result.describe(), len(chunk), len(chunk) - len(left))
                queue = [[i] for i in left] + [[i] for c in queue for i in c]
            else:  # one id, no record and no error line: not read, not gone either
                unreadable.update(left)
        return subjects, missing, unreadable, calls

    def _size(self) -> int:
        return 1 if self._one_by_one else self.batch

    def _issue_2672(self, command: str, asked: int, got: int) -> None:
        if not self._one_by_one:
            log.warning("qstat answered %d of %d job ids and named no unknown one (OpenPBS "
                        "issue 2672): asking one id a call from now on (%s)", got, asked,
                        command[:200])
        self._one_by_one = True

    def _check_window(self, subjects: dict[str, dict[str, Any]], listed: set[str]) -> None:
        """A full re-read found a change that qselect's time window did not list: the server's
        clock is further behind than the margin. Widen it (twice, at most a day)."""
        missed = [job_id for job_id, attrs in subjects.items()
                  if job_id in self._known and job_id not in listed
                  and _watched(self._known[job_id]) != _watched(attrs)]
        if missed and self.margin < MAX_MARGIN:
            wider = min(MAX_MARGIN, max(self.margin * 2, 60.0))
            log.warning("PBS job %s changed without qselect -t m listing it: the server's "
                        "clock seems more than %gs behind this host's; pbs.clock_skew_margin "
                        "is now %gs", missed[0], self.margin, wider)
            self.margin = wider

    def _compose(self, at: datetime, listed: Sequence[str], extra: Sequence[str],
                 fresh: dict[str, dict[str, Any]], missing: set[str], unreadable: set[str]
                 ) -> Observation:
        """Every listed job with its freshest attributes; a watched id of another user counts
        as present while qstat shows it."""
        subjects: dict[str, dict[str, Any]] = {}
        for job_id in listed:
            if job_id in fresh:
                subjects[job_id] = fresh[job_id]
            elif job_id in self._known and job_id not in missing and job_id not in unreadable:
                subjects[job_id] = self._known[job_id]
        extra_ids = IdSet(extra)
        for job_id, attrs in fresh.items():
            if job_id not in subjects and job_id in extra_ids:
                subjects[job_id] = attrs
        for job_id in extra:  # a final one, not asked again: still there
            known = self._known_as(job_id)
            if known and known[0] not in subjects and known[0] not in missing \
                    and known[1].get("state") in FINAL_STATES:
                subjects[known[0]] = known[1]
        self._known = dict(subjects)
        return Observation(self.name, True, at, subjects=subjects, missing_ok=missing,
                           unreadable=unreadable - set(subjects))


def _answered(job_id: str, obs: Observation) -> bool:
    ids = IdSet([job_id])
    return any(k in ids for k in (*obs.subjects, *obs.missing_ok, *obs.unreadable))


_WATCHED = ("state", "substate", "exit_status", "hold_types", "run_count", "queue", "name")


def _watched(attrs: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(attrs.get(name) for name in _WATCHED)
