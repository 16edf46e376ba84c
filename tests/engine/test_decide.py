from datetime import UTC, datetime, timedelta

from watcher.engine.decide import EdgeState, Limits, Verdict, fired, on_event, on_tick

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _event(limits, edge, *, entered, holding, at=T0, event_id=1):
    return on_event(limits, edge, entered=entered, holding=holding, at=at, event_id=event_id,
                    why="entered")


def test_entering_fires_once_and_staying_inside_does_not():
    first = _event(Limits(), EdgeState(), entered=True, holding=True)
    assert first.verdict is Verdict.FIRE
    edge = fired(first.edge, T0)
    again = _event(Limits(), edge, entered=False, holding=True)
    assert again.verdict is Verdict.NONE


def test_leaving_and_reentering_fires_again():
    edge = fired(_event(Limits(), EdgeState(), entered=True, holding=True).edge, T0)
    left = _event(Limits(), edge, entered=False, holding=False)
    assert left.edge.in_condition is False
    back = _event(Limits(), left.edge, entered=True, holding=True, at=T0 + timedelta(1))
    assert back.verdict is Verdict.FIRE


def test_for_window_fires_only_after_it_elapsed():
    limits = Limits(for_=timedelta(seconds=30))
    opened = _event(limits, EdgeState(), entered=True, holding=True)
    assert opened.verdict is Verdict.PENDING
    assert on_tick(limits, opened.edge, T0 + timedelta(seconds=29)).verdict is Verdict.NONE
    due = on_tick(limits, opened.edge, T0 + timedelta(seconds=30))
    assert due.verdict is Verdict.FIRE
    after = fired(due.edge, T0 + timedelta(seconds=30))
    assert on_tick(limits, after, T0 + timedelta(seconds=90)).verdict is Verdict.NONE


def test_leaving_cancels_the_window():
    limits = Limits(for_=timedelta(seconds=30))
    opened = _event(limits, EdgeState(), entered=True, holding=True)
    left = _event(limits, opened.edge, entered=False, holding=False)
    assert left.verdict is Verdict.CANCELLED
    assert on_tick(limits, left.edge, T0 + timedelta(hours=1)).verdict is Verdict.NONE


def test_reentering_while_pending_keeps_the_original_start():
    limits = Limits(for_=timedelta(seconds=30))
    opened = _event(limits, EdgeState(), entered=True, holding=True)
    again = _event(limits, opened.edge, entered=True, holding=True, at=T0 + timedelta(seconds=20))
    assert again.edge.pending_since == T0


def test_once_and_max_fires_and_cooldown_suppress_with_a_reason():
    edge = fired(EdgeState(in_condition=False), T0)
    once = _event(Limits(once=True), edge, entered=True, holding=True)
    assert once.verdict is Verdict.SUPPRESSED and "once" in once.reason
    capped = _event(Limits(max_fires=1), edge, entered=True, holding=True)
    assert capped.verdict is Verdict.SUPPRESSED and "max_fires" in capped.reason
    cooling = _event(Limits(cooldown=timedelta(minutes=5)), edge, entered=True, holding=True,
                     at=T0 + timedelta(minutes=1))
    assert cooling.verdict is Verdict.SUPPRESSED and "cooldown" in cooling.reason
    cooled = _event(Limits(cooldown=timedelta(minutes=5)), edge, entered=True, holding=True,
                    at=T0 + timedelta(minutes=6))
    assert cooled.verdict is Verdict.FIRE


def test_a_suppressed_window_closes_instead_of_firing_every_tick():
    limits = Limits(for_=timedelta(seconds=1), once=True)
    edge = fired(EdgeState(), T0)
    opened = _event(limits, edge, entered=True, holding=True)
    first = on_tick(limits, opened.edge, T0 + timedelta(seconds=2))
    assert first.verdict is Verdict.SUPPRESSED
    assert on_tick(limits, first.edge, T0 + timedelta(seconds=3)).verdict is Verdict.NONE
