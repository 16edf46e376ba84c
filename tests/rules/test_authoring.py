"""The mistakes a new user makes writing rules, each caught by `watcher rules check`.

Every `tests/testdata/rules/authoring/NAME.yaml` holds such mistakes and `NAME.expected` the
exact lines `rules check` must print for it (paths relative to that directory).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from watcher.cli import cli
from watcher.rules.template_context import TEMPLATE_VARIABLES, WORKFLOW
from watcher.store.db import Store
from watcher.workflows import record
from watcher.workflows.context import view
from watcher.workflows.spec import WorkflowSpec
from watcher.workflows.three_step import as_graph

AUTHORING = Path(__file__).parent.parent / "testdata" / "rules" / "authoring"
CASES = sorted(path.stem for path in AUTHORING.glob("*.yaml"))


@pytest.mark.parametrize("name", CASES)
def test_each_mistake_is_reported_where_it_is(name: str) -> None:
    result = CliRunner().invoke(cli, ["rules", "check", str(AUTHORING / f"{name}.yaml")])
    expected = (AUTHORING / f"{name}.expected").read_text().splitlines()
    printed = [line.replace(f"{AUTHORING}/", "") for line in result.stdout.splitlines()
               if " rule OK" not in line and " rules OK" not in line]
    assert printed == expected
    assert result.exit_code == (1 if any(": warning:" not in line for line in expected) else 0)



def test_workflow_shape_is_what_the_engine_gives(store: Store) -> None:
    """The checker's `workflow` attributes are the keys `workflows.context.view` returns, for
    every step of a recorded three-step workflow (its on_failure cleanup too)."""
    src, dst = "ddb59aef-6d04-11e5-ba46-22000b92c6ec", "ddb59af0-6d04-11e5-ba46-22000b92c6ec"
    spec = WorkflowSpec.model_validate({
        "name": "run42", "script": "compute.sh", "cleanup": "cleanup.sh",
        "stage_in": [{"from": f"{src}:/in/", "to": f"{dst}:/in/"}],
        "stage_out": [{"from": f"{dst}:/out/", "to": f"{src}:/out/"}]})
    with store.session() as session:
        workflow = record.create(session, as_graph(spec), "/home/alice/run42",
                                 datetime.now(UTC))
        seen = [(section, name) for section in record.SECTIONS for name in workflow.spec[section]]
        assert seen == [("steps", "stage-in"), ("steps", "compute"), ("steps", "stage-out"),
                        ("on_failure", "cleanup")]
        for section, name in seen:
            shown = view(session, workflow, section, name)
            assert set(shown) == set(WORKFLOW)
            assert (shown["role"], shown["step"]) == (name, "submitted")


def test_readme_lists_exactly_the_template_variables() -> None:
    """Every top-level template variable the README names is one the checker knows, and back."""
    readme = (Path(__file__).parent.parent.parent / "README.md").read_text()
    section = readme[readme.index("### Templates"):readme.index("## Staged workflows")]
    listed = set(re.findall(r"^- `(\w+)`", section, re.MULTILINE))
    assert listed == TEMPLATE_VARIABLES


def test_names_a_template_defines_are_not_context_names() -> None:
    from watcher.rules.template_check import check_template
    from watcher.rules.template_context import trigger_context

    source = ("{% macro f(n) %}{{ n }}{% endmacro %}{% set x = 1 %}{{ f(x) }}"
              "{% for k, v in job.variables.items() %}{{ k }}{{ loop.index }}{% endfor %}")
    assert check_template(source, [trigger_context("pbs_job")]) == []


def test_the_shipped_staging_rules_pass_every_check() -> None:
    """The service loads the staging file without the template check and lint (it is loaded
    at every start); this holds it to them: renamed, it is checked like a user's file."""
    from watcher.rules.loader import load_rule_text
    from watcher.rules.reserved import STAGING_FILE

    text = STAGING_FILE.read_text().replace("name: workflow-", "name: copy-of-workflow-")
    ruleset = load_rule_text(text, "staging-copy.yaml")
    assert (ruleset.errors, ruleset.warnings, len(ruleset.rules)) == ([], [], 3)
