"""`action_failed` fires once per dead intent, filtered by rule glob and action type, and a rule
on it reaches the failure's text through `event.attrs`."""

from datetime import UTC, datetime

from sqlmodel import select

from watcher.engine.engine import Engine
from watcher.events import ACTION_FAILED, Event
from watcher.rules.loader import load_rule_text
from watcher.store.db import open_store
from watcher.store.models import Intent
from watcher.triggers import TRIGGERS

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TRIGGER = TRIGGERS["action_failed"]


def failure(rule="release-x", action="qrls", error="qrls -> exit 153: Unknown Job Id 9.srv"):
    data = {"rule": rule, "action": action, "step": 0, "key": "k", "attempts": 1, "error": error}
    return Event(ACTION_FAILED, "9.srv", T0, current=data, data=data)


def test_selects_by_rule_glob_and_action():
    config = TRIGGER.Config(rule="release-*", action="qrls")
    assert TRIGGER.matches_transition(config, failure())
    assert not TRIGGER.matches_transition(config, failure(rule="other"))
    assert not TRIGGER.matches_transition(config, failure(action="qdel"))
    assert TRIGGER.matches_transition(TRIGGER.Config(), failure(rule="anything"))


def test_a_rule_on_a_failure_sees_its_error_and_fires_for_each_one(tmp_path):
    ruleset = load_rule_text("""
rules:
  - name: tell-failures
    when: {action_failed: "release-*"}
    do:
      - qhold: {job: "{{ event.subject }}", hold: u}
      - qdel: {job: "{{ event.attrs.error[:4] }}"}
""", "r.yaml")
    assert ruleset.ok, ruleset.errors
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    with store.session() as session:
        Engine(ruleset.rules).process(session, [failure(), failure()], T0)
    with store.session() as session:
        params = [i.params for i in session.exec(select(Intent).order_by(Intent.id)).all()]
    store.close()
    assert params == [{"job": "9.srv", "hold": "u"}, {"job": "qrls"}] * 2

