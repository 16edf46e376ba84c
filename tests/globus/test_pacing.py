"""`Pacer`: the plain interval after a success, doubling waits after failures, capped."""

from __future__ import annotations

from watcher.globus.pacing import Pacer


def test_backoff_doubles_up_to_the_cap_and_a_success_resets_it() -> None:
    now = [0.0]
    pacer = Pacer(interval=30, backoff_max=200, clock=lambda: now[0])
    assert pacer.due()
    waits = []
    for _ in range(4):
        pacer.failed()
        waits.append(pacer.next_at - now[0])
    assert waits == [60, 120, 200, 200]
    pacer.succeeded()
    assert pacer.next_at == 30 and not pacer.due()
    now[0] = 30
    assert pacer.due()


def test_a_cap_below_the_interval_never_shortens_the_interval() -> None:
    pacer = Pacer(interval=60, backoff_max=10, clock=lambda: 0.0)
    pacer.failed()
    assert pacer.delay() == 60
