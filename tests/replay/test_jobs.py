"""A timeline's job is what the PBS source would report, with defaults for what it omits."""

from __future__ import annotations

from watcher.replay.jobs import JobSpec


def test_defaults_follow_the_state() -> None:
    held = JobSpec(state="H").attributes("13.pbs", "alice")
    assert held == {
        "id": "13.pbs", "name": "STDIN", "owner": "alice", "queue": "workq", "state": "H",
        "substate": 20, "exit_status": None, "hold_types": "u", "comment": "", "run_count": 0,
        "depend": "", "submit_arguments": "", "stime": "", "obittime": "", "variables": {},
        "workdir": None,
        "resources": {}, "used": {}}
    assert JobSpec(state="R").attributes("1", "a")["hold_types"] == "n"
    assert JobSpec(state="R").attributes("1", "a")["substate"] == 42


def test_written_values_win_and_variables_are_text() -> None:
    job = JobSpec.model_validate({
        "state": "F", "substate": None, "exit_status": -29, "owner": "bob",
        "variables": {"N": 5, "FLAG": True, "PBS_O_WORKDIR": "/home/bob"}})
    attrs = job.attributes("12.pbs", "alice")
    assert (attrs["substate"], attrs["exit_status"], attrs["owner"]) == (None, -29, "bob")
    assert attrs["variables"] == {"N": "5", "FLAG": "true", "PBS_O_WORKDIR": "/home/bob"}
    assert attrs["workdir"] == "/home/bob"


def test_resources_and_used_as_the_source_reports_them() -> None:
    job = JobSpec.model_validate({"state": "F", "exit_status": -29,
                                  "resources": {"walltime": "01:00:00", "ncpus": 4},
                                  "used": {"walltime": "01:00:02"}})
    attrs = job.attributes("12.pbs", "alice")
    assert attrs["resources"] == {"walltime": "01:00:00", "ncpus": 4}
    assert attrs["used"] == {"walltime": "01:00:02"}
    running = JobSpec.model_validate({"state": "R", "used": {"walltime": "00:10:00"}})
    assert running.attributes("13.pbs", "alice")["used"] == {}
