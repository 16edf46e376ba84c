"""`source_down` / `source_up`: the event is the edge; an optional source name narrows it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watcher.events import PBS_JOB, SOURCE_DOWN, SOURCE_UP, Event
from watcher.triggers import TRIGGERS
from watcher.triggers.source import SourceConfig

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(("name", "kind"), [("source_down", SOURCE_DOWN),
                                            ("source_up", SOURCE_UP)])
def test_matches_its_kind_and_source(name: str, kind: str) -> None:
    trigger = TRIGGERS[name]
    pbs, anything = SourceConfig(source="pbs"), SourceConfig()
    assert trigger.matches_transition(pbs, Event(kind, "pbs", T0))
    assert not trigger.matches_transition(pbs, Event(kind, "globus", T0))
    assert trigger.matches_transition(anything, Event(kind, "quota", T0))
    assert not trigger.matches_transition(anything, Event(PBS_JOB, "pbs", T0))
    assert trigger.subject_key(pbs) == "pbs"
    assert trigger.subject_key(anything) is None


def test_holds_reads_up() -> None:
    down, up, cfg = TRIGGERS["source_down"], TRIGGERS["source_up"], SourceConfig()
    assert down.holds(cfg, {"source": "pbs", "up": False})
    assert not down.holds(cfg, {"source": "pbs", "up": True})
    assert not down.holds(cfg, None)
    assert up.holds(cfg, {"source": "pbs", "up": True})
    assert down.selects(SourceConfig(source="pbs"), {"source": "pbs"})
    assert not down.selects(SourceConfig(source="pbs"), {"source": "globus"})


def test_unknown_source_suggests() -> None:
    with pytest.raises(ValueError, match=r"expected one of pbs, globus, quota but got 'pbss' "
                                         r"\(did you mean 'pbs'\?\)"):
        SourceConfig.model_validate({"source": "pbss"})
