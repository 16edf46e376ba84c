"""Pydantic validation errors, retold as `Problem`s in the rule-file voice.

Pydantic says "Extra inputs are not permitted" at `('stat',)`; users should read
"unknown key 'stat' (did you mean 'state'?)" on the line of `stat:`. This module maps each
pydantic error type to such a phrase and finds the allowed keys of the model at an error's
location for the suggestion.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, RootModel, ValidationError
from pydantic_core import ErrorDetails

from watcher.lang.errors import DataPath, Problem, expected_one_of, type_word, unknown_key

_EXPECTED = {
    "string_type": "expected a string", "int_type": "expected an integer",
    "int_parsing": "expected an integer", "int_from_float": "expected a whole number",
    "float_type": "expected a number", "float_parsing": "expected a number",
    "bool_type": "expected true or false", "bool_parsing": "expected true or false",
    "dict_type": "expected a mapping", "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping", "list_type": "expected a list",
}


def problems_from(
    exc: ValidationError,
    model: type[BaseModel],
    skip: Callable[[ErrorDetails], bool] = lambda err: False,
) -> list[Problem]:
    """Every error of `exc` (raised validating `model`) as a Problem, paths relative to it."""
    return [_problem(err, model) for err in exc.errors() if not skip(err)]


def _problem(err: ErrorDetails, model: type[BaseModel]) -> Problem:
    loc: DataPath = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        return Problem(loc, unknown_key(loc[-1], allowed_keys(model, loc[:-1])), at_key=True)
    if kind == "missing":
        return Problem(loc[:-1], f"missing required key '{loc[-1]}'", at_key=True)
    return Problem(loc, _message(err), at_key=not loc)


def _message(err: ErrorDetails) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"]))
    if kind in ("literal_error", "enum"):
        return expected_one_of(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))),
                               err["input"])
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s)"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return f"expected a number {_BOUNDS[kind]} {next(iter(ctx.values()))}" + _got(err)
    expected = _EXPECTED.get(kind)
    message = expected or err["msg"][:1].lower() + err["msg"][1:]
    return message + _got(err)


_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=",
           "less_than": "<"}


def _got(err: ErrorDetails) -> str:
    value = err.get("input")
    if isinstance(value, dict | list) or value is None:
        return f" but got {type_word(value)}"
    return f" but got '{value}'"


def allowed_keys(model: type[BaseModel], loc: DataPath) -> list[str]:
    """The keys the mapping at `loc` inside `model` accepts (for did-you-mean)."""
    annotation: Any = model
    for part in loc:
        annotation = _step(_unwrap(annotation), part)
        if annotation is None:
            return []
    target = _unwrap(annotation)
    if isinstance(target, type) and issubclass(target, BaseModel) and \
            not issubclass(target, RootModel):
        return [field.alias or name for name, field in target.model_fields.items()
                if not field.exclude]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            annotation = options[0] if options else None
        else:
            return annotation


def _step(annotation: Any, part: str | int) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list and isinstance(part, int):
        return args[0]
    if origin is dict and args:
        return args[1]
    return None
