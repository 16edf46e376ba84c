"""The JSON Schema (draft 2020-12) of rule files, for editors that check YAML as it is typed.

Built from the same pydantic models the loader validates with, and from the TRIGGERS,
CONDITIONS and ACTIONS registries, so a new trigger or action type appears here by itself.
Point an editor at it with a first line `# yaml-language-server: $schema=<file>` in a rule file.
The schema checks shape and names; the loader checks more (durations' meaning, template syntax,
unique names across files), so `watcher rules check` stays the final word.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from watcher.actions import ACTIONS
from watcher.rules.conditions import CONDITIONS
from watcher.rules.model import Rule
from watcher.rules.parse import STEP_NAME
from watcher.triggers import TRIGGERS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# Action params are rendered before they are checked, so any field may hold a template.
_TEMPLATE = {"type": "string", "pattern": r"\{[{%#]", "description": "A Jinja2 template."}


def rules_json_schema() -> dict[str, Any]:
    """The schema of a whole rule file (`rules: [...]`)."""
    triggers = {name: t.Config for name, t in TRIGGERS.items()}
    conditions = {name: c.Config for name, c in CONDITIONS.items()}
    actions = {name: a.params for name, a in ACTIONS.items()}
    models = [Rule, *triggers.values(), *conditions.values(), *actions.values()]
    refs, top = models_json_schema([(m, "validation") for m in models],
                                   ref_template="#/$defs/{model}")
    defs: dict[str, Any] = top["$defs"]

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return refs[(model, "validation")]

    for model in actions.values():
        _allow_templates(defs[ref(model)["$ref"].rsplit("/", 1)[1]])
    defs["Trigger"] = _entries(triggers, ref, {n: t.shorthand for n, t in TRIGGERS.items()}, defs)
    defs["Condition"] = _entries(conditions, ref, {n: c.shorthand for n, c in CONDITIONS.items()},
                                 defs)
    defs["ActionCall"] = _entries(actions, ref, {}, defs, named=True)
    for unused in ("BaseModel", "RuleSource"):
        defs.pop(unused, None)
    rule = defs["Rule"]["properties"]
    rule["when"] = _one_or_list("Trigger", min_items=1)
    rule["conditions"] = _one_or_list("Condition", min_items=0)
    rule["do"] = _one_or_list("ActionCall", min_items=1)
    return {
        "$schema": DRAFT,
        "title": "watcher rule file",
        "type": "object",
        "additionalProperties": False,
        "properties": {"rules": {"type": ["array", "null"], "items": {"$ref": "#/$defs/Rule"}}},
        "$defs": defs,
    }


def _one_or_list(name: str, min_items: int) -> dict[str, Any]:
    item = {"$ref": f"#/$defs/{name}"}
    return {"anyOf": [item, {"type": "array", "items": item, "minItems": min_items}]}


def _entries(models: Mapping[str, type[BaseModel]], ref: Any, shorthands: Mapping[str, Any],
             defs: Mapping[str, Any], named: bool = False) -> dict[str, Any]:
    """Either a bare type name or a one-key mapping `{type: config}` (for actions, with an
    optional step `name` beside it)."""
    options: list[dict[str, Any]] = [{"enum": list(models)}]
    for name, model in models.items():
        value = [ref(model), {"type": "null"}]
        shorthand = shorthands.get(name)
        if shorthand:
            target = defs[ref(model)["$ref"].rsplit("/", 1)[1]]
            value.append(target["properties"][shorthand])
        properties: dict[str, Any] = {name: {"anyOf": value}}
        if named:
            properties["name"] = {"type": "string", "pattern": STEP_NAME.pattern,
                                  "description": "Names the step for later steps: steps.NAME"}
        options.append({"type": "object", "properties": properties,
                        "required": [name], "additionalProperties": False})
    return {"oneOf": options}


def _allow_templates(params: dict[str, Any]) -> None:
    """Any field that is not a free string (a number, an enum, a list) may also be a template."""
    for name, prop in params.get("properties", {}).items():
        free_string = prop.get("type") == "string" and not {"enum", "pattern", "format"} & set(
            prop)
        if not free_string:
            params["properties"][name] = {"anyOf": [prop, _TEMPLATE]}
