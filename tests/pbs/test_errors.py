"""`parse_qstat_stderr` on the stderr texts real PBS versions print."""

from __future__ import annotations

import pytest

from watcher.pbs.errors import StderrInfo, parse_qstat_stderr


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        ("", StderrInfo()),
        (
            "qstat: Unknown Job Id xxx.gadi-pbs\n",
            StderrInfo(unknown_ids={"xxx.gadi-pbs"}),
        ),
        (
            "qstat: Unknown Job Id 2001.g3\nqstat: Unknown Job Id 2002.g3\n",
            StderrInfo(unknown_ids={"2001.g3", "2002.g3"}),
        ),
        (
            "qstat: 5487654.polaris-pbs-01.hsn.cm.polaris.alcf.anl.gov Job has finished, use -x"
            " or -H to obtain historical job information\n",
            StderrInfo(finished_ids={"5487654.polaris-pbs-01.hsn.cm.polaris.alcf.anl.gov"}),
        ),
        ("qdel: Job has finished 12.pbs\n", StderrInfo(finished_ids={"12.pbs"})),
        ("qdel: Unknown Job Id 13.pbs\n", StderrInfo(unknown_ids={"13.pbs"})),
        (
            "Connection refused\nqstat: cannot connect to server localhost (errno=111)\n",
            StderrInfo(unreachable=True),
        ),
        (
            "Connection refused\nqstat: cannot connect to server localhost (errno=15010)\n",
            StderrInfo(unreachable=True),
        ),
        (
            "Unknown Host.\nqstat: cannot connect to server dummy (errno=15008)\n",
            StderrInfo(unreachable=True),
        ),
        (
            "Connection timed out\nqstat: cannot connect to server google.com (errno=15010)\n",
            StderrInfo(unreachable=True),
        ),
        ("qdel: Couldn't connect to cluster: pbs\n", StderrInfo(unreachable=True)),
        ("/opt/pbs/bin/qstat timed out after 60s", StderrInfo(unreachable=True)),
        (
            "qstat: illegal -F value\nusage: qstat [-f] ...\n",
            StderrInfo(other=["qstat: illegal -F value", "usage: qstat [-f] ..."]),
        ),
    ],
)
def test_stderr_lines_are_sorted_by_meaning(stderr: str, expected: StderrInfo) -> None:
    assert parse_qstat_stderr(stderr) == expected


def test_a_mixed_answer_keeps_every_part() -> None:
    info = parse_qstat_stderr(
        "qstat: Unknown Job Id 9.pbs\r\n\n  qstat: 8.pbs Job has finished, use -x or -H to obtain"
        " historical job information\nsomething new\n"
    )
    assert info == StderrInfo({"9.pbs"}, {"8.pbs"}, False, ["something new"])
