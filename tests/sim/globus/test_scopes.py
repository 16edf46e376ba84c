from __future__ import annotations

from watcher.sim.globus.scopes import by_resource_server, resource_server

DATA = ("urn:globus:auth:scope:transfer.api.globus.org:all"
        "[*https://auth.globus.org/scopes/abc/data_access]")


def test_resource_servers_of_the_scope_forms() -> None:
    assert resource_server("openid") == "auth.globus.org"
    assert resource_server("urn:globus:auth:scope:auth.globus.org:view_identity_set") == \
        "auth.globus.org"
    assert resource_server(DATA) == "transfer.api.globus.org"
    assert resource_server("https://auth.globus.org/scopes/1234/https") == "1234"


def test_grouping_keeps_request_order_and_dependent_scopes() -> None:
    groups = by_resource_server(f"{DATA} openid email")
    assert list(groups) == ["transfer.api.globus.org", "auth.globus.org"]
    assert groups["transfer.api.globus.org"] == [DATA]
    assert sorted(groups["auth.globus.org"]) == ["email", "openid"]
