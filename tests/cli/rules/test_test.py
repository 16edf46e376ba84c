"""`watcher rules test` replays a timeline and says what would fire, when and why."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from watcher.cli import cli

TIMELINES = Path(__file__).parents[2] / "testdata" / "timelines"
RULES = TIMELINES / "rules.yaml"
EXAMPLES = Path(__file__).parents[3] / "rules"


def rules_test(runner: CliRunner, *args: str | Path) -> Result:
    return runner.invoke(cli, ["rules", "test", *map(str, args)])


def test_met_expectations_exit_0_with_one_line_per_firing(runner: CliRunner) -> None:
    result = rules_test(runner, RULES, TIMELINES / "met.yaml")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split() == [
        "+10m", "release-compute", "12.pbs", "qrls(job=13.pbs)", "because", "pbs_job", "12.pbs",
        "R→F", "entered", "pbs_job(name=stage-in,", "state=F,", "exit_status=0)"]
    assert lines[0].startswith("+0s   stuck-hold       13.pbs  pending: pbs_job 13.pbs -→H")
    assert lines[2] == ("+11m  stuck-hold       13.pbs  cancelled: left the condition before the "
                        "for: window")
    assert lines[-1] == "1 firing; expectations: all met"


def test_unmet_expectations_exit_1_with_a_readable_diff(runner: CliRunner) -> None:
    timeline = TIMELINES / "unmet.yaml"
    result = rules_test(runner, RULES, timeline)
    assert result.exit_code == 1
    diff = result.output[result.output.index("1 firing;"):].splitlines()
    assert diff == [
        "1 firing; expectations: 2 not met, 1 unexpected",
        "  expected but did not happen:",
        f"    - {timeline}:19  +5m  release-compute  12.pbs  qrls(job=13.pbs)",
        f"    - {timeline}:20  any time  lost-job  any action",
        "  happened but not expected:",
        "    + +10m  release-compute  12.pbs  qrls(job=13.pbs)",
        "Error: expectations not met: 2 not met, 1 unexpected",
    ]


def test_a_for_window_fires_between_steps_and_a_job_vanishes_after_two_polls(
        runner: CliRunner) -> None:
    result = rules_test(runner, RULES, TIMELINES / "window.yaml", "--events")
    assert result.exit_code == 0, result.output
    starts = [" ".join(line.split()[:3]) for line in result.output.splitlines()]
    assert starts[:5] == ["+0s event: 13.pbs", "+0s stuck-hold 13.pbs", "+30m stuck-hold 13.pbs",
                          "+1h3m event: 13.pbs", "+1h3m lost-job 13.pbs"]
    assert "email(to=alice@example.org, subject=13.pbs held for 30 minutes)" in result.output
    assert "2 firings; expectations: all met" in result.output


def test_json_has_decisions_events_and_the_comparison(runner: CliRunner) -> None:
    result = rules_test(runner, RULES, TIMELINES / "unmet.yaml", "--json")
    assert result.exit_code == 1
    report = json.loads(result.output[:result.output.rindex("}") + 1])
    assert [(d["offset"], d["rule"], d["verdict"]) for d in report["decisions"]] == [
        ("+0s", "stuck-hold", "pending"), ("+10m", "release-compute", "fire"),
        ("+11m", "stuck-hold", "cancelled")]
    assert report["decisions"][1]["actions"] == [
        {"type": "qrls", "step": 0, "params": {"job": "13.pbs", "hold": "u"}, "grouped": False,
         "error": None}]
    assert [e["summary"] for e in report["events"]] == [
        "12.pbs appeared (R)", "13.pbs appeared (H)", "12.pbs R→F (exit 0)", "13.pbs H→R"]
    expectations = report["expectations"]
    assert not expectations["ok"]
    assert [(m["line"], m["rule"], m.get("offset")) for m in expectations["missing"]] == [
        (19, "release-compute", "+5m"), (20, "lost-job", None)]


def test_timeline_errors_name_file_line_and_field(runner: CliRunner) -> None:
    timeline = TIMELINES / "bad.yaml"
    result = rules_test(runner, RULES, timeline)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{timeline}:5:32: steps[0].jobs.12.pbs.stat: unknown key 'stat' (did you mean "
        "'state'?)",
        f"{timeline}:7:10: steps[1].pbs: expected one of down but got 'sideways'",
        f"Error: 2 errors in {timeline}: nothing replayed",
    ]


def test_bad_rules_are_reported_like_rules_check(runner: CliRunner, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: x\n    when: {pbs_job: {stat: R}}\n"
                     "    do: [{qrls: {job: '1'}}]\n")
    result = rules_test(runner, rules, TIMELINES / "met.yaml")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{rules}:3:22: x.when.pbs_job.stat: unknown key 'stat' (did you mean 'state'?)",
        f"Error: 1 error in {rules}: nothing replayed",
    ]


def test_an_unknown_rule_in_expect_is_an_error(runner: CliRunner, tmp_path: Path) -> None:
    timeline = tmp_path / "t.yaml"
    timeline.write_text("steps: [{at: 0s, jobs: {}}]\nexpect:\n  - {rule: release-compte}\n")
    result = rules_test(runner, RULES, timeline)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"{timeline}:3:12: expect[0].rule: no rule named 'release-compte' (did you mean "
        "'release-compute'?)")


def test_the_shipped_example_timeline_passes(runner: CliRunner) -> None:
    result = rules_test(runner, EXAMPLES / "pbs-notify.yaml",
                        EXAMPLES / "timelines" / "pbs-notify.yaml")
    assert result.exit_code == 0, result.output
    assert "expectations: all met" in result.output


def test_errors_are_json_too_with_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules", "test", str(RULES), str(TIMELINES / "bad.yaml"),
                                 "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [(e["line"], e["field_path"]) for e in report["errors"]] == [
        (5, "steps[0].jobs.12.pbs.stat"), (7, "steps[1].pbs")]
