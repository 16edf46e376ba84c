"""What every trigger type shares."""

from watcher.rules.loader import load_rule_text


def test_a_template_in_a_trigger_is_refused_at_load():
    """Triggers are matched as written: a template there would silently never fire."""
    ruleset = load_rule_text("""
rules:
  - name: x
    when: {globus_task: {task: "{{ workflow.tasks['stage-in'] }}", status: SUCCEEDED}}
    do: [{qrls: {job: "1"}}]
""", "r.yaml")
    assert [e.message for e in ruleset.errors] == [
        "'task' is matched as written, templates are not rendered in triggers (put the value "
        "itself, or use `vars:` in actions)"]
