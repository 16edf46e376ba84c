"""`SelectPbsSource` on the PBS simulator: qselect on the server, then qstat of changed ids.

Each test drives the source and the diff the service runs (`diff_observation`), poll by poll,
and looks at what a user sees: events, and what the source asked PBS (the simulator's request
log counts the job records it serialised).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from watcher.events import APPEARED, CHANGED, PBS_JOB, VANISHED, Event
from watcher.pbs.commands import CommandResult, PbsCommands
from watcher.sim.pbs.context import current_user
from watcher.sim.pbs.testing import PbsSim
from watcher.sources.base import Observation
from watcher.sources.pbs import PbsSource
from watcher.sources.pbs_select import SelectPbsSource
from watcher.state.diff import PrevEntry, diff_observation


class CountingCommands(PbsCommands):
    """The simulator's shims, with each call's argv kept (a meter, not a fake)."""

    def __init__(self, bin_dir: Path) -> None:
        super().__init__(bin_dir=bin_dir)
        object.__setattr__(self, "log", [])

    async def run(self, command: str, *args: str, **kw: Any) -> CommandResult:
        self.log.append((command, *args))  # type: ignore[attr-defined]
        return await super().run(command, *args, **kw)


class Watch:
    """A source plus the remembered snapshots, as the service keeps them."""

    def __init__(self, source: SelectPbsSource) -> None:
        self.source = source
        self.previous: dict[str, PrevEntry] = {}

    def poll(self) -> tuple[Observation, list[Event]]:
        obs = asyncio.run(self.source.poll())
        diff = diff_observation(self.previous, obs, kind=PBS_JOB)
        for subject, attrs in diff.upserts.items():
            self.previous[subject] = PrevEntry(attrs)
        for subject, count in diff.missing.items():
            self.previous[subject] = PrevEntry(self.previous[subject].attrs, count)
        for subject in diff.forget:
            self.previous.pop(subject)
        return obs, diff.events

    @property
    def calls(self) -> list[tuple[str, ...]]:
        return self.source.commands.log  # type: ignore[attr-defined]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[PbsSim]:
    with PbsSim(tmp_path / "pbs", nodes=2, tick=0.05, kill_delay=0.5) as running:
        running.configure(count_requests=True)
        yield running


def watch(sim: PbsSim, **kw: Any) -> Watch:
    kw.setdefault("margin", 5.0)
    return Watch(SelectPbsSource(CountingCommands(sim.bin_dir), user=current_user(), **kw))


def kinds(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.change, e.subject) for e in events]


def test_discovery_change_and_an_idle_cycle_of_two_qselects(sim: PbsSim) -> None:
    w = watch(sim)
    held = sim.qsub("exit 0\n", "-h", "-N", "held")
    _, events = w.poll()
    assert kinds(events) == [(APPEARED, held)]
    time.sleep(1.1)  # mtime has whole seconds: let the window move past the first read
    w.source.margin = 0.0
    w.poll()
    mark = len(w.calls)
    _, events = w.poll()
    assert events == [] and [c[0] for c in w.calls[mark:]] == ["qselect", "qselect"]
    new = sim.qsub("exit 0\n", "-h", "-N", "new")
    sim.run("qrls", held)
    sim.wait_for(held)
    _, events = w.poll()
    assert (APPEARED, new) in kinds(events) and (CHANGED, held) in kinds(events)
    assert events[kinds(events).index((CHANGED, held))].current["state"] == "F"
    read = [c for c in w.calls if c[0] == "qstat"][-1]
    assert set(read[5:]) == {held, new}  # only what changed, by id


def test_final_jobs_are_not_asked_for_again(sim: PbsSim) -> None:
    w = watch(sim, margin=3600.0)  # every job is inside the window each poll
    done = sim.qsub("exit 0\n")
    sim.wait_for(done)
    held = sim.qsub("exit 0\n", "-h")
    w.poll()
    mark = len(sim.requests())
    obs, events = w.poll()
    assert events == [] and set(obs.subjects) == {done, held}
    asked = [c for c in w.calls if c[0] == "qstat"][-1]
    assert held in asked and done not in asked
    assert sum(r["records"] for r in sim.requests()[mark:]) == 1


def test_a_lost_queue_vanishes_after_two_healthy_polls_and_an_outage_never(sim: PbsSim
                                                                            ) -> None:
    w = watch(sim)
    held = sim.qsub("exit 0\n", "-h")
    w.poll()
    sim.stop()
    for _ in range(3):
        obs, events = w.poll()
        assert not obs.ok and events == []
    sim.start()
    sim.wipe()
    _, first = w.poll()
    _, second = w.poll()
    assert first == [] and kinds(second) == [(VANISHED, held)]


def test_history_ageing_out_is_forgotten_quietly(sim: PbsSim) -> None:
    w = watch(sim)
    done = sim.qsub("exit 0\n")
    sim.wait_for(done)
    w.poll()
    assert sim.run("qdel", "-x", done).returncode == 0  # purged from history
    _, first = w.poll()
    _, second = w.poll()
    assert first == second == [] and done not in w.previous


def test_issue_2672_is_worked_around_with_one_warning(sim: PbsSim,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    sim.configure(issue_2672=True)
    jobs = [sim.qsub("exit 0\n", "-h") for _ in range(3)]
    w = watch(sim, batch=10)
    with caplog.at_level(logging.WARNING):
        obs, events = w.poll()
        w.poll()
    assert obs.ok and set(obs.subjects) == set(jobs)
    assert sorted(e.subject for e in events) == sorted(jobs)
    assert [r.message for r in caplog.records].count(
        next(r.message for r in caplog.records if "2672" in r.message)) == 1
    sim.run("qrls", jobs[0], jobs[1])
    sim.wait_for(jobs[0])
    sim.wait_for(jobs[1])
    _, events = w.poll()
    assert sorted(e.subject for e in events if e.change == CHANGED) == sorted(jobs[:2])
    reads = [c[5:] for c in w.calls if c[0] == "qstat"]
    assert len(reads[0]) == 3 and all(len(ids) == 1 for ids in reads[1:])  # then one a call
    assert not [e for e in events if e.change == VANISHED]


def test_a_server_clock_behind_by_less_than_the_margin_loses_nothing(sim: PbsSim) -> None:
    sim.configure(clock_offset=-40.0)  # mtime stamps 40 s in this host's past
    w = watch(sim, margin=60.0)
    held = sim.qsub("exit 0\n", "-h")
    w.poll()
    sim.run("qrls", held)
    sim.wait_for(held)
    _, events = w.poll()
    assert kinds(events) == [(CHANGED, held)]


def test_a_clock_behind_by_more_is_caught_by_the_full_read_and_widens_the_margin(
        sim: PbsSim, caplog: pytest.LogCaptureFixture) -> None:
    sim.configure(clock_offset=-300.0)
    w = watch(sim, margin=10.0, full_every=3)
    held = sim.qsub("exit 0\n", "-h")
    w.poll()
    sim.run("qrls", held)
    sim.wait_for(held)
    _, missed = w.poll()
    with caplog.at_level(logging.WARNING):
        _, found = w.poll()  # the third poll reads every unfinished job
    assert missed == [] and kinds(found) == [(CHANGED, held)]
    assert w.source.margin == 60.0 and "clock seems more than 10s behind" in caplog.text


def test_other_users_jobs_watched_by_id(sim: PbsSim) -> None:
    template = sim.qsub("exit 0\n", "-h")
    bobs, = sim.copy_jobs(template, ["bob"], name="bobs")
    sim.run("qdel", template)
    w = watch(sim, extra_ids=lambda: [bobs.partition(".")[0]])  # named by number in a rule
    obs, events = w.poll()
    assert bobs in obs.subjects and obs.subjects[bobs]["owner"] == "bob"
    assert next(c for c in w.calls if c[0] == "qselect")[-2:] == ("-u", current_user())
    sim.configure(managers=[current_user()])  # to change someone else's job
    sim.run("qdel", bobs)
    sim.wait_for(bobs)
    _, events = w.poll()
    assert kinds(events) == [(CHANGED, bobs)]
    mark = len(w.calls)
    w.poll()
    assert [c[0] for c in w.calls[mark:]] == ["qselect", "qselect"]  # final: not asked again


def test_no_history_on_the_server_is_not_every_job_gone(tmp_path: Path) -> None:
    """qselect -x on a server without job_history_enable: a message, exit 0, no ids."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "qselect").write_text(
        '#!/bin/sh\ncase "$*" in *-x*) echo "qselect: PBS is not configured to maintain job '
        'history" >&2; exit 0;; esac\necho 7.srv\n')
    (bin_dir / "qstat").write_text(
        "#!/bin/sh\ncat <<'EOF'\n" '{"timestamp":1,"pbs_version":"2022.1.1","pbs_server":"srv",'
        '"Jobs":{"7.srv":{"Job_Name":"a","Job_Owner":"me@h","job_state":"Q","queue":"q"}}}'
        "\nEOF\n")
    for name in ("qselect", "qstat"):
        (bin_dir / name).chmod(0o755)
    source = SelectPbsSource(PbsCommands(bin_dir=bin_dir), user="me")
    obs = asyncio.run(source.poll())
    assert obs.ok and set(obs.subjects) == {"7.srv"}


