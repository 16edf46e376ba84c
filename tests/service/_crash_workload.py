"""The crash test's workload: jobs on the PBS simulator, the rules they fire, and a count of
what reached the outside world.

A wave is six jobs that end in four effects, one per action kind:

- `fail-N` exits 1: `email` "failed <id>" (one message, one Message-ID, at the SMTP sink);
- `victim-N` waits held; `partner-N` exits 0 naming it in `VICTIM`: `qdel` (one `D` record);
- `wall-N` overruns a 1 s walltime (-29): `resubmit` (one `Q` record of a job whose
  WATCHER_RESUBMIT_OF is wall-N; the new job has the walltime to finish);
- `move-N` exits 0: `transfer` of move-N.dat (one Globus task labelled move-N); with `moved`
  mail, the task's success mails "moved move-N" (one message).

`resubmit=False` leaves out the `wall-N` jobs, so every `qstat` is a poll (the resubmit looks
for its tag with a `qstat` too) and polls can be counted. A `vanished` rule mails "vanished
<id>": no job is ever lost here, so any such mail is a false vanish.

Effects are counted where they land (sink, accounting log, emulator), never in the watcher's
own store, so a double effect cannot hide behind a tidy ledger.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from watcher.mail.sink import SmtpSink
from watcher.sim.globus.testing import GlobusEmulator
from watcher.sim.pbs.testing import PbsSim

WALL_SCRIPT = "#!/bin/sh\nsleep 3\n"  # over 1 s: killed (-29); resubmitted with 30 s: exit 0

RULES = """
rules:
  - name: mail-failure
    when: {pbs_job: {name: "fail-*", exit_status: "!= 0"}}
    do: [{email: {to: ops@example.org, subject: "failed {{ job.id }}"}}]
  - name: delete-victim
    when: {pbs_job: {name: "partner-*", exit_status: 0}}
    do: [{qdel: {job: "{{ job.variables.VICTIM }}"}}]
  - name: retry-walltime
    when: {pbs_job: {name: "wall-*", exit_status: -29}}
    do: [{resubmit: {max_attempts: 1, walltime: "00:00:30"}}]
"""
TRANSFER_RULE = """\
  - name: move-output
    when: {pbs_job: {name: "move-*", exit_status: 0}}
    do:
      - transfer:
          source_endpoint: SRC
          destination_endpoint: DST
          source_path: "/~/{{ job.name }}.dat"
          destination_path: "/~/{{ job.name }}.dat"
          label: "{{ job.name }}"
"""
MOVED_RULE = """\
  - name: mail-moved
    when: {globus_task: {label: "move-*", status: SUCCEEDED}}
    do: [{email: {to: ops@example.org, subject: "moved {{ event.attrs.label }}"}}]
  - name: mail-vanished
    when: {pbs_job: {vanished: true}}
    do: [{email: {to: ops@example.org, subject: "vanished {{ job.id }}"}}]
