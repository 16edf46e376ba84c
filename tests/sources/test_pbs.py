"""`PbsSource` against fake `qstat` executables: one call per poll, health, selection, quirks.

The fakes are shell scripts in tmp_path that log their argv, print a recorded output and exit
with a chosen code (or sleep past the timeout, or are missing): PBS's own CLI contract, with
no PBS behind it.
"""

from __future__ import annotations

import asyncio
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.events import PBS_JOB, SOURCE_DOWN, VANISHED
from watcher.pbs.commands import CommandResult, PbsCommands
from watcher.sources.pbs import QSTAT_ARGS, IdSet, PbsSource, observation_from_result
from watcher.state.diff import PrevEntry, diff_observation
from watcher.state.health import SourceHealthState, update_health

DATA = Path(__file__).parents[1] / "testdata" / "qstat"
ALL_USERS = DATA / "fixtures" / "firecrest-v2__ssh_qstat_allusers_command.stdout.json"
T0 = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
HEADER_ONLY = (
    '{\n    "timestamp":1752246824,\n    "pbs_version":"2024.1.2",\n    "pbs_server":"p"\n}'
)


class FakeQstat:
    """Writes `bin/qstat` into a directory; each call appends its arguments to `calls.log`."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "calls.log"
        self.root = root

    def answer(self, stdout: Path | str = "", stderr: str = "", code: int = 0) -> None:
        out = stdout if isinstance(stdout, Path) else self._file("stdout.txt", stdout)
        err = self._file("stderr.txt", stderr)
        self._script(f"cat {shlex.quote(str(out))}\ncat {shlex.quote(str(err))} >&2\nexit {code}")

    def hang(self) -> None:
        self._script("exec sleep 30")

    def _file(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text)
        return path

    def _script(self, body: str) -> None:
        script = self.bin / "qstat"
        log = shlex.quote(str(self.log))
        script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\n{body}\n')
        script.chmod(0o755)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def qstat(tmp_path: Path) -> FakeQstat:
    return FakeQstat(tmp_path)


def source(qstat: FakeQstat, timeout: float = 10.0, **kw) -> PbsSource:
    kw.setdefault("user", "fireuser")
    return PbsSource(PbsCommands(bin_dir=qstat.bin, timeout=timeout), now=lambda: T0, **kw)


def poll(src: PbsSource):
    return asyncio.run(src.poll())


def test_one_qstat_call_per_poll_with_the_full_json_history_form(qstat: FakeQstat) -> None:
    qstat.answer(ALL_USERS)
    src = source(qstat)
    for _ in range(3):
        obs = poll(src)
    assert qstat.calls() == ["-f -F json -x"] * 3
    assert obs.ok and obs.source == "pbs" and obs.at == T0
    assert set(obs.subjects) == {"1004.pbs", "1005.pbs"}  # fireuser's jobs, not firesrv's
    assert obs.subjects["1004.pbs"]["state"] == "F"
    assert obs.subjects["1004.pbs"]["exit_status"] == 0
    assert obs.detail["server"] == "pbs" and obs.detail["returncode"] == 0


def test_watch_all_and_extra_ids(qstat: FakeQstat) -> None:
    qstat.answer(ALL_USERS)
    assert set(poll(source(qstat, watch="all")).subjects) == {"1004.pbs", "1005.pbs", "1006.pbs"}
    extra = source(qstat, extra_ids=lambda: ["1006"])  # someone else's job, named by number
    assert set(poll(extra).subjects) == {"1004.pbs", "1005.pbs", "1006.pbs"}
    stranger = source(qstat, user="nobody", extra_ids=lambda: {"1005.pbs"})
    assert set(poll(stranger).subjects) == {"1005.pbs"}
    assert len(qstat.calls()) == 3  # extra ids never add a call


def test_unknown_ids_next_to_a_valid_document_are_a_healthy_answer(qstat: FakeQstat) -> None:
    qstat.answer(ALL_USERS, "qstat: Unknown Job Id 9.pbs\nsomething odd\n", code=153)
    obs = poll(source(qstat))
    assert obs.ok and set(obs.subjects) == {"1004.pbs", "1005.pbs"}
    assert obs.missing_ok == {"9.pbs"} and obs.detail["stderr"] == ["something odd"]


def test_finished_jobs_without_history_are_not_missing(qstat: FakeQstat) -> None:
    header = (
        '{\n    "timestamp":1752246824,\n    "pbs_version":"2024.1.2",\n    "pbs_server":"p"\n}'
    )
    qstat.answer(
        header,
        "qstat: 54.p Job has finished, use -x or -H to obtain historical job information\n",
        code=35,
    )
    obs = poll(source(qstat))
    assert obs.ok and obs.subjects == {} and obs.unreadable == {"54.p"}


@pytest.mark.parametrize(
    ("stdout", "stderr", "code", "says"),
    [
        (
            "",
            "Connection refused\nqstat: cannot connect to server pbs (errno=111)\n",
            255,
            "cannot connect to server pbs",
        ),
        (
            "",
            "Unknown Host.\nqstat: cannot connect to server x (errno=15008)\n",
            255,
            "Unknown Host.",
        ),
        ("", "qstat: Couldn't connect to cluster: pbs\n", 1, "Couldn't connect"),
        ("", "", 255, "exit 255"),
        # An empty-looking document next to a dead server must not read as "no jobs".
        (HEADER_ONLY, "Connection refused\n", 0, "Connection refused"),
        (HEADER_ONLY, "", 255, "exit 255"),
        ("", "", 0, "no JSON object"),
        ("<html>proxy error</html>", "", 0, "no JSON object"),
        ((DATA / "truncated_mid_job.json").read_text(), "", 0, "truncated"),
    ],
    ids=[
        "refused",
        "unknown-host",
        "no-cluster",
        "exit-255",
        "empty",
        "html",
        "header-refused",
        "header-255",
        "truncated",
    ],
)
def test_no_answer_is_a_failed_observation(
    qstat: FakeQstat, stdout: str, stderr: str, code: int, says: str
) -> None:
    qstat.answer(stdout, stderr, code)
    obs = poll(source(qstat))
    assert not obs.ok and obs.subjects == {} and says in (obs.error or "")
    assert qstat.calls() == ["-f -F json -x"]


def test_a_hanging_qstat_times_out(qstat: FakeQstat) -> None:
    qstat.hang()
    obs = poll(source(qstat, timeout=0.3))
    assert not obs.ok and "timed out" in (obs.error or "") and obs.detail["returncode"] is None


def test_a_missing_qstat_is_a_failed_observation(tmp_path: Path) -> None:
    commands = PbsCommands(overrides={"qstat": str(tmp_path / "no-such-qstat")})
    obs = asyncio.run(PbsSource(commands, user="fireuser").poll())
    assert not obs.ok and "cannot run" in (obs.error or "")


def test_a_garbled_job_is_unreadable_and_the_others_survive(qstat: FakeQstat) -> None:
    qstat.answer(DATA / "garbled_middle.json")
    obs = poll(source(qstat, user="alice"))
    assert obs.ok and set(obs.subjects) == {"601.pbs01", "603.pbs01"}
    assert obs.unreadable == {"602.pbs01"}
    assert obs.detail["skipped"][0][0] == "602.pbs01"


@pytest.mark.parametrize(
    "name",
    [
        "all_zero_sha.json",
        "bash_func.json",
        "invalid_escapes.json",
        "leading_zeros.json",
        "stray_quotes.json",
        "control_chars.json",
        "cjson_tabs_quirk.json",
    ],
)
def test_quirky_output_through_the_poller(qstat: FakeQstat, name: str) -> None:
    qstat.answer(DATA / name)
    obs = poll(source(qstat, watch="all"))
    assert obs.ok and obs.subjects and not obs.unreadable


def test_an_outage_never_vanishes_jobs(qstat: FakeQstat) -> None:
    """The user-visible promise: a dead server mails 'source down', never 'job vanished'."""
    src = source(qstat)
    previous: dict[str, PrevEntry] = {}
    health, events = SourceHealthState(), []
    answers = [(ALL_USERS, "", 0)] + [("", "Connection refused\n", 255)] * 4
    for stdout, stderr, code in answers:
        qstat.answer(stdout, stderr, code)
        obs = poll(src)
        health, new = update_health(health, obs, down_after=3, now=obs.at)
        diff = diff_observation(previous, obs, kind=PBS_JOB)
        previous.update({s: PrevEntry(a) for s, a in diff.upserts.items()})
        events += new + diff.events
    assert [e.kind for e in events].count(SOURCE_DOWN) == 1
    assert not [e for e in events if e.change == VANISHED] and len(previous) == 2


def test_observation_from_result_is_pure() -> None:
    result = CommandResult(("qstat", "-f", "-F", "json", "-x"), 0, ALL_USERS.read_text(), "")
    obs = observation_from_result(result, source="pbs", at=T0)
    assert obs.ok and len(obs.subjects) == 3 and obs.detail["command"] == "qstat -f -F json -x"


@pytest.mark.parametrize(
    ("known", "job_id", "inside"),
    [
        ("123", "123.srv", True),
        ("123.srv", "123.srv.example.org", True),
        ("123.srv.example.org", "123.srv", True),
        ("123.srv", "123.srv", True),
        ("123.srv", "1234.srv", False),
        ("123.srv", "123.other", False),
        ("12[].srv", "12[].srv", True),
    ],
)
def test_id_set_matches_short_and_full_ids(known: str, job_id: str, inside: bool) -> None:
    assert (job_id in IdSet([known])) is inside


@pytest.mark.parametrize("stderr, code", [
    ("qstat: Server shutting down\n", 159),
    ("qstat: End of File\n", 15),
    ("pbs_iff: cannot read reply from pbs_server\nNo Permission.\n", 159),
    ("", 1),
])
def test_an_error_answer_with_an_empty_document_is_no_answer(stderr, code):
    """A header-only JSON document next to a server-side error is not 'no jobs'."""
    header = '{\n    "timestamp":1700000000,\n    "pbs_version":"2022.1.1",\n' \
             '    "pbs_server":"srv"\n}\n'
    result = CommandResult(("qstat", *QSTAT_ARGS), code, header, stderr)
    obs = observation_from_result(result, source="pbs", at=datetime.now(UTC))
    assert not obs.ok and obs.subjects == {}
