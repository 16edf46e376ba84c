"""qselect: one id a line, filters by state, user and name, history only with -x."""

from __future__ import annotations

import time

import pytest

from watcher.sim.pbs.context import current_user
from watcher.sim.pbs.cvtdate import cvtdate
from watcher.sim.pbs.messages import QSELECT_USAGE
from watcher.sim.pbs.testing import PbsSim, loads_pbs_json


def test_filters(sim: PbsSim) -> None:
    held = sim.qsub("exit 0\n", "-h", "-N", "select_me")
    done = sim.qsub("exit 0\n", "-N", "select_me")
    sim.wait_for(done)
    assert sim.run("qselect", "-N", "select_me").stdout == f"{held}\n"
    assert sim.run("qselect", "-N", "select_me", "-x").stdout == f"{held}\n{done}\n"
    assert sim.run("qselect", "-s", "F", "-N", "select_me").stdout == ""
    assert sim.run("qselect", "-x", "-s", "F", "-N", "select_me").stdout == f"{done}\n"
    assert held in sim.run("qselect", "-u", current_user(), "-s", "H").stdout.split()
    result = sim.run("qselect", "-u", "nobody_else")
    assert (result.returncode, result.stdout) == (0, "")
    sim.run("qdel", held)


def test_usage(sim: PbsSim) -> None:
    result = sim.run("qselect", "extra")
    assert (result.returncode, result.stderr) == (2, QSELECT_USAGE)


# --- -t time comparisons, users, mtime (OpenPBS qselect.c, cvtdate.c, req_select.c) ---------

DAY = 86_400


def stamp(epoch: float) -> str:
    """A full qselect date (CCYYMMDDhhmm.SS) in local time, as the watcher writes it."""
    return time.strftime("%Y%m%d%H%M.%S", time.localtime(epoch))