"""


@dataclass(frozen=True)
class Tally:
    """One action kind: effects expected, expected ones seen, extra copies, missing, strays."""

    kind: str
    expected: int
    seen: int
    duplicated: int
    unexpected: int

    @property
    def missing(self) -> int:
        return self.expected - self.seen

    @property
    def exact(self) -> bool:
        return self.seen == self.expected and not self.duplicated and not self.unexpected


def tally(kind: str, expected: Iterable[str], effects: Iterable[str]) -> Tally:
    """Compare the subjects each effect was for with the subjects expected once each."""
    wanted, counts = set(expected), Counter(effects)
    return Tally(kind, len(wanted), sum(1 for s in wanted if counts[s]),
                 sum(n - 1 for s, n in counts.items() if s in wanted and n > 1),
                 sum(n for s, n in counts.items() if s not in wanted))


def records(lines: Iterable[str], rtype: str) -> list[str]:
    """Job ids of the accounting records of one type (`D` deleted, `Q` queued)."""
    return [parts[2] for parts in (line.split(";") for line in lines)
            if len(parts) > 2 and parts[1] == rtype]


@dataclass
class Workload:
    """Submits waves of jobs and counts their effects at the sink, in PBS and at Globus."""

    sim: PbsSim
    sink: SmtpSink
    workdir: Path
    emu: GlobusEmulator | None = None
    endpoints: tuple[str, str, Path] | None = None  # source id, destination id, source dir
    submitted: set[str] = field(default_factory=set)
    fails: list[str] = field(default_factory=list)
    victims: list[str] = field(default_factory=list)
    walls: list[str] = field(default_factory=list)
    movers: list[str] = field(default_factory=list)
    resubmit: bool = True
    moved_mail: bool = False

    def rules(self) -> str:
        rules = RULES if self.resubmit else RULES.replace(
            RULES[RULES.index("  - name: retry-walltime"):], "")
        if self.endpoints is None:
            return rules
        src, dst, _ = self.endpoints
        rules += TRANSFER_RULE.replace("SRC", src).replace("DST", dst)
        return rules + MOVED_RULE if self.moved_mail else rules

    def first_job(self) -> str:
        """A held job that never ends, for the watcher's first look: the first poll of an empty
        store adopts finished jobs without events (a new watcher stays quiet about history),
        so the watcher must have looked before the workload's jobs end."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        return self._qsub("exit 0\n", "-N", "first-look", "-h")

    def wave(self) -> None:
        """Submit one wave: one job (or pair) per action kind."""
        n = len(self.fails)
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "wall.sh").write_text(WALL_SCRIPT)
        self.fails.append(self._qsub("exit 1\n", "-N", f"fail-{n}"))
        victim = self._qsub("exit 0\n", "-N", f"victim-{n}", "-h")
        self.victims.append(victim)
        self._qsub("exit 0\n", "-N", f"partner-{n}", "-v", f"VICTIM={victim}")
        if self.resubmit:
            self.walls.append(self._qsub(None, "-N", f"wall-{n}", "-l", "walltime=00:00:01",
                                         "wall.sh"))
        if self.endpoints is not None:
            (self.endpoints[2] / f"move-{n}.dat").write_bytes(b"x" * 1000)
            self._qsub("exit 0\n", "-N", f"move-{n}")
            self.movers.append(f"move-{n}")

    def _qsub(self, script: str | None, *args: str) -> str:
        result = self.sim.run("qsub", *args, stdin=script, cwd=self.workdir)
        assert result.returncode == 0, result.stderr
        job_id = result.stdout.strip()
        self.submitted.add(job_id)
        return job_id

    def tallies(self, *, parents: dict[str, str] | None = None) -> list[Tally]:
        """Effects so far. Resubmissions are the `Q` records of jobs the test did not submit;
        with `parents` (new job -> WATCHER_RESUBMIT_OF) each is checked against its parent,
        else only their number is (cheap enough to call every few hundred ms)."""
        lines = self.sim.accounting_lines()
        subjects = [str(m.message["Subject"]) for m in self.sink.messages]
        found = [
            tally("email", self.fails, _about("failed ", subjects)),
            tally("qdel", self.victims, records(lines, "D")),
        ]
        if self.resubmit:
            found.append(self._resubmissions(
                [j for j in records(lines, "Q") if j not in self.submitted], parents))
        if self.emu is not None:
            found.append(tally("transfer", self.movers, (t["label"] for t in self.emu.tasks())))
        if self.moved_mail:
            found.append(tally("moved mail", self.movers, _about("moved ", subjects)))
            found.append(tally("vanished mail", [], _about("vanished ", subjects)))
        return found

    def _resubmissions(self, new: list[str], parents: dict[str, str] | None) -> Tally:
        if parents is not None:
            return tally("resubmit", self.walls, (parents.get(j, f"?{j}") for j in new))
        seen = min(len(new), len(self.walls))
        return Tally("resubmit", len(self.walls), seen, 0, len(new) - seen)

    def parents(self) -> dict[str, str]:
        """Each job's WATCHER_RESUBMIT_OF tag, from one `qstat -f -F json -x`."""
        jobs = self.sim.qstat_json().get("Jobs", {})
        return {job_id: str(attrs["Variable_List"]["WATCHER_RESUBMIT_OF"])
                for job_id, attrs in jobs.items()
                if "WATCHER_RESUBMIT_OF" in (attrs.get("Variable_List") or {})}

    def message_ids(self) -> Counter[str]:
        return Counter(str(m.message["Message-ID"]) for m in self.sink.messages)


def _about(prefix: str, subjects: Iterable[str]) -> list[str]:
    return [s.removeprefix(prefix) for s in subjects if s.startswith(prefix)]
