"""Read a timeline file: every problem at once, each as `file:line:col: field: message`.

The rule loader's tools do the work (YAML with marks, pydantic errors retold as `Problem`s), so a
timeline error reads like a rule error. The format is described in `watcher.replay.timeline`.
"""

from __future__ import annotations

import getpass
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from watcher.lang.errors import DataPath, Problem, RuleError, did_you_mean, field_path
from watcher.lang.marks import Marks, compose
from watcher.lang.validation import problems_from
from watcher.replay.schema import TimelineModel
from watcher.replay.timeline import DEFAULT_START, Expectation, Step, Timeline, offset_text


class TimelineError(Exception):
    """A timeline file had errors; `str()` lists them one a line."""

    def __init__(self, errors: Sequence[RuleError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = list(errors)


def load_timeline(path: Path, *, rule_names: Collection[str] | None = None) -> Timeline:
    """Read and check `path`. With `rule_names`, expectations must name one of those rules."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise TimelineError([RuleError(path, None, None, "", f"cannot read: {reason}")]) from exc
    return parse_timeline(text, path, rule_names=rule_names)


def parse_timeline(text: str, path: Path, *, rule_names: Collection[str] | None = None
                   ) -> Timeline:
    """Check a timeline given as text; `path` names it in errors."""
    try:
        data, marks = compose(text)
    except yaml.MarkedYAMLError as exc:
        raise TimelineError([_yaml_error(path, exc)]) from exc
    problems = list(marks.problems)
    try:
        model = TimelineModel.model_validate(data)
    except ValidationError as exc:
        problems += problems_from(exc, TimelineModel)
        raise _error(path, problems, marks, data) from None
    timeline, found = _resolve(model, path, marks, rule_names)
    if problems or found:
        raise _error(path, problems + found, marks, data)
    return timeline


def _resolve(model: TimelineModel, path: Path, marks: Marks,
             rule_names: Collection[str] | None) -> tuple[Timeline, list[Problem]]:
    start = model.start or DEFAULT_START
    user = model.user or getpass.getuser()
    problems: list[Problem] = []
    steps: list[Step] = []
    for i, raw in enumerate(model.steps):
        at = _absolute(start, raw.at)
        after = steps[-1].at if steps else start
        if at < after:
            what = "the previous step" if steps else "start"
            problems.append(Problem(("steps", i, "at"), f"{offset_text(at - start)} is before "
                                                        f"{what} ({offset_text(after - start)})"))
        jobs = None if raw.jobs is None else {
            job_id: spec.attributes(job_id, user) for job_id, spec in raw.jobs.items()}
        steps.append(Step(at, marks.line(("steps", i)), jobs, raw.error))
    until = steps[-1].at if model.until is None else _absolute(start, model.until)
    if until < steps[-1].at:
        problems.append(Problem(("until",), "is before the last step"))
    expect = None if model.expect is None else [
        Expectation(e.rule, marks.line(("expect", i)),
                    None if e.at is None else _absolute(start, e.at), e.subject, e.action,
                    dict(e.params))
        for i, e in enumerate(model.expect)]
    for i, expectation in enumerate(expect or []):
        if rule_names is not None and expectation.rule not in rule_names:
            problems.append(Problem(("expect", i, "rule"), f"no rule named '{expectation.rule}'"
                                    + did_you_mean(expectation.rule, rule_names)))
    return Timeline(path, start, user, steps, until, model.email, model.down_after,
                    expect), problems


def _absolute(start: datetime, at: timedelta | datetime) -> datetime:
    return start + at if isinstance(at, timedelta) else at


def _error(path: Path, problems: list[Problem], marks: Marks, data: Any) -> TimelineError:
    errors = []
    for problem in problems:
        where = marks.locate(_as_written(problem.path, data), problem.at_key)
        line, col = where if where else (None, None)
        errors.append(RuleError(path, line, col, field_path(problem.path), problem.message))
    return TimelineError(sorted(errors, key=lambda e: (e.line or 0, e.col or 0)))


def _as_written(path: DataPath, data: Any) -> DataPath:
    """The path with each key as YAML read it: job `12` is the number 12 in the marks."""
    written: list[str | int] = []
    for part in path:
        if isinstance(data, dict) and part not in data:
            part = next((key for key in data if str(key) == part), part)
        written.append(part)
        data = data.get(part) if isinstance(data, dict) else (
            data[part] if isinstance(data, list) and isinstance(part, int)
            and part < len(data) else None)
    return tuple(written)


def _yaml_error(path: Path, exc: yaml.MarkedYAMLError) -> RuleError:
    mark = exc.problem_mark or exc.context_mark
    message = "invalid YAML: " + (exc.problem or "")
    if mark is None:
        return RuleError(path, None, None, "", message)
    return RuleError(path, mark.line + 1, mark.column + 1, "", message)
