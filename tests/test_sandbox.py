"""The template sandbox bounds each render in time and size (issue 11, finding 4)."""

from __future__ import annotations

import time

import pytest

from watcher import sandbox
from watcher.templating import TemplateError, check_syntax, render

CONTEXT = {"job": {"id": "12.srv", "run_count": 1, "variables": {"A": "1", "B": "2"}}}

# Each of these took seconds to minutes, or gigabytes, before the limits.
EXPLODING = [
    ("{{ (job.run_count + 8) ** 9999999 }}", "9 ** 9999999 is over 4096 bits"),
    ("{% for i in range(99999) %}x{% endfor %}", "range of 99,999 items is over"),
    ("{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}",
     "template loops over 100,000 times"),
    ("{{ 'x' * 10**9 }}", "repeating makes more than 100,000 items"),
    ("{{ [job] * 10**9 }}", "repeating makes more than 100,000 items"),
    ("{{ 'x'|center(10**9) }}", "count 1000000000 over the template limit"),
    ("{{ 'x'|indent(10**8) }}", "count 100000000 over the template limit"),
    ("{{ lipsum(10**7) }}", "count 10000000 over the template limit"),
    ("{{ '%0999999d' % 1 }}", "format field width or precision too large"),
    ("{{ '%.9999999f'|format(1) }}", "format field width or precision too large"),
    ("{{ '{:>9999999}'.format(1) }}", "format field width or precision too large"),
    ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
     "{% endfor %}", "concatenating makes more than 100,000 characters"),
    ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
     "{% endfor %}", "concatenating makes more than 100,000 items"),
    ("{% for i in range(10000) %}{{ 'y' * 100 }}{% endfor %}",
     "template output over 100,000 characters"),
    ("{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}",
     "template ran over its time budget of 0.5 s"),
]


@pytest.mark.parametrize(("template", "reason"), EXPLODING, ids=range(len(EXPLODING)))
def test_an_exploding_template_fails_fast_with_its_reason(template: str, reason: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateError, match="template stopped: ") as caught:
        render(template, CONTEXT, "do[0].email.body")
    assert time.monotonic() - started < sandbox.BUDGET + 1.0
    assert reason in caught.value.message
    assert caught.value.field_path == "do[0].email.body"


def test_a_template_over_budget_fails_at_once_afterwards() -> None:
    slow = "{% macro g(n) %}{% if n %}{{ g(n-1) }}{{ g(n-1) }}{% endif %}{% endmacro %}{{ g(70) }}"
    with pytest.raises(TemplateError, match="time budget"):
        render(slow, CONTEXT)
    started = time.monotonic()
    with pytest.raises(TemplateError, match="fails at once until changed"):
        render(slow, CONTEXT)
    assert time.monotonic() - started < 0.1


@pytest.mark.parametrize(("template", "reason"), [
    ("{{ " + "(" * 100 + "1" + ")" * 100 + " }}", "nested more than 20 brackets deep"),
    ("{{ " + "-" * 2000 + "1 }}", "nested too deeply"),
    ("{{ 1 }}" + "x" * 20_000, "template is 20,007 characters"),
])
def test_a_template_too_big_or_deep_is_refused_at_load(template: str, reason: str) -> None:
    with pytest.raises(TemplateError, match="template refused") as caught:
        check_syntax(template)
    assert reason in caught.value.message


def test_ordinary_templates_render_as_before() -> None:
    template = ("{{ job.id }} {{ 2 ** 10 }} {{ 'ab' * 3 }} {% for k in job.variables %}{{ k }}"
                "{% endfor %} {{ '%s-%05d' % ('a', 3) }} {{ 'job 1234567 %s' % 'x' }} "
                "{{ [1, 2] + [3] }} {{ job.id ~ '!' }} {{ range(10)|sum }} "
                "{{ '{:>5}'.format(7) }} {{ 'x'|center(5) }}|")
    assert render(template, CONTEXT) == ("12.srv 1024 ababab AB a-00003 job 1234567 x [1, 2, 3] "
                                         "12.srv! 45     7   x  |")
