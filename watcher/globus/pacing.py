"""When a Globus source may ask again: its own interval, longer after failures.

The service's loop may call more often than Globus should be asked (it runs at the PBS
interval); a source says whether it is `due`. After a failed poll (the SDK already retried
within the call) the next one waits `interval * 2**failures`, capped at `backoff_max`, so an
overloaded Globus is not hammered, and the first success restores the plain interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Pacer:
    """The next time a poll is due, on a monotonic clock (tests pass their own)."""

    interval: float
    backoff_max: float = 600.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    failures: int = 0
    next_at: float = float("-inf")

    def due(self) -> bool:
        """Whether the next request may go now (after the interval or the backoff)."""
        return self.clock() >= self.next_at

    def succeeded(self) -> None:
        """Reset the backoff: the next request waits one plain interval."""
        self.failures = 0
        self.next_at = self.clock() + self.interval

    def failed(self) -> None:
        """Count a failure: the next request waits the growing, capped backoff."""
        self.failures += 1
        self.next_at = self.clock() + self.delay()

    def delay(self) -> float:
        """How long after the last poll the next one waits."""
        if not self.failures:
            return self.interval
        return min(self.interval * 2 ** min(self.failures, 30), max(self.backoff_max,
                                                                     self.interval))
