"""The template sandbox: rendering, strict undefined names, no escape from the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watcher import templating
from watcher.events import GLOBUS_TASK, PBS_JOB, QUOTA, SOURCE_DOWN, VANISHED, Event
from watcher.templating import TemplateError, build_context, render, render_params

JOB = {"id": "12.srv", "name": "sim-1", "exit_status": -29, "variables": {"STAGE": "final"}}
CONTEXT = {"job": JOB, "vars": {"follower": "13.srv"}, "user": {"email": "a@b.c"}}


def test_renders_context_values() -> None:
    assert render("{{ job.id }} ({{ job.name }}) -> {{ vars.follower }}", CONTEXT) == \
        "12.srv (sim-1) -> 13.srv"
    assert render("{{ job.variables.STAGE | upper }}", CONTEXT) == "FINAL"
    assert render("plain text", CONTEXT) == "plain text"


def test_render_params_recurses_and_keeps_non_strings() -> None:
    params = {"job": "{{ job.id }}", "hold": "u", "count": 3, "to": ["{{ user.email }}", 1],
              "nested": {"subject": "{{ job.exit_status }}"}}
    assert render_params(params, CONTEXT) == {
        "job": "12.srv", "hold": "u", "count": 3, "to": ["a@b.c", 1],
        "nested": {"subject": "-29"}}


def test_undefined_names_the_field() -> None:
    with pytest.raises(TemplateError) as excinfo:
        render_params({"to": ["x", "{{ user.mail }}"]}, CONTEXT, "do[0].email")
    assert excinfo.value.field_path == "do[0].email.to[1]"
    assert str(excinfo.value) == \
        "do[0].email.to[1]: undefined in template: 'dict object' has no attribute 'mail'"


def test_undefined_top_level_name() -> None:
    with pytest.raises(TemplateError, match="'workflow' is undefined"):
        render("{{ workflow.jobs.compute }}", CONTEXT, "do[0].qrls.job")


@pytest.mark.parametrize("template", [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ job.__init__ }}",
    "{{ vars.update({'x': 1}) }}",  # the immutable sandbox refuses mutation
])
def test_sandbox_blocks_escapes(template: str) -> None:
    with pytest.raises(TemplateError) as excinfo:
        render(template, CONTEXT, "do[0].qdel.job")
    assert excinfo.value.field_path == "do[0].qdel.job"
    assert "unsafe" in excinfo.value.message or "not allowed" in excinfo.value.message


def test_runtime_failure_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="ZeroDivisionError"):
        render("{{ 1 / 0 }}", CONTEXT, "f")


def test_syntax_error_names_template_line() -> None:
    with pytest.raises(TemplateError) as excinfo:
        templating.check_syntax("line one\n{{ job.id ", "do[0].qdel.job")
    assert excinfo.value.message == ("template syntax error: unexpected end of template, "
                                     "expected 'end of print statement' (template line 2)")


def test_autoescape_is_off() -> None:
    assert render("{{ v }}", {"v": "<a & b>"}) == "<a & b>"


@pytest.mark.parametrize(("value", "expected"), [
    ("{{ x }}", True), ("{% if x %}y{% endif %}", True), ("{# note #}", True),
    ("plain", False), ("{ not }", False), (3, False), (None, False)])
def test_is_template(value: object, expected: bool) -> None:
    assert templating.is_template(value) is expected


def test_build_context_for_a_pbs_event() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    event = Event(PBS_JOB, "12.srv", at, previous={"state": "R"}, current={"state": "F"})
    context = build_context(rule="r", event=event, now=at, user={"name": "alice"},
                            vars={"a": 1}, workflow={"jobs": {"compute": "13.srv"}})
    assert context == {
        "rule": "r",
        "event": {"kind": PBS_JOB, "subject": "12.srv", "change": "changed", "at": at,
                  "attrs": {"state": "F"}, "data": {}},
        "previous": {"state": "R"}, "job": {"state": "F"}, "user": {"name": "alice"},
        "vars": {"a": 1}, "now": at, "workflow": {"jobs": {"compute": "13.srv"}}}
    assert render("{{ event.subject }} {{ previous.state }}->{{ job.state }}", context) == \
        "12.srv R->F"


def test_build_context_vanished_job_and_other_kinds() -> None:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    gone = Event(PBS_JOB, "12.srv", at, change=VANISHED, previous={"state": "Q"})
    assert build_context(rule="r", event=gone, now=at)["job"] == {"state": "Q"}
    down = Event(SOURCE_DOWN, "pbs", at)
    assert "job" not in build_context(rule="r", event=down, now=at)


@pytest.mark.parametrize(("kind", "variable"), [(GLOBUS_TASK, "task"), (QUOTA, "quota")])
def test_each_kind_puts_its_subject_under_its_own_variable(kind: str, variable: str) -> None:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    event = Event(kind, "s", at, previous={"status": "ACTIVE"}, current={"status": "SUCCEEDED"})
    context = build_context(rule="r", event=event, now=at)
    assert context[variable] == {"status": "SUCCEEDED"}
    assert context["previous"] == {"status": "ACTIVE"}
    assert not ({"job", "task", "quota"} - {variable}) & context.keys()
