"""Collection types, data_access consents and event details, through globus-sdk and globus-cli."""

from __future__ import annotations

import json
from pathlib import Path

import globus_sdk
import pytest
from globus_sdk.gare import to_gare
from globus_sdk.scopes import GCSCollectionScopes, TransferScopes

from tests.sim.globus.conftest import World, submit, transfer_client
from tests.sim.globus.test_globus_cli import CLIENT_ID, cli_env, globus
from watcher.sim.globus.endpoint_documents import GCS_ENDPOINT_ID

cli_env = cli_env  # the globus-cli fixture


def data_access(*collections: str) -> str:
    """Transfer's scope with each collection's data_access, as `watcher login` asks for it."""
    return str(TransferScopes.all.with_dependencies(
        [GCSCollectionScopes(c).data_access.with_optional(True) for c in collections]))


@pytest.mark.parametrize(("kind", "entity_type"), [
    ("mapped", "GCSv5_mapped_collection"), ("guest", "GCSv5_guest_collection"),
    ("gcsv5-endpoint", "GCSv5_endpoint"), ("gcp", "GCP_mapped_collection"),
    ("gcsv4", "GCSv4_host")])
def test_each_kind_has_its_entity_type_and_fields(world: World, tmp_path: Path, kind: str,
                                                  entity_type: str) -> None:
    ep = world.emu.add_endpoint(tmp_path / kind, entity_type=kind)
    doc = world.tc.get_endpoint(ep).data
    assert doc["entity_type"] == entity_type and doc["high_assurance"] is False
    assert doc["is_globus_connect"] is (kind == "gcp")
    gcsv5 = entity_type.startswith("GCSv5")
    assert (doc["gcs_manager_url"] is not None) is gcsv5
    assert doc["owner_id"] == (GCS_ENDPOINT_ID if gcsv5 and kind != "gcsv5-endpoint" else None)


def test_only_a_plain_mapped_collection_takes_a_consent(world: World, tmp_path: Path) -> None:
    for kind in ({"entity_type": "guest"}, {"high_assurance": True}):
        with pytest.raises(ValueError, match="non-high-assurance GCSv5 mapped"):
            world.emu.add_endpoint(tmp_path / "x", requires_consent=True, **kind)


def test_a_collection_without_consent_refuses_with_the_scopes_to_ask_for(
        world: World, tmp_path: Path) -> None:
    (world.src_dir / "f").write_text("f")
    locked = world.emu.add_endpoint(tmp_path / "locked", requires_consent=True)
    data = globus_sdk.TransferData(world.src, locked)
    data.add_item("/~/f", "/~/f")
    with pytest.raises(globus_sdk.TransferAPIError) as refused:
        world.tc.submit_transfer(data)
    err = refused.value
    scope = f"{TransferScopes.all}[*https://auth.globus.org/scopes/{locked}/data_access]"
    assert (err.http_status, err.code) == (403, "ConsentRequired")
    assert err.info.consent_required.required_scopes == [scope]
    assert err.info.authorization_parameters.session_message == (
        "Missing required data_access consent")
    gare = to_gare(err)  # the SDK reads it as an auth requirements error
    assert gare is not None and gare.code == "ConsentRequired"
    assert gare.authorization_parameters.required_scopes == [scope]
    with pytest.raises(globus_sdk.TransferAPIError, match="ConsentRequired"):
        world.tc.operation_ls(locked)


def test_the_consent_given_at_login_lets_transfers_through_and_survives_a_refresh(
        world: World, tmp_path: Path) -> None:
    (world.src_dir / "f").write_text("f")
    locked = world.emu.add_endpoint(tmp_path / "locked", requires_consent=True)
    tokens = world.emu.issue_tokens("alice", scopes=data_access(locked))
    tc = transfer_client(world.emu, tokens)
    assert tc.operation_ls(locked)["DATA"] == []
    world.emu.expire_access_tokens("alice")  # the next call refreshes
    data = globus_sdk.TransferData(world.src, locked)
    data.add_item("/~/f", "/~/f")
    task_id = tc.submit_transfer(data)["task_id"]
    assert world.emu.wait_task(task_id, "SUCCEEDED")


def test_a_gcsv5_endpoint_is_no_collection(world: World, tmp_path: Path) -> None:
    server = world.emu.add_endpoint(tmp_path / "server", entity_type="gcsv5-endpoint")
    with pytest.raises(globus_sdk.TransferAPIError) as refused:
        world.tc.operation_ls(server)
    assert refused.value.code == "ClientError.BadRequest.NotACollection"


def test_task_events_carry_details(world: World) -> None:
    (world.src_dir / "f").write_text("four")
    task_id = submit(world, [("/~/f", "/~/g")])
    world.emu.wait_task(task_id, "SUCCEEDED")
    events = {e["code"]: e for e in world.tc.task_event_list(task_id)}
    assert json.loads(events["STARTED"]["details"])["type"] == "GridFTP Transfer"
    assert json.loads(events["SUCCEEDED"]["details"])["bytes_transferred"] == 4


def test_globus_cli_tells_endpoints_from_collections_and_shows_event_details(
        world: World, tmp_path: Path, cli_env: dict[str, str]) -> None:
    host = world.emu.add_endpoint(tmp_path / "v4", entity_type="gcsv4", display_name="old")
    shown = globus(cli_env, "endpoint", "show", host)
    assert shown.returncode == 0 and "old" in shown.stdout, shown.stderr
    refused = globus(cli_env, "endpoint", "show", world.dst)
    assert refused.returncode != 0
    assert "Mapped Collection" in refused.stdout + refused.stderr
    (world.src_dir / "f").write_text("f")
    moved = globus(cli_env, "transfer", f"{world.src}:/f", f"{world.dst}:/f", "--jq",
                   "task_id", "--format", "UNIX")
    task_id = moved.stdout.strip()
    world.emu.wait_task(task_id, "SUCCEEDED")
    events = globus(cli_env, "task", "event-list", task_id)
    assert events.returncode == 0 and "bytes_transferred" in events.stdout, events.stderr
    assert CLIENT_ID  # the CLI logged in as its own client identity
