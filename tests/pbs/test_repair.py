"""The text repairs behind the parser's slow path: they fix PBS's breakage and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watcher.pbs._repair import find_layout, job_spans, repair

FIXTURES = Path(__file__).parents[1] / "testdata" / "qstat" / "fixtures"
VALID = sorted(p for p in FIXTURES.glob("*.json") if not p.name.endswith(".fixture.json"))


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name[:40])
def test_repair_leaves_valid_output_alone(path: Path) -> None:
    text = path.read_text()
    assert json.loads(repair(text)) == json.loads(text)


@pytest.mark.parametrize(
    ("line", "fixed"),
    [
        ('    "foo":005,', '    "foo":"005",'),
        ('    "SHA":0000000000', '    "SHA":"0000000000"'),
        ('    "x":+5,', '    "x":"+5",'),
        ('    "x":0x1A,', '    "x":"0x1A",'),
        ('    "x":,', '    "x":"",'),
        ('    "x":12,', '    "x":12,'),
        ('    "x":-1.5e3,', '    "x":-1.5e3,'),
        ('    "x":"a\\,b",', '    "x":"a,b",'),
        ('    "x":"C:\\dir",', '    "x":"C:\\\\dir",'),
        ('    "x":"C:\\\\dir",', '    "x":"C:\\\\dir",'),
        ('    "x":"end\\",', '    "x":"end\\\\",'),
        ('    "x":"a "b" c",', '    "x":"a \\"b\\" c",'),
        ('    "x":"time:007,ok",', '    "x":"time:007,ok",'),
    ],
)
def test_one_line_repairs(line: str, fixed: str) -> None:
    assert repair(line) == fixed


def test_a_value_split_over_lines_is_joined() -> None:
    chunk = '{\n    "f":"() {\n  x\n}",\n    "g":1\n}'
    assert json.loads(repair(chunk)) == {"f": "() {\n  x\n}", "g": 1}


def test_job_spans_follow_the_first_key_indentation() -> None:
    text = '{\n    "Jobs":{\n        "1.s":{\n            "R":{\n                "a":1\n'
    text += '            }\n        },\n        "2.s":{\n        }\n    }\n}\n'
    layout = find_layout(text)
    assert layout is not None and layout.jobs_at is not None
    spans = job_spans(text, layout.jobs_at)
    assert [(job_id, text[begin]) for job_id, begin, _ in spans or []] == [
        ("1.s", "{"),
        ("2.s", "{"),
    ]
