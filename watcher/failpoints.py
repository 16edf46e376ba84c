"""Failpoints: named places where a crash test can make the watcher die on purpose.

`WATCHER_FAILPOINTS="after-claim=0.2,after-execute=0.2,mid-email=0.1"` makes the process
SIGKILL itself at those points with those probabilities (`WATCHER_FAILPOINTS_SEED` makes it
repeatable). The points: `after-claim` and `after-execute` (before the outcome is recorded) in
watcher.ledger.runner; `mid-email` (connected, nothing sent) and `email-accepted` (the server
has the message, the journal not yet) in watcher.mail.send. Unset, a failpoint is one dictionary
lookup. This is how the exactly-once claims are proven on the real process
(tests/service/test_crash.py), in the manner of etcd's gofail.

`shielded()` marks the one kind of stretch no design can make safe (a mail server accepted a
message the journal does not know yet): a failpoint reached by another task does not fire while
a shield is open, so crash tests inject crashes only where exactly once is promised. Failpoints
inside the stretch still fire, and their own test shows what a crash there does.

A test that kills at random moments rather than at named points sets `WATCHER_FAILPOINTS=
"on-sigusr2"` and sends SIGUSR2 instead of SIGKILL: the process SIGKILLs itself at once, or, if
a shield is open, the moment the last one closes. Before `arm()` has run (the process still
starting), SIGUSR2's default action ends the process just as abruptly.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

_rates: dict[str, float] | None = None
_rng = random.Random()
_shields: Counter[object] = Counter()  # tasks (or threads) inside a shielded stretch
_kill_owed = False  # SIGUSR2 came while a shield was open


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
    if rate and not _shielded_elsewhere() and _rng.random() < rate:
        _die(name)


def arm() -> None:
    """Install the SIGUSR2 crash if the environment asks for it (main thread only)."""
    global _rates
    if _rates is None:
        _rates = _load()
    if "on-sigusr2" in _rates:
        signal.signal(signal.SIGUSR2, _crash_on_signal)


def _crash_on_signal(_sig: int, _frame: object) -> None:
    global _kill_owed
    if _shields:
        _kill_owed = True
    else:
        _die("on-sigusr2")


def _die(name: str) -> None:
    print(f"failpoint {name}: killing pid {os.getpid()}", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def shielded() -> Iterator[None]:
    """A stretch where a crash has no safe outcome: failpoints of other tasks hold fire."""
    me = _current()
    _shields[me] += 1
    try:
        yield
    finally:
        _shields[me] -= 1
        if not _shields[me]:
            del _shields[me]
        if _kill_owed and not _shields:
            _die("on-sigusr2")


def _shielded_elsewhere() -> bool:
    me = _current()
    return any(holder is not me for holder in _shields)


def _current() -> object:
    try:
        return asyncio.current_task() or threading.get_ident()
    except RuntimeError:  # no running event loop: a plain thread
        return threading.get_ident()
