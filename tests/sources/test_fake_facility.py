"""The qselect source against an independent fake PBS of facility size (not the simulator).

The fake is a small Python program written here from qselect(1B) and the qstat JSON layout of
the shared fixtures, with none of the simulator's code: 50,000 jobs of 200 users, the watching
user owning 20 queued and 200 finished ones, all last modified two days ago. Its `qselect`
knows `-x`, `-u` and `-t m.<op>.CCYYMMDDhhmm.SS`; its `qstat -f -F json -x` prints the whole
listing without ids and only the named jobs with ids ("Unknown Job Id" for the others). Each
call logs the bytes it printed. An idle cycle must read under 1 % of one full listing, and a
change to one of the user's jobs must still fire its rule.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
import time
from pathlib import Path

from watcher.config import PbsSettings, Settings, StoreSettings
from watcher.service.service import Service
from watcher.store.db import open_store

JOBS, USERS, ACTIVE, FINISHED = 50_000, 200, 20, 200
SERVER = "fac01"

FAKE = r'''
import json, os, sys, time
HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPS = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "ge": lambda a, b: a >= b,
       "gt": lambda a, b: a > b, "le": lambda a, b: a <= b, "lt": lambda a, b: a < b}

def log(command, text):
    with open(os.path.join(HOME, "bytes.log"), "a") as f:
        f.write(f"{command} {len(text.encode())}\n")

def index():
    with open(os.path.join(HOME, "index.tsv")) as f:
        return [line.rstrip("\n").split("\t") for line in f]

def qselect(args):
    history, user, tests = False, None, []
    while args:
        flag = args.pop(0)
        if flag == "-x":
            history = True
        elif flag == "-u":
            user = args.pop(0)
        elif flag == "-t":
            spec = args.pop(0)
            attr, op, when = spec[0], spec[2:4], spec[5:]
            if attr != "m" or op not in OPS or len(when) != 15:
                sys.stderr.write("qselect: illegal -t value\n")
                return 2
            moment = time.mktime(time.strptime(when, "%Y%m%d%H%M.%S"))
            tests.append((OPS[op], moment))
        else:
            sys.stderr.write(f"fake qselect: {flag} not supported\n")
            return 2
    out = []
    for job_id, owner, state, mtime in index():
        if state == "F" and not history:
            continue
        if user and owner.split("@")[0] != user:
            continue
        if all(op(int(mtime), moment) for op, moment in tests):
            out.append(job_id + "\n")
    text = "".join(out)
    sys.stdout.write(text)
    log("qselect", text)
    return 0

def qstat(args):
    ids = [a for a in args if not a.startswith("-") and a != "json"]
    if not ids:
        with open(os.path.join(HOME, "listing.json")) as f:
            text = f.read()
        sys.stdout.write(text)
        log("qstat", text)
        return 0
    wanted, found = set(ids), {}
    with open(os.path.join(HOME, "records.jsonl")) as f:
        for line in f:
            job_id, _, record = line.partition("\t")
            if job_id in wanted:
                found[job_id] = record.rstrip("\n")
    body = ",\n".join(f'        "{j}": {found[j]}' for j in ids if j in found)
    text = ('{\n    "timestamp": %d,\n    "pbs_version": "2022.1.3",\n    "pbs_server": "fac01"'
            % time.time()) + (',\n    "Jobs": {\n' + body + "\n    }" if found else "") + "\n}\n"
    errors = "".join(f"qstat: Unknown Job Id {j}\n" for j in ids if j not in found)
    sys.stdout.write(text)
    sys.stderr.write(errors)
    log("qstat", text + errors)
    return 153 if errors else 0

def qhold(args):
    with open(os.path.join(HOME, "qhold.log"), "a") as f:
        f.write(" ".join(args) + "\n")
    return 0

sys.exit({"qselect": qselect, "qstat": qstat, "qhold": qhold}[COMMAND](sys.argv[1:]))
'''

RULE = """\
rules:
  - name: running
    when: {pbs_job: {owner: me, state: R}}
    do: [{qhold: {job: "{{ job.id }}"}}]
