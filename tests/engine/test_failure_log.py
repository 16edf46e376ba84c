"""An action that fails for good says so once, at ERROR, with its rule, step and reason, whether
it died rendering its templates at firing time or in the runner."""

from __future__ import annotations

import logging
from datetime import timedelta

from tests.engine.test_grouping import T0, engine_for, failed, intents, process, run_due
from watcher.mail.sink import SmtpSink
from watcher.store.models import DEAD, DONE

# Passes `rules check` (a job's variables are not known in advance) but fails when it fires.
RULES = """
rules:
  - name: needs-a-variable
    when: {pbs_job: {name: "storm-*", state: F, exit_status: "!= 0"}}
    do:
      - qdel: {job: "{{ job.variables.PARTNER }}"}
      - name: mail
        email: {to: ops@example.org, subject: "{{ steps[0].detail }} {{ job.variables.NONE }}"}
"""


def test_a_dead_action_is_one_error_line_with_rule_step_and_reason(store, caplog):
    caplog.set_level(logging.INFO)
    process(store, engine_for(RULES), [failed(1)])
    [first, second] = intents(store)
    assert first.status == DEAD
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "Rule 'needs-a-variable' step 0 (qdel) failed for good: do[0].qdel.job: undefined in "
        "template: 'dict object' has no attribute 'PARTNER'"]
    assert second.status == "pending"  # it waits for a step that will never be done


DEFERRED = """
rules:
  - name: tell-twice
    when: {pbs_job: {name: "storm-*", state: F, exit_status: "!= 0"}}
    do:
      - email: {to: ops@example.org, subject: "{{ job.id }} failed"}
      - email: {to: ops@example.org, subject: "{{ steps[0].message_id }} {{ job.variables.NO }}"}
"""


def test_a_deferred_step_that_fails_to_render_is_one_error(store, caplog):
    caplog.set_level(logging.INFO)
    process(store, engine_for(DEFERRED), [failed(1)])
    with SmtpSink() as sink:
        run_due(store, T0 + timedelta(seconds=1), sink)
        run_due(store, T0 + timedelta(seconds=5), sink)
    assert [i.status for i in intents(store)] == [DONE, DEAD]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["Rule 'tell-twice' step 1 (email) failed for good: do[1].email.subject: "
                      "undefined in template: 'dict object' has no attribute 'NO'"]
