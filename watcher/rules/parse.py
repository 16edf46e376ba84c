"""From YAML data to `Rule`s, collecting every problem instead of stopping at the first.

`when`, `conditions` and `do` hold one-key mappings (`{pbs_job: {...}}`, `{qrls: {...}}`) whose
key names an entry of a registry; each is parsed on its own, so a bad trigger does not hide a
bad action. Paths in the returned `Problem`s are absolute data paths, so the loader can find
the line of every one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from watcher import templating
from watcher.actions import ACTIONS
from watcher.lang.errors import (
    DataPath,
    Problem,
    a,
    did_you_mean,
    expected_one_of,
    field_path,
    type_word,
    unknown_key,
)
from watcher.lang.validation import allowed_keys, problems_from
from watcher.rules import template_risks
from watcher.rules.conditions import CONDITIONS
from watcher.rules.lint import lint_rule
from watcher.rules.model import ActionCall, Condition, Rule, RuleSource, Trigger
from watcher.rules.template_check import StepResult, check_template
from watcher.rules.template_context import (
    STEP_RESULTS,
    TriggerContext,
    digest_context,
    trigger_context,
)
from watcher.triggers import TRIGGERS

Lines = Callable[[DataPath], int | None]
Parsed = tuple[Any, list[Problem]]


def _no_lines(path: DataPath) -> int | None:
    return None


@dataclass(frozen=True)
class _Kind:
    what: str
    registry: Mapping[str, Any]
    example: str
    required: bool


_KINDS = {
    "when": _Kind("trigger", TRIGGERS, "{pbs_job: {state: R}}", True),
    "conditions": _Kind("condition", CONDITIONS, "{time: {after: '08:00'}}", False),
    "do": _Kind("action", ACTIONS, "{qrls: {job: '1234.server'}}", True),
}


def item_paths(raw: Any, at: DataPath) -> list[DataPath]:
    """Where the items of a `when`/`conditions`/`do` value are: a single mapping is one item."""
    return [(*at, i) for i in range(len(raw))] if isinstance(raw, list) else [at]


def parse_entries(field: str, raw: Any, at: DataPath = (), lines: Lines = _no_lines) -> Parsed:
    """Parse the value of `when`, `conditions` or `do`: one entry or a list of entries."""
    kind = _KINDS[field]
    items = raw if isinstance(raw, list) else [raw]
    if raw is None or (kind.required and not items):
        return None, [Problem(at, f"expected at least one {kind.what} like {kind.example}")]
    entries, problems = [], []
    named: dict[str, DataPath] = {}
    for item, path in zip(items, item_paths(raw, at), strict=True):
        entry, found = _parse_entry(field, kind, item, path, lines)
        entries.append(entry)
        problems += found
        step = getattr(entry, "name", None) if field == "do" else None
        if step is not None and step in named:
            first = named[step][-1]
            problems.append(Problem((*path, "name"), f"duplicate step name '{step}' (first at "
                                                     f"do[{first}])"))
        elif step is not None:
            named[step] = path
    return (None if problems else entries), problems


def parse_entries_or_raise(field: str, raw: Any) -> Any:
    """For `Rule.model_validate` on plain data: parsed entries pass, problems become one error."""
    parsed = (Trigger, Condition, ActionCall)
    if isinstance(raw, list) and all(isinstance(item, parsed) for item in raw):
        return raw
    entries, problems = parse_entries(field, raw)
    if problems:
        where = field_path(problems[0].path)
        raise ValueError(f"{where}: {problems[0].message}" if where else problems[0].message)
    return entries


# A step's name is used as `steps.NAME` in later steps' templates: an identifier.
STEP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _parse_entry(field: str, kind: _Kind, raw: Any, path: DataPath, lines: Lines) -> Parsed:
    step_name, problems = None, []
    if field == "do" and isinstance(raw, dict) and "name" in raw and len(raw) == 2:
        raw = dict(raw)
        step_name = raw.pop("name")
        if not isinstance(step_name, str) or not STEP_NAME.match(step_name):
            problems.append(Problem((*path, "name"), f"expected a step name of letters, digits "
                                                     f"and '_' (used as steps.NAME) but got "
                                                     f"'{step_name}'"))
    name, config, found = _one_key(kind, raw, path)
    if problems or found:
        return None, problems + found
    at = (*path, name)
    if field == "do":
        call, found = _action(name, config, at, lines)
        return (call.model_copy(update={"name": step_name}) if call else None), found
    impl = kind.registry[name]
    model, problems = _config(impl.Config, impl.shorthand, config, at)
    if model is None:
        return None, problems
    entry_type = Trigger if field == "when" else Condition
    return entry_type(type=name, config=model, line=lines(at)), []


def _one_key(kind: _Kind, raw: Any, path: DataPath) -> tuple[str, Any, list[Problem]]:
    if isinstance(raw, str):  # a bare name: `when: source_down`
        if raw in kind.registry:
            return raw, None, []
        return "", None, [Problem(path, expected_one_of(kind.registry, raw))]
    if not isinstance(raw, dict) or not raw:
        got = "an empty mapping" if raw == {} else type_word(raw)
        return "", None, [Problem(path, f"expected {a(kind.what)} like {kind.example} "
                                        f"but got {got}")]
    known = [key for key in raw if key in kind.registry]
    if len(raw) > 1 and len(known) == 1:  # usually a key indented one level too little
        return "", None, [
            Problem((*path, key), f"unexpected key '{key}' next to '{known[0]}': {a(kind.what)} "
                                   f"has one key (indent '{key}' under '{known[0]}' if it "
                                   "belongs to it)", at_key=True)
            for key in raw if key != known[0]]
    if len(raw) > 1:
        keys = ", ".join(f"'{key}'" for key in raw)
        return "", None, [Problem(path, f"expected one {kind.what} per item but got {len(raw)} "
                                        f"keys: {keys} (write them as separate list items)")]
    name, config = next(iter(raw.items()))
    if name not in kind.registry:
        return "", None, [Problem((*path, name), expected_one_of(kind.registry, name), True)]
    return name, config, []


def _config(model: type[BaseModel], shorthand: str | None, raw: Any, at: DataPath) -> Parsed:
    short = shorthand is not None and raw is not None and not isinstance(raw, dict)
    raw = {} if raw is None else {shorthand: raw} if short else raw
    if not isinstance(raw, dict):
        return None, [Problem(at, f"expected a mapping but got {type_word(raw)}")]
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        problems = problems_from(exc, model)
    if short:  # the user wrote no `value:` key, so the message must not name one
        problems = [Problem(p.path[1:], p.message, p.at_key) for p in problems]
    return None, [problem.under(at) for problem in problems]


def _action(name: str, raw: Any, at: DataPath, lines: Lines) -> Parsed:
    params = {} if raw is None else raw
    if not isinstance(params, dict):
        return None, [Problem(at, f"expected a mapping of parameters but got {type_word(raw)}")]
    model = ACTIONS[name].params
    problems = _template_syntax(params, at)
    try:
        model.model_validate(params)
    except ValidationError as exc:
        problems += [p.under(at) for p in problems_from(exc, model, skip=_templated)]
    return (None if problems else ActionCall(type=name, params=params, line=lines(at))), problems


def _templated(err: ErrorDetails) -> bool:
    """A type error on a template value is not an error yet: it is checked after rendering."""
    return err["type"] not in ("extra_forbidden", "missing") and templating.is_template(
        err.get("input"))


def _template_syntax(value: Any, at: DataPath) -> list[Problem]:
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _template_syntax(item, (*at, key))]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _template_syntax(item, (*at, i))]
    if templating.is_template(value):
        try:
            templating.check_syntax(value)
        except templating.TemplateError as exc:
            return [Problem(at, exc.message)]
    return []


def parse_rule(raw: Any, at: DataPath, path: Path, lines: Lines = _no_lines, *,
               checked: bool = True) -> Parsed:
    """One rule from YAML data; returns (Rule or None, every problem found). `checked=False`
    skips the template names and lint (the shipped staging rules: tested, loaded each start)."""
    if not isinstance(raw, dict):
        return None, [Problem(at, "expected a rule (a mapping with name, when and do) but got "
                                  f"{type_word(raw)}")]
    data, problems, broken = dict(raw), [], set()
    if "source" in data:  # set by the loader, not by users
        allowed = [key for key in allowed_keys(Rule, ()) if key != "source"]
        problems.append(Problem((*at, "source"), unknown_key("source", allowed), True))
    for field in _KINDS:
        if field in data:
            entries, found = parse_entries(field, data[field], (*at, field), lines)
            problems += found
            data[field] = entries
            broken.update([field] if found else [])
    if not broken & {"when", "conditions"}:
        problems += _subject_fields(data.get("when"), data.get("conditions"),
                                    raw.get("conditions"), (*at, "conditions"))
    kinds = _trigger_types(data.get("when"), raw.get("when")) if checked else []
    if kinds:  # a broken trigger config still says which context its firings have
        problems += _template_names(kinds, data.get("conditions"), raw, at,
                                    "conditions" in broken)
    data["source"] = RuleSource(path=path, line=lines(at))
    for field in broken:
        del data[field]
    try:
        rule = Rule.model_validate(data)
    except ValidationError as exc:
        def reported(err: ErrorDetails) -> bool:  # that field's entries already said why
            return bool(err["loc"]) and err["loc"][0] in broken

        return None, problems + [p.under(at) for p in problems_from(exc, Rule, reported)]
    if problems or not checked:
        return (None if problems else rule), problems
    return rule, [*lint_rule(rule, item_paths(raw["when"], (*at, "when")),
                             item_paths(raw.get("conditions") or [], (*at, "conditions")), at),
                  *template_risks.warnings(rule, item_paths(raw["do"], (*at, "do")))]


def _trigger_types(parsed: list[Trigger] | None, raw: Any) -> list[str]:
    if parsed:
        return [trigger.type for trigger in parsed]
    items = raw if isinstance(raw, list) else [raw]
    names = [next(iter(item)) if isinstance(item, dict) and len(item) == 1 else item
             for item in items]
    if any(not isinstance(name, str) or name not in TRIGGERS for name in names):
        return []  # an unknown trigger: its context is not known, so nothing is checked
    return names


def _template_names(kinds: list[str], conditions: list[Condition] | None, raw: dict,
                    at: DataPath, conditions_broken: bool) -> list[Problem]:
    """Every template's names checked against what the rule's triggers give (see
    `watcher.rules.template_check`)."""
    contexts = [trigger_context(kind) for kind in dict.fromkeys(kinds)]
    problems = []
    if conditions and not conditions_broken:
        paths = item_paths(raw.get("conditions"), (*at, "conditions"))
        for condition, path in zip(conditions, paths, strict=True):
            if condition.type == "template":
                problems += _findings(condition.config.value, contexts, (*path, "template"))
    steps = step_results(raw.get("do"))
    for step, path in zip(steps, item_paths(raw.get("do"), (*at, "do")), strict=False):
        item = raw["do"][step.index] if isinstance(raw.get("do"), list) else raw.get("do")
        params = item.get(step.action) if isinstance(item, dict) else None
        later = getattr(ACTIONS[step.action].params, "RENDERED_LATER", frozenset())
        for where, value in _strings(params, (*path, step.action)):
            if len(where) > len(path) + 1 and where[len(path) + 1] in later:
                problems += _findings(value, [digest_context()], where)
            else:
                problems += _findings(value, contexts, where, steps, step.index)
    return problems


def step_results(raw_do: Any) -> list[StepResult]:
    """The steps of a raw `do:` list, with what each gives later steps (malformed ones left
    out, so the indexes of the rest stay right)."""
    items = raw_do if isinstance(raw_do, list) else [raw_do]
    steps = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        name = item.get("name") if isinstance(item.get("name"), str) else None
        action = next((key for key in item if key in ACTIONS), None)
        if action is not None:
            steps.append(StepResult(index, name, action, STEP_RESULTS.get(action, {})))
    return steps


def _strings(value: Any, at: DataPath) -> list[tuple[DataPath, str]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _strings(item, (*at, key))]
    if isinstance(value, list):
        return [pair for i, item in enumerate(value) for pair in _strings(item, (*at, i))]
    return [(at, value)] if templating.is_template(value) else []


def _findings(source: str, contexts: list[TriggerContext], at: DataPath,
              steps: list[StepResult] | None = None, step: int | None = None) -> list[Problem]:
    return [Problem(at, finding.message, find=(finding.word, finding.occurrence))
            for finding in check_template(source, contexts, steps or [], step)]


def _subject_fields(triggers: list[Trigger] | None, conditions: list[Condition] | None,
                    raw: Any, at: DataPath) -> list[Problem]:
    """`subject` conditions may only name attributes the rule's subjects have."""
    known = [trigger.impl.attributes for trigger in triggers or []]
    if not conditions or not known or any(names is None for names in known):
        return []
    names = sorted(frozenset().union(*known))  # type: ignore[arg-type]
    kinds = "/".join(sorted({trigger.type for trigger in triggers or []}))
    problems = []
    for condition, path in zip(conditions, item_paths(raw, at), strict=True):
        for key in condition.config.root if condition.type == "subject" else ():
            if key.split(".")[0] not in names:
                message = f"unknown field '{key}' of {kinds} subjects" + did_you_mean(key, names)
                problems.append(Problem((*path, "subject", key), message, at_key=True))
    return problems
