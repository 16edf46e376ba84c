"""Every state, substate and Exit_status named in docs/pbs-facts.md has words of its own."""

from __future__ import annotations

import pytest

from watcher.pbs.meanings import (
    TEMPLATE_HELPER,
    exit_status_meaning,
    state_meaning,
    substate_meaning,
)

FACTS_STATES = "QRHWTEFXBMSU"
FACTS_SUBSTATES = [
    10, 11, 13, 14, 15, 16, 20, 21, 22, 30, 37, 41, 42, 43, 45, 50, 51, 52, 53, 54,
    56, 57, 58, 59, 60, 61, 62, 63, 69, 70, 71, 72, 91, 92, 93, 94, 153,
]  # fmt: skip
FACTS_EXEC_CODES = [0, *range(-1, -8, -1), *range(-10, -31, -1)]


@pytest.mark.parametrize("letter", FACTS_STATES)
def test_every_state_is_known(letter: str) -> None:
    text = state_meaning(letter)
    assert text.startswith(f"{letter}: ")
    assert "unknown" not in text


@pytest.mark.parametrize("substate", FACTS_SUBSTATES)
def test_every_substate_is_known(substate: int) -> None:
    text = substate_meaning(substate)
    assert text.startswith(f"{substate}: ")
    assert "unknown" not in text


@pytest.mark.parametrize("code", FACTS_EXEC_CODES)
def test_every_exec_code_is_known(code: int) -> None:
    text = exit_status_meaning(code)
    assert text.startswith(f"{code}: ")
    assert "unknown" not in text
    assert "exited with" not in text


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (0, "0: success"),
        (-29, "-29: walltime exceeded"),
        (-27, "-27: mem exceeded"),
        (271, "271: killed by signal 15 (SIGTERM)"),
        (265, "265: killed by signal 9 (SIGKILL)"),
        (3, "3: the job script exited with 3"),
        (255, "255: the job script exited with 255"),
        (137, "137: the job script exited with 137 (often a command killed by signal 9 (SIGKILL))"),
        (-99, "-99: unknown PBS execution error"),
        (None, "no exit status (deleted before it ran)"),
    ],
)
def test_exit_status_in_words(code: int | None, expected: str) -> None:
    assert exit_status_meaning(code) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (54, "54: being aborted by the server"),
        ("93", "93: failed (non-zero exit)"),
        (22, "22: held, waiting on a dependency"),
        (99, "99: unknown substate"),
        ("abc", "abc: not a PBS substate"),
        (None, "no substate"),
    ],
)
def test_substate_in_words(value: int | str | None, expected: str) -> None:
    assert substate_meaning(value) == expected


def test_unknown_state_is_said_to_be_unknown() -> None:
    assert state_meaning("Z") == "Z: unknown state"
    assert state_meaning(None) == "no state"


def test_template_helper_exposes_the_three_lookups() -> None:
    assert TEMPLATE_HELPER.exit_status(-29) == exit_status_meaning(-29)
    assert TEMPLATE_HELPER.substate(42) == "42: running"
    assert TEMPLATE_HELPER.state("F") == "F: finished"
