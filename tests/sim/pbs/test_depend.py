"""The depend attribute: -W depend parsing, the printed form, satisfied entries removed."""

from __future__ import annotations

import pytest

from watcher.sim.pbs import depend


def test_parse_several_ids_and_types() -> None:
    assert depend.parse("afterok:12:13.srv,afterany:14@srv") == [
        ("afterok", ["12", "13.srv"]), ("afterany", ["14"])]


@pytest.mark.parametrize("value", ["", "afterok", "afterok:", "afterokarray:12", "afterok:abc",
                                   "afterok:12,", "after:12::13", "on:x"])
def test_malformed_values_are_errors(value: str) -> None:
    with pytest.raises(depend.DependError):
        depend.parse(value)


@pytest.mark.parametrize("value", ["beforeok:12", "on:2", "runone:12"])
def test_valid_types_the_simulator_leaves_out_are_reported(value: str) -> None:
    with pytest.raises(depend.UnsupportedDepend):
        depend.parse(value)


def test_encode_like_qstat_prints_it() -> None:
    value = [("afterok", ["12.srv", "13.srv"]), ("beforeany", ["15.srv"])]
    assert depend.encode(value, "srv") == "afterok:12.srv@srv:13.srv@srv,beforeany:15.srv@srv"


def test_remove_drops_empty_types_and_waiting_follows() -> None:
    value: depend.Depend = []
    depend.add(value, "afterok", "1.s")
    depend.add(value, "afterok", "2.s")
    depend.add(value, "beforeok", "3.s")
    assert depend.waiting(value)
    value = depend.remove(depend.remove(value, "afterok", "1.s"), "afterok", "2.s")
    assert value == [("beforeok", ["3.s"])]
    assert not depend.waiting(value)
