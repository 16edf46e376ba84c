"""The quota source: the lfs parser on real `lfs quota` output, each kind against real
filesystems and real processes (a fake `lfs` printing a real sample), and the way from a poll
through the state layer to a fired rule."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.config import Settings
from watcher.engine.engine import Engine
from watcher.rules.loader import load_rule_text
from watcher.service.service import Service
from watcher.sources.quota import (
    QuotaError,
    QuotaSource,
    QuotaTarget,
    command_attributes,
    lfs_attributes,
    parse_lfs_quota,
)
from watcher.state.source import SourceState
from watcher.store.db import open_store

KIB = 1024
T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)

# ---- real samples (whitespace as published) ------------------------------------------------
# NIG supercomputer user guide, "FAQ (Change Storage Capacity)": `lfs quota -u <user> /lustre7`
# (re-joined where the page wrapped its lines).
NIG = """\
Disk quotas for usr your_account (uid ****):
      Filesystem  kbytes   quota   limit   grace   files   quota   limit   grace
        /lustre7 982177580       0 1000000000       - 443208230       0       0       -
uid **** is using default file quota setting
"""
# A Japanese lab's notes, `lfs quota -u username ./`, pasted without the trailing grace column.
NOTES = """\
Disk quotas for usr username (uid ****):
 Filesystem  kbytes   quota   limit   grace   files   quota   limit   grace
   ./    1840       0  1000000000     -      23       0       0
"""
# OzSTAR user docs, `lfs quota /fred`: bracketed values are inaccurate (lfs then exits non-zero).
OZSTAR = """\
Disk quotas for usr username (uid 1000):
     Filesystem    kbytes    quota   limit   grace   files   quota   limit   grace
          /fred [1041408]  5242880 6291456       -     [0]       0       0       -
"""
# Mila cluster, `lfs quota -h` as captured in a public repository's parser test.
MILA = """\
Disk quotas for usr normandf (uid 1471600598):
     Filesystem    used   quota   limit   grace   files   quota   limit   grace
     /home/mila  99.99G      0k    100G       -  921718       0 1048576       -
uid 1471600598 is using default block quota setting
uid 1471600598 is using default file quota setting
"""
# A university training guide: `lfs quota -h -u $USER ./` and `lfs quota -h -g sds184 ./`.
UIC_USER = """\
Disk quotas for usr xdtr108 (uid 514559):
     Filesystem    used   quota   limit   grace   files   quota   limit   grace
             ./  792.3M      0k  9.537T       -       9       0 2000000       -
"""
UIC_GROUP = """\
Disk quotas for grp sds184 (gid 11905):
     Filesystem    used   quota   limit   grace   files   quota   limit   grace
             ./   5.95G      0k     50T       -   60751       0       0       -
