from __future__ import annotations

import pytest

from watcher.sim.globus.faults import Faults, Flaky


def test_share_is_deterministic() -> None:
    rule = Flaky(status=429, share=0.5)
    assert [rule.hit("transfer") for _ in range(6)] == [False, True] * 3


def test_count_limits_a_burst_and_service_scopes_it() -> None:
    faults = Faults(flaky=Flaky(status=503, count=2))
    assert faults.flaky_hit("auth") is None
    assert [faults.flaky_hit("transfer") is not None for _ in range(3)] == [True, True, False]
    assert faults.flaky is None  # a spent burst is dropped


@pytest.mark.parametrize("kwargs", [{"share": 0}, {"share": 1.5}, {"status": 200},
                                    {"service": "groups"}])
def test_invalid_rules_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Flaky(**kwargs)


def test_credentials_expire_per_endpoint_or_everywhere() -> None:
    faults = Faults(expired={("u1", "ep1"), ("u2", "*")})
    assert faults.credentials_expired("u1", "ep1")
    assert not faults.credentials_expired("u1", "ep2")
    assert faults.credentials_expired("u2", "anything")
    faults.restore("u1", None)
    assert not faults.credentials_expired("u1", "ep1")
    assert faults.credentials_expired("u2", "x")


def test_round_trip_through_a_snapshot() -> None:
    faults = Faults({"ep"}, {("u", "*")}, {"ep": 10}, Flaky(429, 0.5, 3, 1, "all"))
    assert Faults.from_dict(faults.to_dict()) == faults
