"""Backoff: doubling from `base`, capped, shortened by jitter, and a point to give up."""

from __future__ import annotations

from datetime import timedelta

from watcher.ledger.policy import RetryPolicy


def test_waits_double_from_base_up_to_the_cap() -> None:
    policy = RetryPolicy(base=timedelta(seconds=2), cap=timedelta(minutes=10), jitter=0)
    waits = [policy.delay(n).total_seconds() for n in range(1, 12)]
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]


def test_jitter_only_shortens_so_the_cap_holds() -> None:
    longest = RetryPolicy(jitter=0.1, rng=lambda: 0.0)
    shortest = RetryPolicy(jitter=0.1, rng=lambda: 0.999999)
    assert longest.delay(3) == timedelta(seconds=8)
    assert timedelta(seconds=7.2) <= shortest.delay(3) < timedelta(seconds=8)
    assert shortest.delay(50) <= longest.delay(50) == timedelta(minutes=10)


def test_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.gives_up(n) for n in (1, 2, 3, 4)] == [False, False, True, True]
