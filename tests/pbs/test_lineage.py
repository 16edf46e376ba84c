"""Lineage tags, finding an intent's earlier submission, and the lineage facts in the store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from watcher.pbs.job_ids import IdSet
from watcher.pbs.lineage import (
    Lineage,
    attempt_of,
    intent_tag,
    lineage_from_tags,
    tagged_with,
    tags,
)
from watcher.pbs.lineage_facts import lineage_of, record_lineage
from watcher.pbs.parse import parse_qstat_json
from watcher.store.db import Store, open_store


@pytest.fixture
def store() -> Iterator[Store]:
    opened = open_store("sqlite://")
    yield opened
    opened.close()


def qstat_text(jobs: dict[str, str]) -> str:
    """A qstat -f -F json answer whose jobs have the given raw Variable_List JSON text."""
    body = ",\n".join(
        f'        "{job_id}":{{\n            "Job_Name":"sim",\n'
        f'            "Variable_List":{{{variables}}}\n        }}'
        for job_id, variables in jobs.items())
    return ('{\n    "timestamp":1750369865,\n    "pbs_version":"23.06.06",\n'
            f'    "pbs_server":"srv",\n    "Jobs":{{\n{body}\n    }}\n}}\n')


def test_intent_tags_are_the_key_when_it_needs_no_quoting() -> None:
    assert intent_tag("retry-walltime|12.srv|5|0") == "retry-walltime|12.srv|5|0"
    hashed = intent_tag("a key, with 'quotes'")
    assert hashed.startswith("sha256:") and hashed == intent_tag("a key, with 'quotes'")
    assert intent_tag("12").startswith("sha256:")  # qstat would turn "12" into a number


def test_the_earlier_submission_is_found_even_when_qstat_made_the_tag_a_number() -> None:
    doc = parse_qstat_json(qstat_text({
        "20.srv": '"WATCHER_INTENT":"k|1.srv|3|0","WATCHER_RESUBMIT_OF":"1.srv"',
        "21.srv": '"WATCHER_INTENT":1.50,"WATCHER_RESUBMIT_OF":"1.srv"',
        "22.srv": '"WATCHER_INTENT":"k|1.srv|3|0","WATCHER_RESUBMIT_OF":"9.srv"',
    }))
    assert tagged_with(doc, "k|1.srv|3|0", IdSet(["1"])).id == "20.srv"
    # a float keeps the text qstat printed, so the tag compares as the string it was
    assert tagged_with(doc, "1.50", IdSet(["1.srv"])) is None  # "1.50" is hashed when tagging
    doc.jobs["21.srv"].variables["WATCHER_INTENT"] = intent_tag("1.50")
    assert tagged_with(doc, "1.50", IdSet(["1.srv"])).id == "21.srv"
    assert tagged_with(doc, "k|1.srv|3|0", IdSet(["5.srv"])) is None  # another job's lineage


def test_numbers_in_variable_lists_read_as_the_text_qstat_printed() -> None:
    doc = parse_qstat_json(qstat_text({"3.srv": '"WATCHER_ATTEMPT":2,"X":1.50'}))
    assert doc.jobs["3.srv"].variables == {"WATCHER_ATTEMPT": "2", "X": "1.50"}
    assert attempt_of(doc.jobs["3.srv"].variables) == 2


@pytest.mark.parametrize(("variables", "attempt"), [
    ({}, 0), ({"WATCHER_ATTEMPT": "3"}, 3), ({"WATCHER_ATTEMPT": "x"}, 0),
    ({"WATCHER_ATTEMPT": "-1"}, 0),
])
def test_attempts_come_from_the_tag(variables: dict[str, str], attempt: int) -> None:
    assert attempt_of(variables) == attempt


def test_lineage_from_tags_and_its_extension() -> None:
    assert lineage_from_tags("1.srv", {}) == Lineage("1.srv", ("1.srv",))
    third = lineage_from_tags("3.srv", {"WATCHER_ROOT": "1.srv", "WATCHER_RESUBMIT_OF": "2.srv"})
    assert third == Lineage("1.srv", ("1.srv", "3.srv"))
    chain = Lineage("1.srv", ("1.srv", "2.srv", "3.srv"))
    assert chain.extended("3.srv", "4.srv").chain == ("1.srv", "2.srv", "3.srv", "4.srv")
    assert chain.extended("2.srv", "5.srv").chain == ("1.srv", "2.srv", "5.srv")  # a branch
    assert tags("3.srv", chain, 3, "k") == {
        "WATCHER_RESUBMIT_OF": "3.srv", "WATCHER_ROOT": "1.srv", "WATCHER_ATTEMPT": "3",
        "WATCHER_INTENT": "k"}


def test_every_member_finds_the_whole_chain_in_the_store(store: Store) -> None:
    assert lineage_of(store, "1.srv") is None
    record_lineage(store, Lineage("1.srv", ("1.srv", "2.srv")))
    record_lineage(store, Lineage("1.srv", ("1.srv", "2.srv", "3.srv")))
    found = [lineage_of(store, job) for job in ("1.srv", "2.srv", "3.srv")]
    assert found == [Lineage("1.srv", ("1.srv", "2.srv", "3.srv"))] * 3
    assert found[0].newest == "3.srv"
