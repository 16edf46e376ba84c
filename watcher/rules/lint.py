"""Lint: rules that load but can never fire, each with why (warnings, not errors).

Pure: each check looks at one validated trigger or condition and returns `Problem`s marked as
warnings, at the data path of the field that makes it impossible. `watcher rules check` prints
them and exits 0 unless `--strict`; the service loads such rules anyway (they are valid, only
useless), so a warning never takes a rule out of force.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from watcher.globus.task_fields import STATUSES
from watcher.lang.errors import DataPath, Problem
from watcher.lang.matchers import AnyOf, Glob, Matcher
from watcher.pbs.meanings import STATES
from watcher.rules.model import Condition, Rule, Trigger

# A job has an exit status only once it ends; F and X never change again.
_ENDED_STATES = frozenset({"E", "F", "X"})
_FINAL_STATES = frozenset({"F", "X"})
_FINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED"})
# Percentages a quota can show: 0-100, and past 100 when over a soft limit.
_PERCENTS = [tenth / 10 for tenth in range(0, 2001)]


def lint_rule(rule: Rule, trigger_paths: list[DataPath], condition_paths: list[DataPath],
              at: DataPath) -> list[Problem]:
    """Every reason `rule` can never fire (or a setting of it has no effect)."""
    found: list[Problem] = []
    for trigger, path in zip(rule.when, trigger_paths, strict=True):
        found += [_warn((*path, trigger.type, *where), text) for where, text in _trigger(trigger)]
    for condition, path in zip(rule.conditions, condition_paths, strict=True):
        found += [_warn((*path, condition.type, *where), text)
                  for where, text in _condition(condition)]
    if rule.once and rule.cooldown is not None:
        found.append(_warn((*at, "cooldown"), "has no effect: with 'once: true' the rule fires "
                                              "once per subject, so it never cools down"))
    return found


def _warn(path: DataPath, message: str) -> Problem:
    return Problem(path, message, warning=True)


Finding = tuple[DataPath, str]


def _trigger(trigger: Trigger) -> Iterator[Finding]:
    config = trigger.config
    yield from _globs(config, ())
    if trigger.type == "pbs_job":
        yield from _pbs_job(config)
    elif trigger.type == "globus_task":
        yield from _from_final(config, "status", STATUSES, _FINAL_STATUSES,
                               "a finished task never changes status again")
    elif trigger.type == "quota":
        for name in ("used_percent", "files_percent"):
            matcher = getattr(config, name)
            if matcher is not None and not any(matcher.matches(p) for p in _PERCENTS):
                yield (name,), (f"never fires: {name} is a percentage (0 to 100, a little more "
                                f"when over a soft limit) and '{matcher}' holds for none")


def _pbs_job(config: Any) -> Iterator[Finding]:
    states = _matched(config.state, STATES)
    if config.exit_status is not None and not config.exit_status.matches(None) and \
            states is not None and not states & _ENDED_STATES:
        shown = ", ".join(sorted(states)) or "none"
        yield ("exit_status",), (f"never fires: a job has an exit status only once it has "
                                 f"ended (state E, F or X), and 'state: {config.state}' allows "
                                 f"only {shown}")
    yield from _from_final(config, "state", STATES, _FINAL_STATES,
                           "a finished job never changes state again")
    before = config.from_
    if before is not None and states is not None and before.state is not None:
        earlier = _matched(before.state, STATES) or set()
        only_state = all(getattr(config, name) is None for name in ("substate", "exit_status"))
        plain_from = before.substate is None and before.exit_status is None
        if earlier and earlier <= states and only_state and plain_from and \
                not earlier <= _FINAL_STATES:
            yield ("from", "state"), (f"never fires: a job in state {_list(earlier)} before "
                                      f"the change is already in 'state: {config.state}', so "
                                      "it cannot enter it")


def _from_final(config: Any, name: str, alphabet: Any, final: frozenset[str],
                why: str) -> Iterator[Finding]:
    before = getattr(config, "from_", None)
    matcher = getattr(before, name, None) if before is not None else None
    earlier = _matched(matcher, alphabet)
    if earlier and earlier <= final:
        yield ("from", name), f"never fires: {why} ({name} {_list(earlier)})"


def _condition(condition: Condition) -> Iterator[Finding]:
    config = condition.config
    if condition.type == "time" and config.after is not None and config.after == config.before:
        yield ("before",), (f"never holds: the window from {config.after:%H:%M} to "
                            f"{config.before:%H:%M} is empty ('before' is exclusive)")
    if condition.type == "subject":
        for key, matcher in config.root.items():
            yield from (((key, *where), text) for where, text in _glob_problems(matcher))


def _globs(config: BaseModel, at: DataPath) -> Iterator[Finding]:
    for name in type(config).model_fields:
        value = getattr(config, name)
        key = type(config).model_fields[name].alias or name
        if isinstance(value, Matcher):
            yield from (((*at, key, *w), text) for w, text in _glob_problems(value))
        elif isinstance(value, dict):
            for sub, item in value.items():
                if isinstance(item, Matcher):
                    yield from (((*at, key, sub, *w), text) for w, text in _glob_problems(item))
        elif isinstance(value, BaseModel):
            yield from _globs(value, (*at, key))


def _glob_problems(matcher: Matcher) -> Iterator[tuple[DataPath, str]]:
    for glob in matcher.options if isinstance(matcher, AnyOf) else [matcher]:
        if isinstance(glob, Glob) and _unclosed(glob.pattern):
            yield (), (f"glob '{glob.pattern}' has a '[' that is never closed, so it matches "
                       "only text with that '[' in it (close the set, e.g. '[0-9]', or write "
                       "'[[]' for a literal '[')")


def _unclosed(pattern: str) -> bool:
    """A `[` that starts no set (fnmatch then matches it literally)."""
    i = 0
    while i < len(pattern):
        if pattern[i] == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] in "!]":
                j += 1
            while j < len(pattern) and pattern[j] != "]":
                j += 1
            if j >= len(pattern):
                return True
            i = j
        i += 1
    return False


def _matched(matcher: Matcher | None, alphabet: Any) -> set[str] | None:
    """The values of `alphabet` the matcher takes; None when there is no matcher."""
    return None if matcher is None else {value for value in alphabet if matcher.matches(value)}


def _list(values: set[str]) -> str:
    return "/".join(sorted(values))
