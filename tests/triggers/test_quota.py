"""`quota`: which paths it selects, that it fires on crossing a level (not on being above it),
and `for:` windows through the real engine and store."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from watcher.engine.decide import Verdict
from watcher.engine.engine import Engine
from watcher.events import APPEARED, CHANGED, QUOTA, Event
from watcher.rules.loader import load_rule_text, load_rules
from watcher.sources.quota import quota_attributes
from watcher.store.models import Intent
from watcher.triggers import TRIGGERS
from watcher.triggers.quota import QuotaConfig

TRIGGER = TRIGGERS["quota"]
T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
PATH = "/lus/eagle/projects/X"
GIB = 2**30


def config(**raw: Any) -> QuotaConfig:
    return QuotaConfig.model_validate(raw)


def usage(percent: float | None, path: str = PATH, *, files: int | None = None
          ) -> dict[str, Any]:
    """Attributes as the source reports them, at `percent` of a 100 GiB limit."""
    if percent is None:
        return quota_attributes(path, "lfs", used_bytes=5 * GIB, limit_bytes=None)
    return quota_attributes(path, "lfs", used_bytes=int(percent * GIB), limit_bytes=100 * GIB,
                            files=files, files_limit=1000 if files is not None else None)


def fires(cfg: QuotaConfig, states: list[dict[str, Any]], path: str = PATH) -> list[bool]:
    result, previous = [], None
    for i, current in enumerate(states):
        event = Event(QUOTA, path, T0 + timedelta(minutes=i),
                      APPEARED if previous is None else CHANGED, previous, current)
        result.append(TRIGGER.matches_transition(cfg, event))
        previous = current
    return result


def test_crossing_the_threshold_fires_staying_above_does_not() -> None:
    assert fires(config(path=PATH, used_percent=">= 90"),
                 [usage(50), usage(91), usage(95), usage(80), usage(92)]) == \
        [False, True, False, False, True]


def test_a_path_first_seen_above_the_threshold_fires() -> None:
    assert fires(config(used_percent=">= 90"), [usage(97)]) == [True]


def test_no_limit_means_no_percentage_and_no_match() -> None:
    cfg = config(used_percent=">= 0")
    assert TRIGGER.holds(cfg, usage(None)) is False and usage(None)["used_percent"] is None


def test_over_limit_and_its_default_when_no_level_is_given() -> None:
    states = [usage(99), usage(100), usage(100.5), usage(40), usage(101)]
    assert fires(config(over_limit=True), states) == [False, True, False, False, True]
    assert fires(config(path=PATH), states) == [False, True, False, False, True]
    assert fires(config(over_limit=False), [usage(101), usage(40)]) == [False, True]


def test_file_count_level() -> None:
    assert fires(config(files_percent="> 95"), [usage(10, files=900), usage(10, files=990)]) \
        == [False, True]


def test_paths_are_normalised_and_globs_select_many() -> None:
    home = os.path.expanduser("~")
    assert config(path="~/scratch/").path == f"{home}/scratch"
    assert TRIGGER.subject_key(config(path=PATH + "/")) == PATH
    glob = config(path="/lus/*/projects/*", used_percent=">= 90")
    assert TRIGGER.subject_key(glob) is None
    assert TRIGGER.selects(glob, usage(95)) is True
    assert TRIGGER.selects(glob, usage(95, "/home/alice")) is False
    assert TRIGGER.selects(config(path="/home/alice"), usage(95)) is False


def test_bad_configs_are_rejected_with_readable_errors() -> None:
    with pytest.raises(ValueError, match="expected a number after '>='"):
        config(used_percent=">= lots")
    with pytest.raises(ValueError, match="extra"):
        config(used=">= 90")


def test_describe_for_rules_list() -> None:
    assert TRIGGER.describe(config(path=PATH, used_percent=">= 90")) == \
        f"quota(path={PATH}, used_percent=>= 90)"


RULES = f"""
rules:
  - name: scratch-nearly-full
    when: {{quota: {{path: "{PATH}", used_percent: ">= 90"}}}}
    for: 30m
    do: [{{qhold: {{job: "1.srv"}}}}]