def select(sim: PbsSim, *args: str) -> list[str]:
    result = sim.run("qselect", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.fixture
def aged(sim: PbsSim) -> tuple[list[str], float]:
    """Three held copies, last modified 3, 2 and 1 days ago, named uniquely per test."""
    template = sim.qsub("exit 0\n", "-h", "-N", "aged_template")
    now = time.time()
    tag = f"aged{int(now * 1000) % 10**9}"
    ids = [sim.copy_jobs(template, [current_user()], name=f"{tag}_{d}", mtime=now - d * DAY)[0]
           for d in (3, 2, 1)]
    sim.run("qdel", template)
    return ids, now


@pytest.mark.parametrize(("op", "days_ago", "expect"), [
    ("gt", 2, [2]), ("ge", 2, [1, 2]), ("lt", 2, [0]), ("le", 2, [0, 1]),
    ("eq", 2, [1]), ("ne", 2, [0, 2]),
])
def test_mtime_comparisons(sim: PbsSim, aged: tuple[list[str], float], op: str,
                           days_ago: int, expect: list[int]) -> None:
    ids, now = aged
    chosen = set(select(sim, "-t", f"m.{op}.{stamp(now - days_ago * DAY)}"))
    assert [i for i, job in enumerate(ids) if job in chosen] == expect


def test_repeated_t_brackets_a_window(sim: PbsSim, aged: tuple[list[str], float]) -> None:
    ids, now = aged
    window = select(sim, f"-tm.gt.{stamp(now - 2.5 * DAY)}", f"-tm.lt.{stamp(now - 1.5 * DAY)}")
    assert [job for job in ids if job in window] == [ids[1]]


def test_every_time_option(sim: PbsSim) -> None:
    """c, q, e, m, s are set on a finished job; a (Execution_Time) and g (eligible_time) are
    unset and compare as 0; t (estimated.start_time) is an unset resource: always "less"."""
    job = sim.qsub("exit 0\n")
    held = sim.qsub("exit 0\n", "-h")
    sim.wait_for(job)
    past, future = stamp(time.time() - DAY), stamp(time.time() + DAY)
    for letter in "cqems":
        assert job in select(sim, "-x", "-t", f"{letter}.gt.{past}")
        assert job not in select(sim, "-x", "-t", f"{letter}.gt.{future}")
    for letter in "agt":
        assert job in select(sim, "-x", "-t", f"{letter}.lt.{past}")
        assert job not in select(sim, "-x", "-t", f"{letter}.ge.{past}")
    assert held in select(sim, "-t", f"s.lt.{past}")  # never started: stime unset
    assert job not in select(sim, "-t", f"s.gt.{past}")  # F: history only with -x
    sim.run("qdel", held)


def test_no_operator_means_eq_and_short_dates_mean_the_future(
        sim: PbsSim, aged: tuple[list[str], float]) -> None:
    ids, now = aged
    exact = time.strftime("%Y%m%d%H%M.%S", time.localtime(int(now - DAY)))
    assert ids[2] in select(sim, "-t", f"m{exact}")  # check_op(): no ".op." is eq
    # `MMDDhhmm` of an earlier month, `hhmm` already past: cvtdate() reads them as future.
    assert cvtdate("0101") > now and cvtdate(time.strftime("%H%M", time.localtime(now))) > now


@pytest.mark.parametrize("value", ["z.gt.202601011200", "m.gt.2026010112", "m.gt.13011200",
                                   "m.gt.202601011200.7", "m.gt.2026x1011200", "m"])
def test_illegal_t_values(sim: PbsSim, value: str) -> None:
    result = sim.run("qselect", "-t", value)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "qselect: illegal -t value\n" + QSELECT_USAGE


def test_users_lists_and_history(sim: PbsSim) -> None:
    template = sim.qsub("exit 0\n", "-N", "users_template")
    sim.wait_for(template)
    bob, carol = sim.copy_jobs(template, ["bob", "carol"], name="users")
    host = sim.qstat_json(template)["Jobs"][template]["Job_Owner"].partition("@")[2]
    assert select(sim, "-u", "bob") == []  # copies of a finished job: history only
    assert select(sim, "-x", "-u", "bob") == [bob]
    assert select(sim, "-x", "-u", "bob,carol") == [bob, carol]
    assert select(sim, "-x", "-u", f"carol@{host}") == [carol]
    assert select(sim, "-x", "-u", "carol@elsewhere") == []
    assert select(sim, "-x", "-u", "bob", "-u", "carol") == []  # each -u must hold


def test_mtime_moves_on_every_save_and_stops_in_history(own_sim: PbsSim) -> None:
    job = own_sim.qsub("sleep 2\n", "-h")
    marks = [own_sim.qstat_json(job)["Jobs"][job]["mtime"]]
    time.sleep(1.1)
    own_sim.run("qrls", job)
    own_sim.wait_for(job, state="R")
    marks.append(own_sim.qstat_json(job)["Jobs"][job]["mtime"])
    finished = own_sim.wait_for(job)
    time.sleep(1.1)
    assert own_sim.qstat_json(job)["Jobs"][job]["mtime"] == finished["mtime"]
    assert marks[0] != marks[1]
    started = time.mktime(time.strptime(marks[1]))
    assert job in select(own_sim, "-x", "-t", f"m.ge.{stamp(started)}")


def test_clock_offset_stamps_mtime_with_the_server_clock(own_sim: PbsSim) -> None:
    own_sim.configure(clock_offset=-600.0)
    job = own_sim.qsub("exit 0\n", "-h")
    assert job not in select(own_sim, "-t", f"m.ge.{stamp(time.time() - 300)}")
    assert job in select(own_sim, "-t", f"m.ge.{stamp(time.time() - 700)}")


def test_issue_2672_switch_and_request_counts(own_sim: PbsSim) -> None:
    first, second = own_sim.qsub("exit 0\n", "-h"), own_sim.qsub("exit 0\n", "-h")
    own_sim.configure(count_requests=True)
    assert set(own_sim.qstat_json(first, second)["Jobs"]) == {first, second}
    own_sim.configure(issue_2672=True)
    result = own_sim.run("qstat", "-f", "-F", "json", "-x", first, second)
    assert (result.returncode, result.stderr) == (0, "")
    assert list(loads_pbs_json(result.stdout)["Jobs"]) == [first]
    text = own_sim.run("qstat", "-f", first, second).stdout  # the text form is not affected
    assert f"Job Id: {second}" in text
    select(own_sim, "-u", current_user())
    assert [(r["command"], r["records"], r["ids"]) for r in own_sim.requests()] == [
        ("qstat", 2, 0), ("qstat", 1, 0), ("qstat", 2, 0), ("qselect", 0, 2)]
