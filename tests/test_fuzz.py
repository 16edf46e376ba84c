"""A seeded, time-bounded fuzz suite (issue 11): mutated and generated rule files, hostile job
attributes and qstat answers, hostile `-v` values. Zero crashes, zero hangs.

Each test runs a fixed number of cases from a fixed seed, or stops at its time budget, so a
failure reproduces with the same seed and the suite stays within tens of seconds. A case that
takes longer than `SLOW` is itself a failure (a hang in the making).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.pbs import qsub_model
from tests.rules.hostile import alias_bomb
from watcher.pbs.parse import parse_qstat_json
from watcher.pbs.qsub_v import comma_tokens, received
from watcher.pbs.submit_args import SubmitArgsError, parse_submit_arguments, set_variables
from watcher.rules.loader import load_rule_text
from watcher.templating import TemplateError, render

ROOT = Path(__file__).parent.parent
SEED = 20261201
BUDGET = 6.0  # seconds per test
SLOW = 2.0  # seconds per case
SEEDS = [path.read_text() for path in sorted((ROOT / "rules").glob("*.yaml"))]
QSTAT = [path.read_text(errors="replace")
         for path in sorted((ROOT / "tests" / "testdata" / "qstat").glob("*.json"))]
NASTY = ["{{", "}}", "{%", "&a ", "*a", "<<: ", "!!binary ", "!!python/object ", "\t", "\x00",
         "\x01", "\ufeff", "é", ": ", "- ", "[", "]", "{", "}", "'", '"', "\\", "\n  ", "#",
         ".inf", "-.nan", "99999999999999999999", "1e999", "0x", "~", "? ", "|", ">"]


def cases(count: int) -> Iterator[random.Random]:
    """`count` seeded generators, stopping early at the test's time budget."""
    deadline = time.monotonic() + BUDGET
    for n in range(count):
        if time.monotonic() > deadline:
            return
        yield random.Random(f"{SEED}-{n}")


def timed(fn: Callable[[], object], what: str) -> object:
    started = time.monotonic()
    result = fn()
    assert time.monotonic() - started < SLOW, f"slow case: {what!r}"
    return result


def mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(chars) + 1)
        choice = rng.random()
        if choice < 0.4:
            chars[at:at] = rng.choice(NASTY)
        elif choice < 0.7 and chars:
            del chars[at:at + rng.randint(1, 5)]
        elif chars:  # duplicate a slice somewhere else
            start = rng.randrange(len(chars))
            chars[at:at] = chars[start:start + rng.randint(1, 80)]
    return "".join(chars)


def test_mutated_rule_files_load_or_fail_with_errors() -> None:
    for rng in cases(400):
        text = mutate(rng, rng.choice(SEEDS))
        ruleset = timed(lambda t=text: load_rule_text(t, "fuzz.yaml"), text)
        for error in ruleset.errors:  # type: ignore[attr-defined]
            assert str(error).startswith("fuzz.yaml")
            assert "could not be loaded" not in error.message, (text, error)


def test_generated_deep_and_bomb_files_are_refused_fast() -> None:
    for rng in cases(60):
        depth = rng.randint(30, 3000)
        kind = rng.randrange(4)
        if kind == 0:
            text = "rules: " + "[" * depth + "]" * depth
        elif kind == 1:
            text = "rules: []\nvars: " + "{a: " * depth + "1" + "}" * depth
        elif kind == 2:
            text = "rules: []\nvars:\n" + "".join(" " * (i + 1) + "a:\n" for i in
                                                 range(min(depth, 400))) + "  " * 401 + "b\n"
        else:
            text = alias_bomb(rng.randint(3, 12), rng.randint(2, 12))
        ruleset = timed(lambda t=text: load_rule_text(t, "gen.yaml"), text[:80])
        assert all("could not be loaded" not in e.message
                   for e in ruleset.errors)  # type: ignore[attr-defined]


def hostile_text(rng: random.Random) -> str:
    pieces = ["{{ 7*7 }}", "{% for x in range(9) %}", "\x00", "\x1b[2J", "\r\n", "é€", "'", '"',
              "\\", ",", "=", "${HOME}", "$(id)", "`id`", "x" * rng.randint(0, 5000)]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))


def test_hostile_job_attributes_are_data_never_templates() -> None:
    template = "{{ job.name }}|{{ job.comment }}|{{ job.variables.X }}"
    for rng in cases(300):
        job = {"name": hostile_text(rng), "comment": hostile_text(rng),
               "variables": {"X": hostile_text(rng)}}
        try:
            out = timed(lambda j=job: render(template, {"job": j}), str(job)[:80])
        except TemplateError as exc:  # only the output limit may refuse it
            assert "output over" in exc.message
            continue
        assert out == f"{job['name']}|{job['comment']}|{job['variables']['X']}"


def test_hostile_qstat_answers_are_parsed_or_skipped() -> None:
    for rng in cases(300):
        text = mutate(rng, rng.choice(QSTAT))
        doc = timed(lambda t=text: parse_qstat_json(t), text[:80])
        assert doc is not None


def test_hostile_v_values_in_a_resubmission_keep_the_tags() -> None:
    tags = {"WATCHER_INTENT": "r|1.srv|1|0", "WATCHER_ATTEMPT": "1"}
    for rng in cases(400):
        old = ",".join(f"V{i}={hostile_text(rng)[:40]}".replace(" ", "_")
                       for i in range(rng.randint(0, 4)))
        try:
            args = parse_submit_arguments(f"-v {old} job.sh" if old else "job.sh")
            new = set_variables(args, {"N": hostile_text(rng)[:40]}, tags=tags)
        except SubmitArgsError:
            continue  # refused before submitting: nothing is cut silently
        listed = new.values("v")[-1]
        bare = {t: "x" for t in comma_tokens(listed) if "=" not in t}  # qsub's own environment
        for got in (received(listed, bare), qsub_model.qsub_v(listed, bare)):
            assert got[:2] == list(tags.items()), (old, listed)
        assert list(comma_tokens(listed))[:2] == [f"{k}={v}" for k, v in tags.items()]


@pytest.mark.parametrize("now", [datetime(2026, 12, 1, tzinfo=UTC)])
def test_the_suite_is_seeded(now: datetime) -> None:
    """Same seed, same cases: a failure is reproduced by running it again."""
    first = [mutate(rng, SEEDS[0]) for rng in cases(3)]
    assert first == [mutate(rng, SEEDS[0]) for rng in cases(3)]
    assert json.dumps(first)  # plain text
