"""`rules_invalid`: a rule file found broken on a reload fires once per broken version, not on
every reload, not again after a restart; fixed, it closes the edge; broken again, it fires."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from watcher.service.rulebook import rules_invalid_events
from watcher.store.db import open_store
from watcher.store.models import Firing, Intent

GOOD = """rules:
  - name: release-sim
    when: {pbs_job: {name: sim, state: H}}
    do: [{qrls: {job: "{{ job.id }}"}}]
"""
BROKEN = GOOD.replace("state: H", "stat: H")
TELL = """rules:
  - name: tell-me
    when: {rules_invalid: {file: "*/mine.yaml"}}
    do:
      - email: {to: me@example.org, subject: "{{ event.subject }} is invalid",
                body: "{{ event.attrs.error }}"}
"""


def _told(url: str) -> list[tuple[str, str]]:
    """Each firing of `tell-me`: its subject and the mail's body."""
    store = open_store(url)
    try:
        with store.session(write=False) as session:
            rows = session.exec(select(Firing.subject, Intent.params).join(
                Intent, col(Intent.firing_id) == col(Firing.id)).where(
                Firing.rule == "tell-me").order_by(col(Firing.id))).all()
    finally:
        store.close()
    return [(subject, params["body"]) for subject, params in rows]


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    stamp = path.stat().st_mtime_ns + 1_000_000  # a new mtime even within one clock tick
    os.utime(path, ns=(stamp, stamp))


def test_a_broken_file_is_told_once_per_version(make_service, settings, tmp_path: Path):
    service = make_service({"mine.yaml": GOOD, "tell.yaml": TELL})
    service.record_rulebook()
    mine, url = tmp_path / "rules" / "mine.yaml", settings.store.url
    assert _told(url) == []

    _write(mine, BROKEN)
    assert service.reload_rules()
    [(subject, body)] = _told(url)
    assert subject == str(mine)
    assert body.startswith(f"{mine}:3:") and "pbs_job.stat: unknown key 'stat'" in body
    assert not service.reload_rules()  # every 2 s: nothing changed, nothing loaded
    _write(mine, BROKEN)  # touched, same content: loaded again, told nothing
    assert service.reload_rules()
    assert len(_told(url)) == 1

    _write(mine, BROKEN.replace("qrls", "qrel"))  # another broken version
    assert service.reload_rules()
    assert len(_told(url)) == 2
    restarted = make_service({"mine.yaml": BROKEN.replace("qrls", "qrel"), "tell.yaml": TELL})
    restarted.record_rulebook()  # the same broken version after a restart: quiet
    assert len(_told(url)) == 2

    _write(mine, GOOD)  # fixed: the edge closes, nothing fires
    assert restarted.reload_rules()
    assert len(_told(url)) == 2
    _write(mine, BROKEN)  # broken again: told again
    assert restarted.reload_rules()
    assert len(_told(url)) == 3


def test_the_events_between_two_reports_are_pure():
    at = datetime(2026, 1, 1, tzinfo=UTC)
    bad = {"files": {"/r/a.yaml": {"valid": False, "sha256": "1", "errors": ["line 2: x"]}}}
    good = {"files": {"/r/a.yaml": {"valid": True, "sha256": "2"}}}
    [first] = rules_invalid_events(None, bad, at)
    assert (first.subject, first.previous, first.current["error"]) == ("/r/a.yaml", None,
                                                                       "line 2: x")
    assert rules_invalid_events(bad, bad, at) == []
    [fixed] = rules_invalid_events(bad, good, at)
    assert fixed.current["valid"] is True and fixed.previous["valid"] is False
    assert rules_invalid_events(good, good, at) == [] == rules_invalid_events(None, good, at)
