"""qstat's JSON writer: types guessed like strtod, escaping like pbs_json.c, PBS spacing."""

from __future__ import annotations

import json

import pytest

from watcher.sim.pbs import pbsjson


@pytest.mark.parametrize("value", ["0", "12", "-29", "271", "0.6334", "1e5", "0.5", "00",
                                   "0000000", "-3", " 12", "12 ", "inf", "nan", ".5", "+5",
                                   "0x0", "1.", "1750329438"])
def test_numeric_looking_values_are_printed_bare(value: str) -> None:
    assert pbsjson.is_numeric(value)
    assert pbsjson.scalar(value) == value


@pytest.mark.parametrize("value", ["005", "007", "0x1A", "1e", "0x", "", "  ", "abc",
                                   "00:05:00", "1:ncpus=1", "True", "1_000", "12abc", "5gb"])
def test_other_values_are_strings(value: str) -> None:
    assert not pbsjson.is_numeric(value)
    assert pbsjson.scalar(value).startswith('"')


def test_leading_zero_values_that_are_all_zeros_make_invalid_json_as_real_pbs_does() -> None:
    text = pbsjson.document(1, "23.06.06", "srv", [("1.srv", [("SHA", "0000000")])])
    assert '"SHA":0000000' in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


@pytest.mark.parametrize(("raw", "printed"), [
    ('say "hi"', 'say \\"hi\\"'),
    ('"first', '"first'),  # pbs_json.c never escapes a quote in the first position
    ("tab\there", "tab\\there"),
    ("line\nbreak", "line\\nbreak"),
    ("a\\'b", "a'b"),
    ("a\\,b", "a,b"),
    ("C:\\dir", "C:\\dir"),  # copied verbatim: an invalid JSON escape, as seen on Polaris
    ("plain", "plain"),
])
def test_strings_are_escaped_only_partly(raw: str, printed: str) -> None:
    assert pbsjson.escape(raw) == printed


def test_document_has_pbs_layout_and_no_jobs_key_when_empty() -> None:
    assert pbsjson.document(1750368487, "23.06.06", "pbs", []) == (
        '{\n    "timestamp":1750368487,\n    "pbs_version":"23.06.06",\n'
        '    "pbs_server":"pbs"\n}\n')


def test_document_nests_jobs_and_resources_with_four_space_indent() -> None:
    tree = [("Job_Name", "123"), ("Resource_List", [("ncpus", "1"), ("place", "pack")])]
    text = pbsjson.document(5, "v", "s", [("1.s", tree)])
    assert text.splitlines()[4:] == [
        '    "Jobs":{', '        "1.s":{', '            "Job_Name":123,',
        '            "Resource_List":{', '                "ncpus":1,',
        '                "place":"pack"', "            }", "        }", "    }", "}"]
    assert json.loads(text)["Jobs"]["1.s"]["Job_Name"] == 123
