"""Failpoints: named places where a crash test can make the watcher die on purpose.

`WATCHER_FAILPOINTS="after-claim=0.2,after-execute=0.2,mid-email=0.1"` makes the process
SIGKILL itself at those points with those probabilities (`WATCHER_FAILPOINTS_SEED` makes it
repeatable). Unset, a failpoint is one dictionary lookup. This is how the exactly-once claims
are proven on the real process (tests/service/test_crash.py), in the manner of etcd's gofail.
"""

from __future__ import annotations

import os
import random
import signal
import sys

_rates: dict[str, float] | None = None
_rng = random.Random()


def _load() -> dict[str, float]:
    spec = os.environ.get("WATCHER_FAILPOINTS", "")
    rates = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, rate = item.partition("=")
        rates[name] = float(rate or 1)
    seed = os.environ.get("WATCHER_FAILPOINTS_SEED")
    if seed is not None:
        _rng.seed(f"{seed}:{os.getpid()}")
    return rates


def failpoint(name: str) -> None:
    """Die here (SIGKILL, no cleanup, like a power cut) if the environment asks for it."""
    global _rates
    if _rates is None:
        _rates = _load()
    rate = _rates.get(name)
    if rate and _rng.random() < rate:
        print(f"failpoint {name}: killing pid {os.getpid()}", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
