"""Compare a replay's actions with a timeline's `expect:` list (pure).

One expectation stands for one action. Each takes the first action it matches that no other
expectation took; the most specific expectations choose first, so a loose one (only `rule:`)
cannot take the action a precise one was written for. What is left on either side is the diff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from watcher.engine.decide import Verdict
from watcher.replay.run import Decision, PlannedAction
from watcher.replay.timeline import Expectation

Fired = tuple[Decision, PlannedAction]


@dataclass(frozen=True)
class Comparison:
    """Expectations no action met (file order), and actions no expectation named (time order)."""

    missing: list[Expectation]
    unexpected: list[Fired]

    @property
    def ok(self) -> bool:
        """True when every expectation was met and nothing else fired."""
        return not self.missing and not self.unexpected


def compare(expected: Sequence[Expectation], decisions: Sequence[Decision]) -> Comparison:
    """Pair each expectation with one firing, the most specific first, so none counts twice."""
    actual = [(d, a) for d in decisions if d.verdict is Verdict.FIRE for a in d.actions]
    free = list(range(len(actual)))
    met: set[int] = set()
    for index in sorted(range(len(expected)), key=lambda i: -_specificity(expected[i])):
        hit = next((i for i in free if matches(expected[index], *actual[i])), None)
        if hit is not None:
            free.remove(hit)
            met.add(index)
    missing = [e for i, e in enumerate(expected) if i not in met]
    return Comparison(missing, [actual[i] for i in free])


def matches(expectation: Expectation, decision: Decision, action: PlannedAction) -> bool:
    """Whether the firing's rule, time, subject, action and named params are as expected."""
    e = expectation
    return (e.rule == decision.rule
            and (e.at is None or e.at == decision.at)
            and (e.subject is None or e.subject == decision.subject)
            and (e.action is None or e.action == action.type)
            and all(key in action.params and _same(value, action.params[key])
                    for key, value in e.params.items()))


def _specificity(e: Expectation) -> int:
    return sum(x is not None for x in (e.at, e.subject, e.action)) + len(e.params)


def _same(wanted: Any, actual: Any) -> bool:
    """`job: 13` in YAML is the number 13; the rendered parameter is the text "13"."""
    if wanted == actual:
        return True
    scalar = (str, int, float, bool)
    return isinstance(wanted, scalar) and isinstance(actual, scalar) and str(wanted) == str(actual)