gid 11905 is using default file quota setting
"""
# Lustre Operations Manual, `lfs quota -u bob -v /mnt/testfs`: over the soft limits with the
# grace periods running (the per-target rows of -v follow; only the total counts).
MANUAL_OVER = """\
Disk quotas for user bob (uid 500):
Filesystem  kbytes  quota   limit   grace       files    quota   limit   grace
/mnt/testfs 30400*  30400   30900   6d23h49m12s 10101*  10000   11000   6d23h59m50s
testfs-MDT0000_UUID
"""
# A mount name longer than 15 characters, laid out with lfs.c's own format strings: the title,
# "%15s%8s %7s%8s%8s%8s %7s%8s%8s" headers, then print_quota's `printf("%s\\n%15s", mnt, "")`
# and " %7s%c %6s %7s %7s" for blocks and for files.
HEADER = "{:>15}{:>8} {:>7}{:>8}{:>8}{:>8} {:>7}{:>8}{:>8}".format(
    "Filesystem", "kbytes", "quota", "limit", "grace", "files", "quota", "limit", "grace")
WRAPPED = (
    f"Disk quotas for prj 11449 (pid 11449):\n{HEADER}\n/lus/eagle/projects/X\n{'':15}"
    + " {:>7}{} {:>6} {:>7} {:>7}".format("3435973837", " ", "3758096384", "4294967296", "-")
    + " {:>7}{} {:>6} {:>7} {:>7}\n".format("222800000", " ", "0", "250000000", "-")
)


def test_plain_kbytes_with_a_trailing_note() -> None:
    [row] = parse_lfs_quota(NIG)
    assert (row.filesystem, row.owner) == ("/lustre7", "usr your_account")
    attrs = lfs_attributes("/lustre7", NIG, 0)
    assert attrs["used_bytes"] == 982177580 * KIB
    assert attrs["limit_bytes"] == 1000000000 * KIB  # soft 0 means no soft limit
    assert (attrs["used_percent"], attrs["over_limit"]) == (98.2, False)
    assert (attrs["files"], attrs["files_limit"], attrs["files_percent"]) == \
        (443208230, None, None)


def test_a_missing_grace_column_is_tolerated() -> None:
    [row] = parse_lfs_quota(NOTES)
    assert (row.used.number, row.files.number, row.grace, row.files_grace) == (1840, 23, None,
                                                                                None)


def test_brackets_mark_inaccurate_values_which_are_still_used() -> None:
    attrs = lfs_attributes("/fred", OZSTAR, 1)
    assert attrs["inaccurate"] is True
    assert attrs["used_bytes"] == 1041408 * KIB and attrs["limit_bytes"] == 5242880 * KIB
    assert attrs["used_percent"] == 19.8


@pytest.mark.parametrize(("text", "used", "limit", "percent"), [
    (MILA, round(99.99 * 2**20), 100 * 2**20, 99.9),
    (UIC_USER, round(792.3 * 2**10), round(9.537 * 2**30), 0.0),
    (UIC_GROUP, round(5.95 * 2**20), 50 * 2**30, 0.0),
])
def test_human_readable_units_are_powers_of_1024_kib(text: str, used: int, limit: int,
                                                     percent: float) -> None:
    attrs = lfs_attributes("/p", text, 0)
    assert attrs["used_bytes"] == used * KIB and attrs["limit_bytes"] == limit * KIB
    assert attrs["used_percent"] == percent and attrs["inaccurate"] is False


def test_the_star_marks_over_quota_and_grace_is_kept() -> None:
    [row] = parse_lfs_quota(MANUAL_OVER)
    assert (row.used.stars, row.files.stars, row.grace) == (1, 1, "6d23h49m12s")
    attrs = lfs_attributes("/mnt/testfs", MANUAL_OVER, 0)
    assert attrs["over_limit"] is True and attrs["grace"] == "6d23h49m12s"
    assert attrs["limit_bytes"] == 30400 * KIB  # the lower of soft and hard
    assert attrs["files_percent"] == 101.0


def test_a_single_star_on_a_failed_run_is_not_trusted() -> None:
    # lfs appends '*' on EREMOTEIO too; then only the numbers say whether it is over.
    text = MANUAL_OVER.replace("30400*  30400   30900", "20000*  30400   30900") \
        .replace("10101*", "9000 ")
    assert lfs_attributes("/mnt/testfs", text, 1)["over_limit"] is False
    assert lfs_attributes("/mnt/testfs", text, 0)["over_limit"] is True


def test_a_long_mount_name_wraps_onto_its_own_line() -> None:
    [row] = parse_lfs_quota(WRAPPED)
    assert (row.filesystem, row.owner) == ("/lus/eagle/projects/X", "prj 11449")
    attrs = lfs_attributes("/lus/eagle/projects/X", WRAPPED, 0)
    assert attrs["used_percent"] == 91.4 and attrs["files_percent"] == 89.1


@pytest.mark.parametrize(("text", "message"), [
    ("", "printed no quota row"),
    ("lfs quota: /home/x not on a mounted Lustre filesystem\n", "printed no quota row"),
    ("Disk quotas for usr a (uid 1):\n Filesystem kbytes quota limit grace files quota limit "
     "grace\n /x 1 2\n", "expected 6 numbers"),
    ("Disk quotas for usr a (uid 1):\n Filesystem kbytes\n /x 1 2 3 - 4 5 6 - extra\n",
     "unexpected 'extra'"),
    ("Disk quotas for usr a (uid 1):\n Filesystem used\n /x 1k 2k 3k - 4k 5 6 -\n",
     "file count with a unit"),
])
def test_unreadable_output_is_an_error_that_says_why(text: str, message: str) -> None:
    with pytest.raises(QuotaError, match=message):
        lfs_attributes("/x", text, 0)


@pytest.mark.parametrize(("doc", "percent", "over"), [
    ({"used_bytes": 950, "limit_bytes": 1000}, 95.0, False),
    ({"used_bytes": 1000, "limit_bytes": 1000}, 100.0, True),
    ({"used_percent": 89.99}, 89.9, False),
    ({"used_percent": 12, "over_limit": True}, 12.0, True),
])
def test_command_json(doc: dict, percent: float, over: bool) -> None:
    attrs = command_attributes("/p", json.dumps(doc))
    assert (attrs["used_percent"], attrs["over_limit"]) == (percent, over)


@pytest.mark.parametrize(("stdout", "message"), [
    ("hello", "did not print JSON"),
    ("[1, 2]", "not an object"),
    ('{"used_bytes": 5}', "needs 'used_bytes' and 'limit_bytes'"),
    ('{"used_bytes": -5, "limit_bytes": 10}', "'used_bytes' must be a whole number"),
    ('{"used_percent": "90"}', "'used_percent' must be a number"),
])
def test_bad_command_json(stdout: str, message: str) -> None:
    with pytest.raises(QuotaError, match=message):
        command_attributes("/p", stdout)


@pytest.mark.parametrize(("raw", "message"), [
    ({"path": "/x", "kind": "command"}, "needs 'argv'"),
    ({"path": "/x", "argv": ["df"]}, "runs no command"),
    ({"path": "/x", "kind": "command", "argv": ["c"], "user": "a"}, "'user' is only for"),
])
def test_target_config_mistakes(raw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QuotaTarget.model_validate(raw)


# ---- against the real world --------------------------------------------------------------------
def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _poll(*targets: QuotaTarget, timeout: float = 10.0):
    return asyncio.run(QuotaSource(list(targets), timeout=timeout, now=lambda: T0).poll())


def test_statvfs_reports_the_filesystem_like_df(tmp_path: Path) -> None:
    obs = _poll(QuotaTarget(path=str(tmp_path) + "/"))
    attrs = obs.subjects[str(tmp_path)]
    st = os.statvfs(tmp_path)
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    assert obs.ok and attrs["kind"] == "statvfs" and attrs["path"] == str(tmp_path)
    # Other processes write meanwhile: compare loosely with a second look.
    assert abs(attrs["used_bytes"] - used) < 2**30
    assert abs(attrs["limit_bytes"] - (used + st.f_bavail * st.f_frsize)) < 2**30
    assert 0 <= attrs["used_percent"] <= 100 and attrs["over_limit"] is (st.f_bavail == 0)


def test_fake_lfs_gets_an_argument_list_and_its_real_output_is_parsed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sample.txt").write_text(MANUAL_OVER)
    _script(bin_dir / "lfs", "import pathlib, sys\nhere = pathlib.Path(sys.argv[0]).parent\n"
            "(here / 'args').write_text(repr(sys.argv[1:]))\n"
            "print((here / 'sample.txt').read_text(), end='')\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    obs = _poll(QuotaTarget(path="/mnt/test fs", kind="lfs", user="bob"))
    assert (bin_dir / "args").read_text() == repr(["quota", "-u", "bob", "/mnt/test fs"])
    assert obs.ok and obs.subjects["/mnt/test fs"]["over_limit"] is True


def test_one_broken_path_does_not_blind_the_others(tmp_path: Path) -> None:
    good = _script(tmp_path / "good", 'print(\'{"used_percent": 50}\')\n')
    bad = _script(tmp_path / "bad", "import sys\nsys.exit('quota server down')\n")
    slow = _script(tmp_path / "slow", "import time\ntime.sleep(30)\n")
    obs = _poll(QuotaTarget(path="/a", kind="command", argv=[str(good)]),
                QuotaTarget(path="/b", kind="command", argv=[str(bad)]),
                QuotaTarget(path="/c", kind="command", argv=[str(slow)]),
                QuotaTarget(path=str(tmp_path / "missing")), timeout=1.0)
    assert obs.ok and set(obs.subjects) == {"/a"}
    assert obs.unreadable == {"/b", "/c", str(tmp_path / "missing")}
    errors = obs.detail["errors"]
    assert "quota server down" in errors["/b"] and "timed out" in errors["/c"]
    assert "statvfs failed" in errors[str(tmp_path / "missing")]


def test_no_path_readable_is_a_failed_poll() -> None:
    obs = _poll(QuotaTarget(path="/x", kind="command", argv=["/nonexistent/quota-tool"]))
    assert not obs.ok and "cannot run /nonexistent/quota-tool" in obs.error


def test_a_crossing_flows_from_poll_to_a_fired_rule(tmp_path: Path) -> None:
    """The real path: poll, diff against the stored snapshot, engine; one firing per entry."""
    usage = tmp_path / "usage.json"
    tool = _script(tmp_path / "usage", f"print(open({str(usage)!r}).read())\n")
    target = QuotaTarget(path="/proj", kind="command", argv=[str(tool)])
    ruleset = load_rule_text("""
