"""What qstat shows for a job: attribute order, -f text wrapping, the plain table row."""

from __future__ import annotations

from watcher.sim.pbs import render
from watcher.sim.pbs.model import Job


def _job(**attrs: object) -> Job:
    base = {"Job_Name": "hello_pbs", "Job_Owner": "fireuser@pbs", "queue": "workq",
            "server": "pbs", "ctime": 0, "Resource_List": {"ncpus": "1"},
            "Variable_List": [["PBS_O_HOME", "/home/fireuser"], ["A", "x,y"]]}
    base.update(attrs)
    return Job(1004, "Q", 10, base)


def test_attributes_follow_the_server_order() -> None:
    names = [name for name, _ in render.attributes(_job(comment="c"), 0)]
    assert names == ["Job_Name", "Job_Owner", "job_state", "queue", "server", "ctime",
                     "Resource_List", "substate", "Variable_List", "comment"]


def test_table_row_matches_qstat_columns() -> None:
    row = render.table_row(_job())
    assert row == ("1004.pbs          hello_pbs        fireuser                 0 Q "
                   "workq           \n")
    long = render.table_row(_job(Job_Name="abcdefghijklmnop", server="a.b.c"))
    assert long.startswith("1004.a            abcdefghijklmno* ")


def test_full_text_wraps_long_values_at_commas() -> None:
    variables = [[f"V{i}", f"/opt/very/long/path/number/{i}"] for i in range(4)]
    text = render.full_text(_job(Variable_List=variables), 0)
    assert text.startswith("Job Id: 1004.pbs\n    Job_Name = hello_pbs\n")
    assert ("    Variable_List = V0=/opt/very/long/path/number/0,\n"
            "\tV1=/opt/very/long/path/number/1,V2=/opt/very/long/path/number/2,\n"
            "\tV3=/opt/very/long/path/number/3\n") in text
    assert text.endswith("\n\n")
    assert "    Resource_List.ncpus = 1\n" in text
