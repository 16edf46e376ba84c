"""`qselect`: the ids of the jobs matching the criteria, one a line; nothing (exit 0) if none.

Follows OpenPBS src/cmds/qselect.c (client) and src/server/req_select.c (server):

- Every option adds one criterion and all of them must hold, so a repeated `-t` brackets a
  window (`-tm.gt.<t1> -tm.lt.<t2>`); a repeated `-s` or `-N` must hold each time too.
- `-t <c>[.<op>.]<time>`: c is a (Execution_Time), c (ctime), e (etime), g (eligible_time),
  m (mtime), q (qtime), s (stime) or t (estimated.start_time); op one of eq ne ge gt le lt
  (check_op(): anything else, or none, is eq). The time is converted on the client by
  cvtdate() and compared on the server as a number with the job's attribute: an unset time
  attribute compares as 0, an unset resource (estimated.start_time) as "less than" (sel_attr).
  `g` is a duration but qselect still converts a date for it, as the real one does.
- `-u user[@host],...`: acl_check() on Job_Owner; `-x` includes history jobs (F, M), without
  it they are skipped (select_job()); `-H` is `-x` plus state F or M.
- `-s` with a list of state letters is "state in list" (comp_state), `.ne.` negates it.
- Arrays: by default jobs and arrays (`N[]`) are listed, never subjobs; `-J` lists arrays
  only, `-T` jobs and subjobs (`N[i]`) instead of arrays (qselect(1B)). A finished subjob (X)
  is history, listed with `-x` only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from watcher.sim.pbs import messages, model, requests
from watcher.sim.pbs.cmdline import getopt
from watcher.sim.pbs.context import Context
from watcher.sim.pbs.cvtdate import cvtdate
from watcher.sim.pbs.model import Job

OPTSTRING = "a:A:c:h:HJl:N:p:q:r:s:t:Tu:xP:"
_SUPPORTED = set("aAHJNPqsTtux")
_OPS = ("eq", "ne", "ge", "gt", "le", "lt")
# -t sub-options (get_tsubopt()): the job attribute each one compares.
TIME_OPTIONS = {"a": "Execution_Time", "c": "ctime", "e": "etime", "g": "eligible_time",
                "m": "mtime", "q": "qtime", "s": "stime", "t": "estimated.start_time"}

Criterion = Callable[[Job], bool]


def run(ctx: Context, argv: list[str]) -> int:
    """`qselect`: prints matching ids; an option outside `_SUPPORTED` is refused by name."""
    parsed = getopt(argv, OPTSTRING)
    if parsed.errors or parsed.operands:
        ctx.err.write(messages.QSELECT_USAGE)
        return 2
    odd = sorted({k for k, _ in parsed.options} - _SUPPORTED)
    if odd:
        ctx.err.write(messages.unsupported("qselect", f"option -{odd[0]}"))
        return 2
    criteria, history, bad = _criteria(parsed.options, ctx.now)
    if bad:
        for letter in bad:
            ctx.err.write(f"qselect: illegal -{letter} value\n")
        ctx.err.write(messages.QSELECT_USAGE)
        return 2
    if not ctx.connect():
        return messages.ECONNREFUSED
    letters = {k for k, _ in parsed.options}
    kinds = ("array",) if "J" in letters else ("job", "subjob") if "T" in letters else (
        "job", "array")
    jobs = model.load_where(ctx.conn, *_prefilter(parsed.options, history))
    chosen = [job.jobid for job in jobs
              if job.kind in kinds and all(test(job) for test in criteria)]
    ctx.out.write("".join(f"{jobid}\n" for jobid in chosen))
    requests.count(ctx, "qselect", ids=len(chosen), records=0)
    return 0


def _prefilter(options: list[tuple[str, str]], history: bool) -> tuple[str, tuple[str, ...]]:
    """A cheap SQL cut before the exact tests: history, and the owner of the first `-u` list
    (a facility's 50,000 jobs need not all be decoded to list one user's 200)."""
    where, params = ["1" if history else "state NOT IN ('F', 'M', 'X')"], []
    users = next((value for letter, value in options if letter == "u"), None)
    if users is not None:
        prefixes = [u.partition("@")[0] + "@" for u in users.split(",") if u]
        owner = "substr(json_extract(attrs, '$.Job_Owner'), 1, length(?)) = ?"
        where.append("(" + " OR ".join([owner] * len(prefixes)) + ")" if prefixes else "0")
        params += [p for prefix in prefixes for p in (prefix, prefix)]
    return " AND ".join(where), tuple(params)


def _criteria(options: list[tuple[str, str]], now: float
              ) -> tuple[list[Criterion], bool, list[str]]:
    criteria: list[Criterion] = []
    history, bad = False, []
    for letter, value in options:
        if letter == "x":
            history = True
        elif letter == "H":
            history = True
            criteria.append(_state_test("FMX", "eq"))
        elif letter == "s":
            op, states = check_op(value)
            criteria.append(_state_test(states, op))
        elif letter == "u":
            users = [u for u in value.split(",") if u]
            criteria.append(lambda job, users=users: _owner_matches(job, users))
        elif letter in "NAPq":
            attr = {"N": "Job_Name", "A": "Account_Name", "P": "project", "q": "queue"}[letter]
            wanted = value.split("@")[0] if letter == "q" else value
            criteria.append(lambda job, a=attr, w=wanted: (not w and a == "queue")
                            or str(job.attrs.get(a, "")) == w)
        elif letter in "at":
            test = _time_test(letter, value, now)
            if test is None:
                bad.append(letter)
            else:
                criteria.append(test)
    return criteria, history, bad


def check_op(optarg: str) -> tuple[str, str]:
    """check_op(): `.gt.value` -> ("gt", "value"); no or unknown operator is eq. The value
    starts four characters in whenever the argument starts with a dot, as in the C code."""
    if optarg.startswith("."):
        op = optarg[1:3]
        return (op if op in _OPS else "eq"), optarg[4:]
    return "eq", optarg


def _time_test(letter: str, value: str, now: float) -> Criterion | None:
    if letter == "t":
        attr = TIME_OPTIONS.get(value[:1])
        if attr is None:
            return None
        value = value[1:]
    else:
        attr = "Execution_Time"
    op, date = check_op(value)
    when = cvtdate(date, now)
    if when is None:
        return None
    resource = attr.startswith("estimated.")

    def test(job: Job) -> bool:
        current = _time_value(job, attr)
        # Unset: 0 for an attribute, "less than" for a resource (sel_attr()).
        unset = -1 if resource else _compare(0, when)
        return compare_op(unset if current is None else _compare(current, when), op)

    return test


def _time_value(job: Job, attr: str) -> int | None:
    if attr.startswith("estimated."):
        value: Any = (job.attrs.get("estimated") or {}).get(attr.split(".", 1)[1])
    else:
        value = job.attrs.get(attr)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _compare(a: int, b: int) -> int:
    return (a > b) - (a < b)


def compare_op(rc: int, op: str) -> bool:
    """sel_attr(): the comparison result (-1, 0, 1) against the selection operator."""
    if rc < 0:
        return op in ("ne", "lt", "le")
    if rc > 0:
        return op in ("ne", "gt", "ge")
    return op in ("eq", "ge", "le")


def _state_test(states: str, op: str) -> Criterion:
    return lambda job: compare_op(0 if job.shown_state in states else 1, op)


def _owner_matches(job: Job, users: list[str]) -> bool:
    """acl_check(ACL_User) on `user@host`: the name must match, and the host when given
    (a leading `*` matches any prefix of the host, as in PBS ACLs)."""
    name, _, host = job.attrs["Job_Owner"].partition("@")
    for entry in users:
        want_name, at, want_host = entry.partition("@")
        if want_name != name:
            continue
        if not at or want_host == host or (want_host.startswith("*")
                                           and host.endswith(want_host[1:])):
            return True
    return False
