from datetime import UTC, datetime, timedelta

from watcher.engine.decide import Limits, RuleMemory, Verdict, fired, on_event, on_tick

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _event(limits, memory, *, entered, holding, at=T0, event_id=1):
    return on_event(limits, memory, entered=entered, holding=holding, at=at, event_id=event_id,
                    why="entered")


def test_entering_fires_once_and_staying_inside_does_not():
    first = _event(Limits(), RuleMemory(), entered=True, holding=True)
    assert first.verdict is Verdict.FIRE
    memory = fired(first.memory, T0)
    again = _event(Limits(), memory, entered=False, holding=True)
    assert again.verdict is Verdict.NONE


def test_leaving_and_reentering_fires_again():
    memory = fired(_event(Limits(), RuleMemory(), entered=True, holding=True).memory, T0)
    left = _event(Limits(), memory, entered=False, holding=False)
    assert left.memory.in_condition is False
    back = _event(Limits(), left.memory, entered=True, holding=True, at=T0 + timedelta(1))
    assert back.verdict is Verdict.FIRE


def test_for_window_fires_only_after_it_elapsed():
    limits = Limits(for_=timedelta(seconds=30))
    opened = _event(limits, RuleMemory(), entered=True, holding=True)
    assert opened.verdict is Verdict.PENDING
    assert on_tick(limits, opened.memory, T0 + timedelta(seconds=29)).verdict is Verdict.NONE
    due = on_tick(limits, opened.memory, T0 + timedelta(seconds=30))
    assert due.verdict is Verdict.FIRE
    after = fired(due.memory, T0 + timedelta(seconds=30))
    assert on_tick(limits, after, T0 + timedelta(seconds=90)).verdict is Verdict.NONE


def test_leaving_cancels_the_window():
    limits = Limits(for_=timedelta(seconds=30))
    opened = _event(limits, RuleMemory(), entered=True, holding=True)
    left = _event(limits, opened.memory, entered=False, holding=False)
    assert left.verdict is Verdict.CANCELLED
    assert on_tick(limits, left.memory, T0 + timedelta(hours=1)).verdict is Verdict.NONE


def test_reentering_while_pending_keeps_the_original_start():
    limits = Limits(for_=timedelta(seconds=30))
    opened = _event(limits, RuleMemory(), entered=True, holding=True)
    again = _event(limits, opened.memory, entered=True, holding=True, at=T0 + timedelta(seconds=20))
    assert again.memory.pending_since == T0


def test_once_and_max_fires_and_cooldown_suppress_with_a_reason():
    memory = fired(RuleMemory(in_condition=False), T0)
    once = _event(Limits(once=True), memory, entered=True, holding=True)
    assert once.verdict is Verdict.SUPPRESSED and "once" in once.reason
    capped = _event(Limits(max_fires=1), memory, entered=True, holding=True)
    assert capped.verdict is Verdict.SUPPRESSED and "max_fires" in capped.reason
    cooling = _event(Limits(cooldown=timedelta(minutes=5)), memory, entered=True, holding=True,
                     at=T0 + timedelta(minutes=1))
    assert cooling.verdict is Verdict.SUPPRESSED and "cooldown" in cooling.reason
    cooled = _event(Limits(cooldown=timedelta(minutes=5)), memory, entered=True, holding=True,
                    at=T0 + timedelta(minutes=6))
    assert cooled.verdict is Verdict.FIRE


def test_a_suppressed_window_closes_instead_of_firing_every_tick():
    limits = Limits(for_=timedelta(seconds=1), once=True)
    memory = fired(RuleMemory(), T0)
    opened = _event(limits, memory, entered=True, holding=True)
    first = on_tick(limits, opened.memory, T0 + timedelta(seconds=2))
    assert first.verdict is Verdict.SUPPRESSED
    assert on_tick(limits, first.memory, T0 + timedelta(seconds=3)).verdict is Verdict.NONE