QUIRKS = Path(__file__).parents[1] / "testdata" / "qstat"


@pytest.mark.parametrize("name", ["all_zero_sha.json", "bash_func.json", "invalid_escapes.json",
                                  "leading_zeros.json", "stray_quotes.json",
                                  "control_chars.json", "cjson_tabs_quirk.json",
                                  "garbled_middle.json"])
def test_the_quirk_corpus_reads_the_same_through_qselect(tmp_path: Path, name: str) -> None:
    """qstat's invalid JSON, asked for by id: the same jobs as the full listing reads."""
    document = QUIRKS / name
    listed = asyncio.run(PbsSource(PbsCommands(overrides={"qstat": str(_cat(tmp_path, document))}),
                                   watch="all").poll())
    ids = sorted({*listed.subjects, *listed.unreadable})
    qselect = tmp_path / "qselect"
    qselect.write_text("#!/bin/sh\nprintf '%s\\n' " + " ".join(ids) + "\n")
    qselect.chmod(0o755)
    commands = PbsCommands(overrides={"qselect": str(qselect), "qstat": str(_cat(tmp_path,
                                                                               document))})
    obs = asyncio.run(SelectPbsSource(commands, watch="all").poll())
    assert obs.ok and obs.subjects == listed.subjects and obs.unreadable == listed.unreadable


def _cat(tmp_path: Path, document: Path) -> Path:
    script = tmp_path / "qstat"
    script.write_text(f"#!/bin/sh\ncat '{document}'\n")
    script.chmod(0o755)
    return script
