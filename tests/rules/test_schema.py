"""The JSON Schema of rule files: valid itself, accepts what the loader accepts, rejects typos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from watcher.actions import ACTIONS
from watcher.lang.marks import compose
from watcher.rules.conditions import CONDITIONS
from watcher.rules.loader import load_rule_text
from watcher.rules.schema import rules_json_schema
from watcher.triggers import TRIGGERS

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "rules").glob("*.yaml"))
VALID = sorted((ROOT / "tests" / "testdata" / "rules" / "valid").glob("*.y*ml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = rules_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_there_are_examples() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES + VALID, ids=lambda p: p.name)
def test_files_the_loader_accepts_validate(validator: Any, path: Path) -> None:
    assert load_rule_text(path.read_text(), path.name).ok
    data, _ = compose(path.read_text())  # YAML 1.2 style, as editors read it: 18:00 a string
    errors = [e.message for e in validator.iter_errors(data)]
    assert errors == []


def rule(**fields: Any) -> dict[str, Any]:
    return {"rules": [{"name": "r", "when": {"pbs_job": {"state": "F"}},
                       "do": [{"qdel": {"job": "1.srv"}}], **fields}]}


@pytest.mark.parametrize("document", [
    rule(),
    rule(when="source_down", do={"qrls": {"job": "{{ vars.j }}"}}),
    rule(when={"source_up": "pbs"}, conditions={"template": "job.run_count > 1"}),
    rule(do=[{"qhold": {"job": "1.srv", "hold": "{{ vars.hold }}"}}]),  # templates anywhere
    rule(**{"for": "1h30m", "cooldown": 90, "max_fires": 2, "vars": {"a": [1, 2]}}),
    rule(when={"pbs_job": {"id": 1234, "exit_status": [0, ">= 256"], "from": {"state": "R"}}}),
    {"rules": None},
])
def test_accepts(validator: Any, document: dict[str, Any]) -> None:
    assert [e.message for e in validator.iter_errors(document)] == []


@pytest.mark.parametrize("document", [
    rule(when={"pbs_jobs": {"state": "F"}}),
    rule(when={"pbs_job": {"stat": "F"}}),
    rule(when={"source_down": {"source": "pbss"}}),
    rule(do=[{"qrel": {"job": "1"}}]),
    rule(do=[{"qrls": {"jobb": "1"}}]),
    rule(do=[{"qrls": {"job": "1"}, "qdel": {"job": "2"}}]),
    rule(do=[]),
    rule(do=[{"qhold": {"job": "1", "hold": "q"}}]),
    rule(conditions=[{"time": {"weekdays": ["thurs"]}}]),
    rule(conditions=[{"time": {"after": "25:00"}}]),
    rule(name="has space"),
    rule(wen="typo"),
    rule(source="x.yaml"),
    rule(**{"for": "soon"}),
    {"rule": []},
])
def test_rejects(validator: Any, document: dict[str, Any]) -> None:
    assert list(validator.iter_errors(document))


def test_registries_feed_the_schema() -> None:
    defs = rules_json_schema()["$defs"]
    assert defs["Trigger"]["oneOf"][0] == {"enum": list(TRIGGERS)}
    assert defs["Condition"]["oneOf"][0] == {"enum": list(CONDITIONS)}
    assert defs["ActionCall"]["oneOf"][0] == {"enum": list(ACTIONS)}
    assert "source" not in defs["Rule"]["properties"]
    assert "for" in defs["Rule"]["properties"]
