"""Reading a workflow file (`watcher stage submit -f wf.yaml`), with errors that name the file,
the line and the field, in the voice of rule files (`file:line:col: field: message`)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from watcher.lang.errors import RuleError, field_path, type_word
from watcher.lang.limits import LimitError
from watcher.lang.marks import compose
from watcher.lang.validation import problems_from
from watcher.workflows.spec import WorkflowSpec


class SpecFileError(Exception):
    """A workflow file that cannot be used; `errors` are positioned like rule-file errors."""

    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


def load_spec_file(path: Path) -> WorkflowSpec:
    """The spec in `path`; raises `SpecFileError` listing every problem found."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecFileError([RuleError(path, None, None, "", f"cannot read: {exc.strerror}")]
                            ) from exc
    return load_spec_text(text, path)


def load_spec_text(text: str, path: Path) -> WorkflowSpec:
    """The spec in `text`, its errors named after `path` (an HTTP submission has no file)."""
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
    try:
        return WorkflowSpec.model_validate(data)
    except ValidationError as exc:
        errors = []
        for problem in problems_from(exc, WorkflowSpec):
            where = marks.locate(problem.path, problem.at_key) or (None, None)
            errors.append(RuleError(path, where[0], where[1], field_path(problem.path),
                                    problem.message))
        raise SpecFileError(errors) from exc
