"""Accounting records: the PBS line format and the keys of real E records."""

from __future__ import annotations

import re
from pathlib import Path

from watcher.sim.pbs.testing import PbsSim

SAMPLE = (Path(__file__).parent / "samples" / "accounting_log_samples.txt").read_text()
LINE = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2};[QSEDAR];[^;]+;.*$")
# Keys of resources the simulated job did not request, or that need site settings.
NOT_REQUESTED = {"account", "Resource_List.mem", "Resource_List.mps", "Resource_List.ngpus",
             "Resource_List.higher", "Resource_List.hwlic", "Resource_List.hwlimit",
             "Resource_List.mpiprocs", "Resource_List.software", "eligible_time"}


def _keys(record: str) -> list[str]:
    return [field.split("=", 1)[0] for field in record.split(";", 3)[3].split(" ")]


def test_records_have_the_pbs_format_and_real_e_keys(sim: PbsSim, tmp_path: Path) -> None:
    job_id = sim.qsub("exit 0\n", "-N", "qcmd", "-l", "walltime=01:00:00", cwd=tmp_path)
    sim.wait_for(job_id)
    mine = [line for line in sim.accounting_lines() if f";{job_id};" in line]
    assert [line.split(";")[1] for line in mine] == ["Q", "S", "E"]
    assert all(LINE.match(line) for line in mine)
    assert mine[0].endswith(";queue=workq")
    real = [line for line in SAMPLE.splitlines() if LINE.match(line) and ";E;" in line]
    assert real
    for record in real:
        expected = [k for k in _keys(record) if k not in NOT_REQUESTED]
        simulated = [k for k in _keys(mine[2]) if k in expected]
        assert simulated == expected
    assert "Exit_status=0" in mine[2] and "resources_used.walltime=" in mine[2]
