"""Reading what qstat (or qdel, qrls...) writes to stderr.

qstat answers for many ids at once: the jobs it found go to stdout as JSON, and each id it could
not show gets a stderr line. Those lines say two different things that must not be confused:
"Unknown Job Id" (the server does not know the id: an answer) and "cannot connect to server"
(no answer at all, which must never be read as "every job vanished").

Texts, as real PBS versions print them (../fixtures/pbs/cli_error_outputs_from_public_issues.txt):
    qstat: Unknown Job Id 412635.polaris-pbs-01
    qstat: 5487654.polaris-pbs-01 Job has finished, use -x or -H to obtain historical job ...
    qdel: Job has finished 5487654.polaris-pbs-01
    Connection refused / qstat: cannot connect to server pbs (errno=111)   (15010 on 2022.x)
    Unknown Host. / qstat: cannot connect to server dummy (errno=15008)
    Connection timed out
    qdel: Couldn't connect to cluster: pbs                                  (newer versions)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_UNKNOWN = re.compile(r"Unknown Job Id(?: Error)?\s+(\S+)", re.I)
_FINISHED_ID_FIRST = re.compile(r"^\S+:\s+(\S+)\s+Job has finished", re.I)
_FINISHED_ID_LAST = re.compile(r"Job has finished\s+(\S+)\s*$", re.I)
_UNREACHABLE = re.compile(
    r"connection refused|cannot connect to (?:server|host)|couldn't connect to cluster"
    r"|unknown host|timed out|no route to host|network is unreachable",
    re.I,
)


@dataclass(frozen=True)
class StderrInfo:
    """What a PBS command's stderr said, sorted by meaning.

    `unknown_ids`: the server positively does not know these ids. `finished_ids`: these jobs
    ended and only history (`-x`) shows them. `unreachable`: no server answered (refused,
    unknown host, timeout). `other`: every line not understood, for logs and error texts.
    """

    unknown_ids: set[str] = field(default_factory=set)
    finished_ids: set[str] = field(default_factory=set)
    unreachable: bool = False
    other: list[str] = field(default_factory=list)


def parse_qstat_stderr(text: str) -> StderrInfo:
    """Sort stderr lines into unknown ids, finished ids, unreachable server and the rest."""
    unknown: set[str] = set()
    finished: set[str] = set()
    unreachable = False
    other: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if m := _UNKNOWN.search(line):
            unknown.add(m[1])
        elif m := _FINISHED_ID_FIRST.search(line) or _FINISHED_ID_LAST.search(line):
            finished.add(m[1])
        elif _UNREACHABLE.search(line):
            unreachable = True
        else:
            other.append(line)
    return StderrInfo(unknown, finished, unreachable, other)


# PBS error numbers arrive as exit codes modulo 256 (pbs_error.h): `qdel` of a job the server
# does not know, or of one that has already finished, leaves nothing to delete.
UNKNOWN_JOB_EXIT = 153  # PBSE_UNKJOBID 15001
FINISHED_JOB_EXIT = 35  # PBSE_HISTJOBID 15139
