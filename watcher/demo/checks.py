"""Expectations a scenario states, each judged against the facts (pure).

A check returns None when the facts meet it, else what was seen instead, so a failing demo
says which expectation failed and why: "one email saying why: got 2 emails (...)".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from watcher.demo.facts import Facts

Test = Callable[[Facts], str | None]


@dataclass(frozen=True)
class Check:
    """`expect` is what a user is promised, in a few words; `test` says what broke it."""

    expect: str
    test: Test

    def failure(self, facts: Facts) -> str | None:
        """None if `facts` meet the expectation, else `expected …, but …` for the report."""
        seen = self.test(facts)
        return None if seen is None else f"expected {self.expect}, but {seen}"


def ends(step: str) -> Check:
    """The workflow's current step is `step` (`done`, `failed`, `cancelled`)."""
    return Check(f"ends {step}",
                 lambda f: None if f.step == step else f"it is at step '{f.step}'")


def emails(*subjects: str) -> Check:
    """Exactly these emails, in this order (each subject ends with or contains its fragment)."""
    what = " then ".join(s.strip(": ") for s in subjects)
    count = "1 email" if len(subjects) == 1 else f"{len(subjects)} emails"

    def test(f: Facts) -> str | None:
        got = [e.subject for e in f.emails]
        if len(got) == len(subjects) and all(s in g for s, g in zip(subjects, got, strict=True)):
            return None
        return f"got {len(got)}: {'; '.join(got) or 'none'}"

    return Check(f"{count}: {what}", test)


def first_email_says(text: str) -> Check:
    """The first email's body contains `text`."""
    def test(f: Facts) -> str | None:
        if not f.emails:
            return "no email came"
        return None if text in f.emails[0].body else "the first email does not say it"

    return Check(f"it says '{text}'", test)


def job(role: str, *states: str) -> Check:
    """PBS has the `role` job (compute, cleanup) in one of `states`, as `job_state` words."""
    return Check(f"{role} job {' or '.join(states)}",
                 lambda f: None if f.jobs.get(role) in states
                 else f"PBS says {f.jobs.get(role, 'nothing')}")


def before(first: str, then: str, expect: str) -> Check:
    """The step-log line containing `first` comes before the one containing `then`."""
    def test(f: Facts) -> str | None:
        a, b = f.lines(first), f.lines(then)
        if not a or not b:
            return f"the step log has no '{plain(first if not a else then)}' line"
        return None if a[0] < b[0] else f"'{plain(then)}' came first"

    return Check(expect, test)


def log_count(fragment: str, n: int, expect: str) -> Check:
    """Exactly `n` step-log lines match the regular expression `fragment`."""
    return Check(expect, lambda f: None if len(f.lines(fragment)) == n
                 else f"the step log has {len(f.lines(fragment))} '{plain(fragment)}' line(s)")


def transfers(role: str, n: int, expect: str) -> Check:
    """Globus has exactly `n` tasks of the workflow in `role` (stage-in, stage-out)."""
    return Check(expect, lambda f: None if len(f.transfers_of(role)) == n
                 else f"Globus has {len(f.transfers_of(role))} {role} transfer(s)")


def pbs_jobs(n: int, expect: str) -> Check:
    """PBS lists exactly `n` jobs of the workflow, finished ones included."""
    return Check(expect, lambda f: None if f.pbs_jobs == n
                 else f"PBS lists {f.pbs_jobs} job(s) of the workflow")


def flag(name: str, wanted: bool, expect: str) -> Check:
    """A boolean fact (`output_arrived`, `compute_ran`, `cleanup_ran`) is `wanted`."""
    return Check(expect, lambda f: None if getattr(f, name) == wanted
                 else f"it {'did not happen' if wanted else 'happened'}")


def plain(pattern: str) -> str:
    """A step-log pattern as people read it: `^compute job \\S+ released` -> `compute job …
    released` (a line is matched as `<step> <text>`, `^` anchors it at the step)."""
    return pattern.removeprefix("^").replace(r"\S+", "…").replace("\\", "")


def failures(checks: Sequence[Check], facts: Facts) -> list[str]:
    """Every broken expectation, in the order the scenario states them."""
    return [problem for check in checks if (problem := check.failure(facts)) is not None]