"""


@pytest.fixture
def engine() -> Engine:
    ruleset = load_rule_text(RULES, "quota.yaml")
    assert ruleset.ok, ruleset.errors
    return Engine(ruleset.rules)


def _event(before: float, after: float, minutes: int) -> Event:
    return Event(QUOTA, PATH, T0 + timedelta(minutes=minutes), CHANGED, usage(before),
                 usage(after))


def _intents(store) -> list[str]:
    with store.session() as s:
        return [i.rule for i in s.exec(select(Intent)).all()]


def test_for_window_fires_once_after_holding_through_further_changes(store, engine) -> None:
    with store.session() as s:
        opened = engine.process(s, [_event(80, 91, 0)], T0)
        # Still above while it grows: the window stays open, nothing new fires.
        engine.process(s, [_event(91, 94, 10)], T0 + timedelta(minutes=10))
        assert engine.tick(s, T0 + timedelta(minutes=29)) == []
    with store.session() as s:
        fired = engine.tick(s, T0 + timedelta(minutes=31))
        assert engine.tick(s, T0 + timedelta(hours=2)) == []
    assert [r.verdict for r in opened] == [Verdict.PENDING]
    assert [r.verdict for r in fired] == [Verdict.FIRE]
    assert _intents(store) == ["scratch-nearly-full"]


def test_dropping_below_closes_the_window(store, engine) -> None:
    with store.session() as s:
        engine.process(s, [_event(80, 91, 0)], T0)
        closed = engine.process(s, [_event(91, 85, 5)], T0 + timedelta(minutes=5))
        assert engine.tick(s, T0 + timedelta(hours=1)) == []
    assert [r.verdict for r in closed] == [Verdict.CANCELLED]
    assert _intents(store) == []


def test_templates_see_the_paths_usage_as_quota(store) -> None:
    subject = "{{ quota.path }} at {{ quota.used_percent }}%"
    ruleset = load_rule_text(f"""
rules:
  - name: tell-me
    when: {{quota: {{path: "{PATH}", used_percent: ">= 90"}}}}
    do: [{{email: {{to: a@example.org, subject: "{subject}"}}}}]
""", "quota.yaml")
    assert ruleset.ok, ruleset.errors
    with store.session() as s:
        Engine(ruleset.rules).process(s, [_event(80, 91.25, 0)], T0)
    with store.session() as s:
        [intent] = s.exec(select(Intent)).all()
    assert intent.params["subject"] == f"{PATH} at 91.2%"


def test_the_example_rule_file_renders_its_mails(store) -> None:
    """rules/quota.yaml, fed a path that fills up and then goes over its limit."""
    example = Path(__file__).parents[2] / "rules" / "quota.yaml"
    ruleset = load_rules([example])
    assert ruleset.ok, ruleset.errors
    engine = Engine(ruleset.rules, user={"name": "alice", "email": "alice@example.org"})
    over = {**usage(100.5, files=10), "grace": "6d23h"}
    with store.session() as s:
        engine.process(s, [_event(80, 95, 0)], T0)
        engine.tick(s, T0 + timedelta(minutes=31))
        engine.process(s, [Event(QUOTA, PATH, T0 + timedelta(minutes=40), CHANGED, usage(95),
                                 over)], T0 + timedelta(minutes=40))
    with store.session() as s:
        mails = {i.rule: i.params for i in s.exec(select(Intent)).all()}
    assert set(mails) == {"project-nearly-full", "over-quota-now"}
    assert mails["project-nearly-full"]["subject"] == \
        f"[watcher] {PATH} is at 95.0% of its quota"
    assert "uses 0.09 TiB of\n0.1 TiB (95.0%)" in mails["project-nearly-full"]["body"]
    assert mails["over-quota-now"]["subject"] == f"[watcher] OVER QUOTA: {PATH}, grace 6d23h"
