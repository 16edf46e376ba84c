"""qsub -v values reach the new job intact, or are refused (issue 11, finding 3).

Property tests over seeded random values: the watcher's spelling (`encode_value`) read back by
the simulator's qsub (`watcher.pbs.qsub_v.received`) and by an independent port of real qsub's
source (`tests/pbs/qsub_model.py`) gives the value back exactly, whatever stands around it.
"""

from __future__ import annotations

import random

import pytest

from tests.pbs import qsub_model
from watcher.pbs.qsub_v import QsubVError, comma_tokens, encode_value, received

# Every character the two passes and the server treat specially, plus ordinary ones.
ALPHABET = [*list("a=,\\\\\\'\" \n\t;{}()é€x"), "() {", ";\n"]
VALUES = 4000


def _values(seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))
            for _ in range(VALUES)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_value_arrives_intact_or_is_refused(seed: int) -> None:
    passed = 0
    for value in _values(seed):
        try:
            spelt = encode_value(value)
        except QsubVError:
            continue
        passed += 1
        for optarg, expected in (
            (f"A=1,N={spelt},M=2", [("A", "1"), ("N", value), ("M", "2")]),
            (f"N={spelt}", [("N", value)]),
            (f"N={spelt},W={spelt}", [("N", value), ("W", value)]),
        ):
            assert received(optarg, {}) == expected, (value, spelt)
            assert qsub_model.qsub_v(optarg) == expected, (value, spelt)
    assert passed > VALUES // 10  # the alphabet is quote-heavy; many must still pass


def test_what_is_refused_is_what_no_spelling_passes() -> None:
    for value, why in [("it's", "quote"), ('a"b', "quote"), ("C:\\dir", "lone backslash"),
                       ("x ", "whitespace"), ("x\n", "whitespace"), ("a\0b", "NUL"),
                       ("() { a;\n}", "function")]:
        with pytest.raises(QsubVError, match=why):
            encode_value(value)


def test_the_finding_a_trailing_backslash_no_longer_swallows_what_follows() -> None:
    """`-v 'TRAIL=x\\'` gives the job `x\\\\` (two: qsub doubles), and spelt back, keeps them
    without taking the next variables into its value."""
    assert received("TRAIL=x\\", {}) == [("TRAIL", "x\\\\")]
    spelt = encode_value("x\\\\")
    assert received(f"TRAIL={spelt},WATCHER_INTENT=k", {}) == [
        ("TRAIL", "x\\\\"), ("WATCHER_INTENT", "k")]
    # What the old spelling did: the tag went into TRAIL's value.
    assert received("TRAIL=x\\,WATCHER_INTENT=k", {}) == [("TRAIL", "x,WATCHER_INTENT=k")]


@pytest.mark.parametrize("seed", [11, 12])
def test_the_simulator_reads_lists_as_the_independent_port_does(seed: int) -> None:
    """Differential: arbitrary -v lists, refusals included."""
    rng = random.Random(seed)
    environ = {"a": "x,y\\'", "HOME": "/home/u"}
    for _ in range(3000):
        optarg = "".join(rng.choice([*list("ab=,\\'\" \n"), "HOME", "PBS_O_X="])
                         for _ in range(rng.randint(0, 14)))
        try:
            ours: object = received(optarg, environ)
        except QsubVError:
            ours = "refused"
        try:
            theirs: object = qsub_model.qsub_v(optarg, environ)
        except qsub_model.Refused:
            theirs = "refused"
        assert ours == theirs, optarg


def test_comma_tokens_switch_quotes_like_qsub() -> None:
    assert list(comma_tokens("a=1,b='x,y',c=\"p,q\",d=x\\,y,HOME")) == [
        "a=1", "b='x,y'", "c=\"p,q\"", "d=x\\,y", "HOME"]
    # `"` switches the open `'` to `"`, and the next `"` closes it: the `'` never closes.
    assert list(comma_tokens("a='x\"y\",z")) == ["a='x\"y\"", "z"]
