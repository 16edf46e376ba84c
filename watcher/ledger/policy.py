"""How long to wait before trying a failed action again, and when to give up."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: the first retry waits `base`, each later one twice as long, up to
    `cap`; after `max_attempts` attempts the intent is dead.

    Each wait is shortened by up to `jitter` (a fraction) at random, so intents that failed
    together (a PBS server restart) do not all retry in the same second; shortening keeps `cap`
    a true maximum. `rng` returns a float in [0, 1); tests pass a fixed one.
    """

    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=10)
    max_attempts: int = 8
    jitter: float = 0.1
    rng: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1 for the first)."""
        exponent = max(attempts - 1, 0)
        # Cap the exponent first: 2**60 seconds would overflow timedelta.
        wait = self.cap if exponent >= 40 else min(self.cap, self.base * 2**exponent)
        return wait * (1 - self.jitter * self.rng())

    def gives_up(self, attempts: int) -> bool:
        """Whether `attempts` used up the policy, so the intent goes dead."""
        return attempts >= self.max_attempts