rules:
  - name: nearly-full
    when: {quota: {path: /proj, used_percent: ">= 90"}}
    do: [{qhold: {job: "1.srv"}}]
""", "q.yaml")
    engine = Engine(ruleset.rules)
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    fired = []
    try:
        with store.session() as session:
            memory = SourceState("quota", "quota", session)
        for used in (500, 800, 800, 905, 950, 700, 990):
            usage.write_text(json.dumps({"used_bytes": used, "limit_bytes": 1000}))
            obs = _poll(target)
            with store.session() as session:
                events = memory.apply(session, obs, down_after=3, now=T0)
                reports = engine.process(session, events, T0)
            fired.append((len(events), [r.rule for r in reports if r.actions]))
    finally:
        store.close()
    # An unchanged percentage is no event; entering >= 90 fires, staying above does not.
    assert fired == [(1, []), (1, []), (0, []), (1, ["nearly-full"]), (1, []), (1, []),
                     (1, ["nearly-full"])]


def test_paced_at_its_own_interval_however_often_the_loop_asks(tmp_path: Path) -> None:
    settings = Settings.model_validate({"quota": {"poll_interval": 300, "paths": [
        {"path": str(tmp_path)}]}})
    assert settings.quota.source().interval == 300
    clock = [1000.0]
    source = QuotaSource(settings.quota.paths, interval=300, clock=lambda: clock[0])
    assert source.due()
    asyncio.run(source.poll())
    clock[0] += 299
    assert not source.due()
    clock[0] += 1
    assert source.due()


def test_the_service_polls_configured_paths_and_fires_quota_rules(tmp_path: Path) -> None:
    usage = tmp_path / "usage.json"
    usage.write_text(json.dumps({"used_percent": 40}))
    tool = _script(tmp_path / "usage", f"print(open({str(usage)!r}).read())\n")
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "q.yaml").write_text("""
rules:
  - name: nearly-full
    when: {quota: {path: /proj, used_percent: ">= 90"}}
    do: [{qhold: {job: "1.srv"}}]
""")
    settings = Settings.model_validate({
        "store": {"url": f"sqlite:///{tmp_path / 'w.db'}"},
        "globus": {"enabled": False},
        "quota": {"poll_interval": 0.01,
                  "paths": [{"path": "/proj", "kind": "command", "argv": [str(tool)]}]}})
    store = open_store(settings.store.url)
    try:
        service = Service(settings, store, [rules_dir])
        [source] = [s for s in service.sources if isinstance(s, QuotaSource)]
        assert asyncio.run(service.poll(source)) == []
        usage.write_text(json.dumps({"used_percent": 93.5}))
        while not source.due():  # 10 ms
            time.sleep(0.005)
        reports = asyncio.run(service.poll(source))
    finally:
        store.close()
    assert [(r.rule, r.subject) for r in reports if r.actions] == [("nearly-full", "/proj")]