"""


def record(job_id: str, owner: str, state: str, mtime: int) -> str:
    """One job as qstat -f -F json prints it (compact: the fake's listing stays ~25 MB)."""
    when = time.ctime(mtime)
    attrs = {
        "Job_Name": f"job{job_id.partition('.')[0]}", "Job_Owner": f"{owner}@login1",
        "job_state": state, "queue": "workq", "server": SERVER, "ctime": when, "mtime": when,
        "qtime": when, "Hold_Types": "n", "Priority": 0,
        "Resource_List": {"ncpus": 1, "nodect": 1, "select": "1:ncpus=1",
                          "walltime": "01:00:00"},
        "substate": 92 if state == "F" else 10,
        "Variable_List": {"PBS_O_HOME": f"/home/{owner}", "PBS_O_WORKDIR": f"/home/{owner}/run"},
        "Submit_arguments": "-l walltime=01:00:00 run.sh", "project": "_pbs_project_default",
    }
    if state == "F":
        attrs |= {"Exit_status": 0, "comment": "Job run at Mon Nov 30 at 10:00 on (n1:ncpus=1)"
                                               " and finished", "run_count": 1}
    return json.dumps(attrs)


def build(home: Path, me: str) -> tuple[int, list[str]]:
    """The fake's files; returns the full listing's size and the user's queued job ids."""
    (home / "bin").mkdir(parents=True)
    program = home / "bin" / "fakepbs.py"
    program.write_text(FAKE)
    for command in ("qselect", "qstat", "qhold"):
        shim = home / "bin" / command
        shim.write_text(f"#!{sys.executable}\nimport runpy\nrunpy.run_path({str(program)!r}, "
                        f"init_globals={{'COMMAND': {command!r}}}, run_name='__main__')\n")
        shim.chmod(0o755)
    old = int(time.time()) - 2 * 86_400
    rows, mine = [], []
    for seq in range(JOBS):
        if seq < ACTIVE + FINISHED:
            owner, state = me, "Q" if seq < ACTIVE else "F"
        else:
            owner, state = f"user{seq % (USERS - 1):03d}", "F" if seq % 5 else "Q"
        job_id = f"{seq}.{SERVER}"
        rows.append((job_id, owner, state, old))
        if owner == me and state == "Q":
            mine.append(job_id)
    return write(home, rows), mine


def write(home: Path, rows: list[tuple[str, str, str, int]]) -> int:
    records = [(job_id, record(job_id, owner, state, mtime))
               for job_id, owner, state, mtime in rows]
    (home / "index.tsv").write_text("".join(f"{j}\t{o}@login1\t{s}\t{m}\n"
                                            for j, o, s, m in rows))
    (home / "records.jsonl").write_text("".join(f"{j}\t{r}\n" for j, r in records))
    listing = ('{\n    "timestamp": 1,\n    "pbs_version": "2022.1.3",\n    "pbs_server": '
               f'"{SERVER}",\n    "Jobs": {{\n'
               + ",\n".join(f'        "{j}": {r}' for j, r in records) + "\n    }\n}\n")
    (home / "listing.json").write_text(listing)
    return len(listing.encode())


def read_bytes(home: Path) -> list[tuple[str, int]]:
    path = home / "bytes.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return [(name, int(size)) for name, size in (line.split() for line in lines)]


def test_an_idle_cycle_reads_under_one_percent_and_a_change_still_fires(tmp_path: Path
                                                                        ) -> None:
    me = getpass.getuser()
    home = tmp_path / "fakepbs"
    full, mine = build(home, me)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text(RULE)
    settings = Settings(pbs=PbsSettings(bin_dir=home / "bin", poll_interval=1,
                                        min_poll_interval=0, clock_skew_margin=30),
                        store=StoreSettings(url=f"sqlite:///{tmp_path / 'w.db'}"))
    store = open_store(settings.store.url)
    try:
        service = Service(settings, store, [rules])
        asyncio.run(service.cycle())  # the first cycle reads the user's 220 jobs by id
        first = sum(size for _, size in read_bytes(home))
        asyncio.run(service.cycle())
        idle = read_bytes(home)[len(read_bytes(home)) - 2:]
        assert [name for name, _ in idle] == ["qselect", "qselect"]
        assert sum(size for _, size in idle) < full / 100
        assert first < full / 100
        rows = [line.split("\t") for line in (home / "index.tsv").read_text().splitlines()]
        changed = [(j, o.split("@")[0], "R" if j == mine[3] else s, int(m) if j != mine[3]
                    else int(time.time())) for j, o, s, m in rows]
        write(home, changed)
        reports = asyncio.run(service.cycle())
    finally:
        store.close()
    assert [r.subject for r in reports if r.actions] == [mine[3]]
    assert (home / "qhold.log").read_text().split() == ["-h", "u", mine[3]]
