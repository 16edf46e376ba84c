"""Reading a workflow file (`watcher stage submit -f wf.yaml`), with errors that name the file,
the line and the field, in the voice of rule files (`file:line:col: field: message`).

A file with `steps:` is a graph (`watcher.workflows.graph`); one with `script:` is the
three-step shape of `watcher stage submit`'s options (`watcher.workflows.spec`), read as the
graph it is (`watcher.workflows.three_step`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from watcher.lang.errors import Problem, RuleError, field_path, type_word
from watcher.lang.limits import LimitError
from watcher.lang.marks import Marks, compose
from watcher.lang.validation import problems_from
from watcher.workflows.graph import GraphSpec, check
from watcher.workflows.spec import WorkflowSpec
from watcher.workflows.three_step import as_graph


class SpecFileError(Exception):
    """A workflow file that cannot be used; `errors` are positioned like rule-file errors."""

    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


def load_workflow_file(path: Path) -> GraphSpec:
    """The workflow in `path`, a graph (`steps:`) or the three-step shape (`script:`, made
    its graph); raises `SpecFileError` listing every problem found."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecFileError([RuleError(path, None, None, "", f"cannot read: {exc.strerror}")]
                            ) from exc
    return load_workflow_text(text, path)


def load_workflow_text(text: str, path: Path) -> GraphSpec:
    """The workflow in `text`, its errors named after `path` (an HTTP submission has no
    file)."""
    try:
        data, marks = compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise SpecFileError([RuleError(path, line, col, "", f"invalid YAML: {exc.problem}")]
                            ) from exc
    except yaml.YAMLError as exc:  # a tag or a scanner error without a mark
        raise SpecFileError([RuleError(path, None, None, "", f"invalid YAML: {exc}")]) from exc
    except LimitError as exc:  # an alias bomb, nesting past the limit: refused before building
        raise SpecFileError([RuleError(path, exc.line, exc.col, "", str(exc))]) from exc
    if not isinstance(data, dict):
        raise SpecFileError([RuleError(path, 1, 1, "", f"expected a mapping of workflow "
                                                      f"fields but got {type_word(data)}")])
    model: type[WorkflowSpec] | type[GraphSpec] = GraphSpec if "steps" in data else WorkflowSpec
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        raise SpecFileError(_errors(path, marks, _untagged(exc, model))) from exc
    if isinstance(spec, WorkflowSpec):
        return as_graph(spec)
    problems = check(spec)
    if problems:
        raise SpecFileError(sorted(_errors(path, marks, problems),
                                   key=lambda error: (error.line or 0, error.col or 0)))
    return spec


# Pydantic names the member of a union an error belongs to (`retries.int`,
# `retries.JobRetries.walltime`); users wrote neither.
_UNION_TAGS = frozenset({"int", "JobRetries", "Step", "dict[str,Step]"})


def _untagged(exc: ValidationError, model: type[WorkflowSpec] | type[GraphSpec]
              ) -> list[Problem]:
    """The problems, without union members' names and without the member the input was
    plainly not meant for (a mapping is no `int`; named steps are no `Step`)."""
    def wrong_member(err: Any) -> bool:
        loc = [str(part) for part in err["loc"]]
        if "int" in loc and err["type"] in ("int_type", "int_parsing"):
            return isinstance(err.get("input"), dict)
        if "Step" in loc and err["loc"][:2] == ("on_failure", "Step"):
            data = err.get("input")
            return err["type"] == "extra_forbidden" or (
                isinstance(data, dict) and not ({"job", "transfer"} & set(data)))
        return False

    problems = []
    for problem in problems_from(exc, model, skip=wrong_member):
        path = tuple(part for part in problem.path if part not in _UNION_TAGS)
        problems.append(Problem(path, problem.message, problem.at_key, problem.find))
    return list(dict.fromkeys(problems))


def _errors(path: Path, marks: Marks, problems: list[Problem]) -> list[RuleError]:
    errors = []
    for problem in problems:
        where = marks.locate(problem.path, problem.at_key) or (None, None)
        errors.append(RuleError(path, where[0], where[1], field_path(problem.path),
                                problem.message))
    return errors
